/*
 * apply_full - the full directory stream, a driver of the apply core (apply.h): every entry
 * of the directory in any order, then mark and sweep. What LDAP and LDIF sources feed.
 *
 *   apply_begin(&a, ...); apply_full_start(a);
 *   apply_full_entry(a, e) for each mapped entry (entry.h);
 *   apply_commit(a, ...): every stored address and entry this sync did not see is removed,
 *   the managed domains are made to match (configured, or derived from the addresses).
 *
 * An entry without addresses or id is skipped; the same entry id twice (overlapping bases)
 * counts once. Memory: two hash sets of 8 bytes per address and per entry (common/hset.h),
 * sized once from the store's previous counts; none into an empty store.
 *
 * Ownership: the driver's state is freed with the sync. Errors: as apply.h; EINVAL when
 * another driver drives the sync.
 */
#ifndef RCPTDIR_APPLY_FULL_H
#define RCPTDIR_APPLY_FULL_H

#include "syncd/apply.h"
#include "syncd/entry.h"

int apply_full_start(struct apply *a);
int apply_full_entry(struct apply *a, const struct sync_entry *e);

#endif
