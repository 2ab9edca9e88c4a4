/*
 * apply_change - a stream of entry changes, a driver of the apply core (apply.h): add,
 * modify or delete one directory entry by its id, for sources that know what changed
 * (syncrepl, Active Directory DirSync / uSNChanged) instead of listing the whole directory.
 *
 *   apply_begin(&a, ...); apply_change_start(a);
 *   apply_change_put(a, e)             the entry is now e (added or modified): its address
 *                                      set replaces the one stored for e->id;
 *   apply_change_delete(a, id, idlen)  the entry is gone (an unknown id is no change);
 *   apply_change_sweep(a, keep)        every stored entry whose id (hset_hash) is not in
 *                                      keep is deleted: the end of an authoritative list of
 *                                      the entries that exist (a syncrepl present phase or
 *                                      full refresh), with the same safety rules;
 *   apply_commit(a, ...).
 *
 * Any sequence of changes leaves the store exactly as a full sync (apply_full.h) of the
 * resulting directory would, key by key: the same address records, entry lists and managed
 * domains. The rules are the core's: the conflict rule (when the winner of an address leaves
 * or changes, the best remaining claim takes it), the change log (one record per address
 * with its net change in this sync), the safety rules (a sync that would remove more than
 * max_delete_ratio of the addresses, or all of them, is refused unless forced), one
 * generation per sync that changed something.
 *
 * Cost: a change touches only its own keys while no address has two claimants. Once one may
 * (the store's last sync counted conflicts, or a change made one), the keys this sync
 * touched are resolved at commit in one pass over the entry database. With derived domains,
 * a sync that removed an address reads the address database until it has met an address of
 * each domain it removed from: a few keys usually, all of them when a domain lost its last.
 * The store's "conflicts" count after a change stream is the last full sync's plus those
 * the changes made (an upper bound; the next full sync counts afresh).
 *
 * Entry lists written before they carried the entry's state (store_rec.h) cannot be
 * resolved: a change that needs one is refused (APPLY_REFUSED) until a full sync rewrote
 * them. Ownership: e is borrowed for the call. Errors: as apply.h; EINVAL when another
 * driver drives the sync.
 */
#ifndef RCPTDIR_APPLY_CHANGE_H
#define RCPTDIR_APPLY_CHANGE_H

#include <stddef.h>

#include "common/hset.h"
#include "syncd/apply.h"
#include "syncd/entry.h"

int apply_change_start(struct apply *a);
int apply_change_put(struct apply *a, const struct sync_entry *e);
int apply_change_delete(struct apply *a, const char *id, size_t idlen);
int apply_change_sweep(struct apply *a, const struct hset *keep);

#endif
