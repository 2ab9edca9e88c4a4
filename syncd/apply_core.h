/*
 * apply_core - what the apply core (apply.c) offers its drivers: the operations a sync is
 * made of, each with its counting and change log. Drivers (apply_full.c, apply_change.c,
 * apply_feed.c) are leaves: they call these, the core never calls a driver by name, and no
 * driver calls another. Sources never include this header; they use a driver's.
 *
 * A driver attaches itself to a begun sync with apply_attach(); apply_commit() calls its
 * finish() (the driver's last writes: sweeps, domains) before counting and the safety rules,
 * and apply_commit()/apply_abort() call its free(). apply_driver_state() gives a driver its
 * state back and tells it whether the sync is its own.
 *
 * Two ways to count, one per kind of driver:
 *   - streaming (full directory, feeds): apply_addr_put()/apply_addr_del() count and log each
 *     write as it happens; a second claim on a key in the same sync goes through
 *     apply_addr_contest() (the conflict rule, accounted against the store before the sync,
 *     logged once at the end);
 *   - settled (entry changes): apply_addr_write() writes without counting, and
 *     apply_addr_settle() counts and logs a key's net change against the store before the
 *     sync, once per key at the end.
 *
 * Values read through these calls are borrowed from LMDB: valid until the next write in the
 * transaction. Errors: 0 or an LMDB / store code, as apply.h.
 */
#ifndef RCPTDIR_APPLY_CORE_H
#define RCPTDIR_APPLY_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/hset.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "syncd/entry.h"

/* ---- drivers ---- */

struct apply_driver {
    const char *name;                            /* for messages: "directory", "feed" */
    int (*finish)(struct apply *a, void *state); /* at commit, before counting (may be NULL) */
    void (*free_state)(void *state);             /* at commit or abort (may be NULL) */
};

/* apply_attach - d drives this sync (state is d's); EINVAL when a driver is attached already */
int apply_attach(struct apply *a, const struct apply_driver *d, void *state);
/* apply_driver_state - the state d attached, or NULL when d does not drive this sync */
void *apply_driver_state(const struct apply *a, const struct apply_driver *d);

/* ---- the sync ---- */

MDB_txn *apply_txn(const struct apply *a);
struct store *apply_store(const struct apply *a);
const struct apply_opts *apply_opts_of(const struct apply *a);
/* apply_stats_of - the running counts (a driver adds its own: entries_seen, conflicts) */
struct apply_stats *apply_stats_of(struct apply *a);
/* apply_fresh - 1 when the store was empty at begin: nothing to compare with or remove */
int apply_fresh(const struct apply *a);
/* apply_entries_before - entries in the store at begin (to size a driver's sets) */
uint64_t apply_entries_before(const struct apply *a);
/*
 * apply_follow - the sync brings the store to generation gen (an upstream's), changed or
 * not; logged: its changes are appended to this store's log (a change feed), else the log is
 * left for apply_log_reset() (a snapshot)
 */
void apply_follow(struct apply *a, uint64_t gen, int logged);
/* apply_log_reset - empty the log; the commit sets its floor to the new generation */
int apply_log_reset(struct apply *a);

/* ---- addresses ---- */

#define APPLY_PUT_NOOVERWRITE 0x1 /* an existing key is left alone: APPLY_KEYEXIST */
#define APPLY_PUT_APPEND      0x2 /* keys in order into an empty database (MDB_APPEND) */
#define APPLY_KEYEXIST        1

/* apply_addr_put - the key gets rec: counted as added, changed or unchanged, logged */
int apply_addr_put(struct apply *a, const char *key, size_t klen, const MDB_val *rec,
                   unsigned flags);
/* apply_addr_del - the key goes: counted and logged when it was there */
int apply_addr_del(struct apply *a, const char *key, size_t klen);
/* apply_addr_contest - another claim on a key this sync already wrote: the conflict rule
 * keeps the winner; counted against the store before the sync, logged once at commit */
int apply_addr_contest(struct apply *a, const char *key, size_t klen, const MDB_val *rec,
                       const struct rcpt *cand);
/* apply_addr_write - write rec (NULL: delete) without counting or logging */
int apply_addr_write(struct apply *a, const char *key, size_t klen, const MDB_val *rec);
/* apply_addr_get - the key's record now (borrowed); MDB_NOTFOUND or STORE_ERR_CORRUPT */
int apply_addr_get(struct apply *a, const char *key, size_t klen, MDB_val *raw, struct rcpt *r);
/* apply_addr_settle - count and log the key's net change against the store before the sync */
int apply_addr_settle(struct apply *a, const char *key, size_t klen);
/* apply_claim_wins - the conflict rule: 1 when cand beats cur */
int apply_claim_wins(const struct rcpt *cand, const struct rcpt *cur);
/* apply_sweep - remove every key of db this sync did not see (seen), counting them in
 * *removed and logging each with log_op (0: not logged) */
int apply_sweep(struct apply *a, enum store_db db, const struct hset *seen, enum store_op log_op,
                uint64_t *removed);

/* ---- entries (the "entry" database: entry id -> its addresses) ---- */

/* apply_entry_rcpt - the record of address i of e (strings borrowed from e) */
void apply_entry_rcpt(const struct sync_entry *e, size_t i, struct rcpt *r);
/* apply_stored_rcpt - the record of the index-th key (key) of a stored entry list */
void apply_stored_rcpt(const char *id, size_t idlen, const struct store_entry *se,
                       const char *primary, size_t plen, size_t index, const char *key, size_t klen,
                       struct rcpt *r);
/* apply_entry_put - the entry's list is e's: 0 written or unchanged, APPLY_KEYEXIST with
 * APPLY_PUT_NOOVERWRITE when the id is there already */
int apply_entry_put(struct apply *a, const struct sync_entry *e, unsigned flags);
/* apply_entry_get - the stored list of an entry (borrowed); MDB_NOTFOUND or STORE_ERR_CORRUPT */
int apply_entry_get(struct apply *a, const char *id, size_t idlen, struct store_entry *se);
int apply_entry_del(struct apply *a, const char *id, size_t idlen);
/* apply_entries_clear - empty the entry database (feeds: edges keep no entry lists) */
int apply_entries_clear(struct apply *a);

/* ---- managed domains ---- */

/* apply_domains_derived - 1 when the domains come from the addresses (none configured) */
int apply_domains_derived(const struct apply *a);
/* apply_domain_note - remember a managed domain for apply_domains() (kind: a store domain
 * kind, or 0: configured or derived as the options say) */
void apply_domain_note(struct apply *a, const char *dom, size_t len, char kind);
/* apply_domain_note_key - derived domains: note the domain of an address key */
void apply_domain_note_key(struct apply *a, const char *key, size_t klen);
/* apply_domains_forget - drop the noted domains (a snapshot names its own) */
void apply_domains_forget(struct apply *a);
/* apply_domains - make the domain database hold exactly the noted domains */
int apply_domains(struct apply *a);
/* apply_domain_add, apply_domain_del - one domain in or out, counted and logged */
int apply_domain_add(struct apply *a, const char *dom, size_t len);
int apply_domain_del(struct apply *a, const char *dom, size_t len);

#endif
