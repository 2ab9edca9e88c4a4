/*
 * apply - one sync, ONE LMDB write transaction, the safety rules (design.md "Safety").
 *
 * The shape (docs/architecture.md): sources -> a driver -> this core -> the store.
 *
 *   apply_begin()    opens the write transaction and a read transaction on the store as it
 *                    was (every difference is counted against it);
 *   a driver         feeds it (each is a leaf on top of the core, apply_core.h):
 *                      apply_full.h    a whole directory, entry by entry (mark and sweep)
 *                      apply_change.h  entry changes: put or delete one entry by its id
 *                      apply_feed.h    an upstream hub's snapshot or change feed (records)
 *   apply_commit()   runs the driver's finish step, counts, applies the safety rules,
 *                    writes meta and commits; or aborts (dry run, refused, error).
 *
 * apply works out the difference against the store as it goes (added, changed, removed
 * addresses and domains), appends it to the change log, and commits only when the source
 * ended cleanly and the safety rules hold:
 *   - a sync that leaves no addresses is refused;
 *   - a sync that removes more than max_delete_ratio of the addresses is refused;
 * both unless forced. Refused, failed or dry runs abort the transaction: the store's data
 * and generation stay exactly as they were; only meta records the attempt
 * (apply_note_failure()).
 *
 * The generation goes up by one only when an address or domain changed (a feed takes the
 * upstream's generation instead); a re-sync with no change writes no data (only meta times).
 *
 * The same address on two entries is a conflict, resolved without regard to order:
 * active beats disabled, a primary address beats an alias, then the smaller entry id.
 *
 * Ownership: apply_begin() returns a handle that apply_commit() or apply_abort() frees
 * (with the driver's state). Errors: 0, APPLY_REFUSED (apply_refusal() says why),
 * APPLY_BADFEED, or a store error (store_strerror()); MDB_MAP_FULL means "store_grow() and
 * run the whole sync again".
 */
#ifndef RCPTDIR_APPLY_H
#define RCPTDIR_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "schema/err.h"
#include "schema/store.h"

/* APPLY_REFUSED (a safety rule refused the sync, or an older upstream) and APPLY_BADFEED (a
 * feed record that cannot be right, apply_feed.h) are in the error registry, schema/err.h */

struct apply_opts {
    const char *source;             /* recorded in meta, e.g. "ldap://host" */
    const struct cfg_list *domains; /* configured domains; empty: derive from addresses */
    double max_delete_ratio;
    uint64_t changelog_max;
    int force;   /* apply even when a safety rule refuses */
    int dry_run; /* compute and report, then abort */
    int print;   /* print each change on stdout ("+ key", "~ key", "- key") */
};

struct apply_stats {
    uint64_t added, changed, removed, unchanged;
    uint64_t domains_added, domains_removed;
    uint64_t conflicts;
    uint64_t entries_seen;
    uint64_t addresses, entries, domains; /* totals after the sync */
    uint64_t previous;                    /* addresses before the sync */
    uint64_t generation;                  /* after the sync */
    int committed;
    char refusal[512]; /* why it was refused */
};

struct apply;

int apply_begin(struct apply **ap, struct store *st, const struct apply_opts *o);
/*
 * apply_commit - finish: the driver's last step (removals, domains), safety rules, change
 * log, meta; commit or (dry run, refused, error) abort. invalid: addresses the source
 * skipped. Frees a.
 */
int apply_commit(struct apply *a, uint64_t invalid, struct apply_stats *stats);
/* apply_abort - abandon the sync; the store keeps its data. Frees a (NULL: nothing). */
void apply_abort(struct apply *a);

/*
 * apply_meta_get, apply_meta_put - a meta value (schema/store.h) in this sync's transaction:
 * read as the sync began, or written and committed only with the sync's data (a source's
 * resume point, e.g. a syncrepl cookie). Errors: as store_meta_get/store_meta_put.
 */
int apply_meta_get(struct apply *a, const char *name, char *buf, size_t cap);
int apply_meta_put(struct apply *a, const char *name, const char *value);

/*
 * apply_delete_window - a change stream's safety rule: this sync's removals count together
 * with those committed within the last `seconds` against max_delete_ratio, so deletes that
 * trickle in over many small syncs are refused as one big sync would be. The window slides
 * (syncd/delwin.h): removals are kept in 16 buckets of seconds/16 each and count for at least
 * `seconds` and at most one bucket more; the base is the address count before the oldest
 * removal still counted, or this sync's count before it when larger (removals cannot shrink
 * their own base). A sync applied with --force despite a refusal empties the window. It lives
 * in meta (STORE_META_DEL_WINDOW), written with the sync; a value there that is not a window
 * is logged and read as an empty one. 0 (the default): this sync alone.
 */
void apply_delete_window(struct apply *a, uint64_t seconds);

/* apply_generation - the store's generation when the sync began */
uint64_t apply_generation(const struct apply *a);
/* apply_refusal - why the last call returned APPLY_REFUSED (valid until commit or abort) */
const char *apply_refusal(const struct apply *a);

/*
 * apply_state_get / apply_state_put - a source's own state in meta under "src.NAME" (a
 * high-water mark, the server it came from): get reads it as the store was when the sync
 * began (MDB_NOTFOUND when unset; buf NUL-terminated, at most STORE_META_MAX bytes); put
 * writes it in the sync's transaction, so it is committed with the data or not at all.
 */
int apply_state_get(struct apply *a, const char *name, char *buf, size_t cap);
int apply_state_put(struct apply *a, const char *name, const char *value);

/*
 * apply_note_failure - record a failed or refused attempt in meta (its own small
 * transaction): last_attempt, last_result (result), last_error (why). Data untouched.
 */
int apply_note_failure(struct store *st, const char *source, const char *result, const char *why);
/*
 * apply_note_attempt - apply_note_failure() that also appends the attempt to the sync history
 * (store.h) with what stats says (NULL: no counts; refused: the changes it would have made)
 * and its duration; apply_note_failure() is this with neither. Committed syncs are recorded
 * by apply_commit() in their own transaction.
 */
int apply_note_attempt(struct store *st, const char *source, const char *result, const char *why,
                       const struct apply_stats *stats, uint64_t duration_ms);

#endif
