/*
 * stats - counters for /metrics, written without locks on the request paths.
 *
 * Each thread that answers lookups owns one struct lk_stats (stats_new()) and is its only
 * writer: it adds with a relaxed atomic load and store, which costs no more than a plain
 * increment. /metrics sums every registered struct when it is read (stats_write()), so
 * the figures are exact per thread and at most one request behind overall.
 *
 * Ownership: the structs live until stats_free_all() at exit. Nothing here fails.
 */
#ifndef RCPTDIR_LK_STATS_H
#define RCPTDIR_LK_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "lookupd/lookup.h"

enum stats_map { STATS_RCPT = 0, STATS_ACCESS, STATS_DOMAIN, STATS_HTTP, STATS_NMAPS };

#define STATS_NBUCKETS 12 /* latency buckets, the last one +Inf */

enum stats_counter {
    STATS_ACCEPTED = 0, /* socketmap connections accepted */
    STATS_REFUSED,      /* closed at once: max_connections reached */
    STATS_TIMEDOUT,     /* closed for idleness or a request not finished in time */
    STATS_PERM,         /* requests answered PERM (malformed, too long, unknown map) */
    STATS_BADKEY,       /* keys holding NUL, CR or LF */
    STATS_HTTP_REQUESTS,
    STATS_NCOUNTERS
};

struct lk_stats {
    _Atomic uint64_t lookups[STATS_NMAPS][LOOKUP_NRESULTS];
    _Atomic uint64_t bucket[STATS_NBUCKETS];
    _Atomic uint64_t duration_ns;
    _Atomic uint64_t counter[STATS_NCOUNTERS];
    /* socketmap workers only (stats_worker()): shown per worker, not summed */
    int worker;                    /* the worker's number; -1 for other threads */
    _Atomic uint64_t conns;        /* its open connections */
    _Atomic uint64_t cpu_permille; /* its CPU time over the last second, in thousandths */
    struct lk_stats *next;
};

/* Open socketmap connections, all threads. */
extern _Atomic long stats_sockmap_open;

/* stats_new - a zeroed struct for the calling thread, registered for stats_write() */
struct lk_stats *stats_new(void);
void stats_free_all(void);

/* stats_lookup - count one lookup of map with its result and duration */
void stats_lookup(struct lk_stats *s, enum stats_map map, enum lookup_result r, uint64_t ns);

/* stats_worker - mark s as socketmap worker number id's, for the per-worker gauges */
void stats_worker(struct lk_stats *s, int id);

/* stats_set - set a gauge of the calling thread's own struct */
void stats_set(_Atomic uint64_t *gauge, uint64_t v);

/* stats_inc - add one to a counter */
void stats_inc(struct lk_stats *s, enum stats_counter c);

/* stats_now_ns - CLOCK_MONOTONIC in nanoseconds */
uint64_t stats_now_ns(void);

/*
 * stats_write - the counters and histogram in Prometheus text format 0.0.4; http_open is the
 * number of open HTTP connections (-1: not shown)
 */
void stats_write(FILE *fp, long http_open);

#endif
