/*
 * apply_int - what apply.c (directory entries, commit) and apply_feed.c (an upstream's
 * feed) share: the state of one sync. Not for other modules; they use apply.h.
 */
#ifndef RCPTDIR_APPLY_INT_H
#define RCPTDIR_APPLY_INT_H

#include <time.h>

#include "common/hset.h"
#include "syncd/apply.h"

struct apply {
    struct store *st;
    struct apply_opts o;
    MDB_txn *txn; /* the one write transaction */
    MDB_txn *pre; /* read transaction: the store as it was before this sync */
    struct hset seen_addr, seen_entry, domain_set;
    char **domains; /* derived or configured managed domains */
    char *dkinds;   /* feed snapshots: each domain's kind, 'c' or 'd' (else NULL) */
    size_t ndomains;
    struct apply_stats s;
    uint64_t gen_before;
    uint64_t log_gen; /* generation this sync's changes are logged under */
    uint64_t entry_changes;
    uint64_t log_seq;
    int feed;               /* 0, or the kind of the upstream feed (FEED_SNAPSHOT, FEED_CHANGES) */
    int logging;            /* change log enabled for this sync */
    int fresh;              /* the store was empty: nothing to compare with or remove */
    int log_dropped;        /* the log overflowed this sync and was emptied */
    struct hset conflicted; /* keys two entries claimed: logged once, at the end */
    char **ckeys;
    size_t nckeys;
    struct timespec start;
};

/* apply_log - append one change to the log under log_gen (and print it for --dry-run) */
int apply_log(struct apply *a, enum store_op op, const char *key, size_t klen, const MDB_val *rec);
/* apply_domain_note - remember a managed domain (kind: 'c', 'd', or 0 when not tracked) */
void apply_domain_note(struct apply *a, const char *dom, size_t len, char kind);
int apply_val_equal(const MDB_val *x, const MDB_val *y);
/* apply_sweep - remove every key of db this sync did not see, counting them in *removed
 * and logging each with log_op (0: not logged) */
int apply_sweep(struct apply *a, enum store_db db, const struct hset *seen, enum store_op log_op,
                uint64_t *removed);
/* apply_domains - make the domain database hold exactly the noted managed domains */
int apply_domains(struct apply *a);

/* apply_feed_finish - the end of a feed: a snapshot's removals, domains, entry and log
 * databases emptied (apply_commit then sets the log floor to the new generation) */
int apply_feed_finish(struct apply *a);

#endif
