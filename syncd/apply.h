/*
 * apply - turn one stream of entries into ONE LMDB write transaction (design.md "Safety").
 *
 * Every source (LDAP, LDIF, later the upstream snapshot) calls apply_entry() for each
 * entry, then apply_commit(). apply works out the difference against the store as it
 * goes (added, changed, removed addresses and domains), appends it to the change log,
 * and commits only when the source ended cleanly and the safety rules hold:
 *   - a sync that leaves no addresses is refused;
 *   - a sync that removes more than max_delete_ratio of the addresses is refused;
 * both unless forced. Refused, failed or dry runs abort the transaction: the store's data
 * and generation stay exactly as they were; only meta records the attempt.
 *
 * The generation goes up by one only when an address or domain changed; a re-sync with no
 * change writes no data (only meta times). Memory: two hash sets of 8 bytes per address
 * and per entry (common/hset.h), plus the managed domains; records stream through.
 *
 * The same address on two entries is a conflict, resolved without regard to order:
 * active beats disabled, a primary address beats an alias, then the smaller entry id.
 *
 * Ownership: apply_begin() returns a handle that apply_commit() or apply_abort() frees.
 * Errors: 0, APPLY_REFUSED, or a store error (store_strerror()); MDB_MAP_FULL means
 * "store_grow() and run the whole sync again".
 */
#ifndef RCPTDIR_APPLY_H
#define RCPTDIR_APPLY_H

#include <stdint.h>

#include "common/cfg.h"
#include "schema/store.h"
#include "syncd/entry.h"

#define APPLY_REFUSED (-30700)

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
/* apply_entry - add one mapped entry (its id, state, addresses) */
int apply_entry(struct apply *a, const struct sync_entry *e);
/*
 * apply_commit - finish: removals, domains, safety rules, change log, meta; commit or
 * (dry run, refused, error) abort. invalid: addresses the source skipped. Frees a.
 */
int apply_commit(struct apply *a, uint64_t invalid, struct apply_stats *stats);
/* apply_abort - abandon the sync; the store keeps its data. Frees a. */
void apply_abort(struct apply *a);

/*
 * Feeds from an upstream hub (syncd/src_upstream.c). After apply_begin(): apply_feed_header()
 * once with the feed's header, apply_record() for each record, and apply_commit() only when
 * the decoder verified the trailer (else apply_abort()).
 *   snapshot: the store becomes exactly the feed's 'A' addresses and 'M' domains ('E' records
 *             are ignored and the entry database emptied: only a directory sync uses it).
 *             The difference against the store is counted and the safety rules hold. The
 *             change log is emptied and its floor set to the new generation, so readers of
 *             this store that are behind take a snapshot.
 *   changes:  the feed must start at the store's generation; each record is applied in
 *             order and the effective ones appended to this store's own log under the
 *             feed's generation, so this store can serve /v1/changes in turn (chains). The
 *             safety rules hold too: a hub's forced sync must be forced on its edges.
 * Either way the store's generation becomes the feed's: edge and hub can be compared.
 * A feed older than the store is refused (APPLY_REFUSED; apply_refusal() says why) unless
 * forced; a record that cannot be right (an address key that is not normalized, the same
 * address twice in a snapshot) is APPLY_BADFEED.
 */
#define APPLY_BADFEED (-30701)

struct feed_header;
struct feed_record;

int apply_feed_header(struct apply *a, const struct feed_header *h);
int apply_record(struct apply *a, const struct feed_record *r);
/* apply_generation - the store's generation when the sync began */
uint64_t apply_generation(const struct apply *a);
/* apply_refusal - why the last call returned APPLY_REFUSED (valid until commit or abort) */
const char *apply_refusal(const struct apply *a);

/*
 * apply_note_failure - record a failed or refused attempt in meta (its own small
 * transaction): last_attempt, last_result (result), last_error (why). Data untouched.
 */
int apply_note_failure(struct store *st, const char *source, const char *result, const char *why);

#endif
