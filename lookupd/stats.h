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
#include <time.h>

#include "lookupd/lookup.h"

enum stats_map {
    STATS_RCPT = 0,
    STATS_ACCESS,
    STATS_DOMAIN,
    STATS_HTTP,
    STATS_POLICY,
    STATS_NMAPS
};

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

/*
 * Answers per minute for the status page: the last STATS_MINUTES minutes, in memory only.
 * The lookup path is not touched: stats_tick(), called about once a second by one thread
 * (the HTTP server's sweeper), sums the per-thread counters when a minute ends and keeps
 * the difference, with latency percentiles read off the histogram's buckets (so they are
 * bucket upper bounds: "at most"). stats_minutes() reads the ring under its own lock.
 */
#define STATS_MINUTES 1440 /* 24 h */

enum stats_kind {
    STATS_K_VALID = 0,
    STATS_K_UNKNOWN,
    STATS_K_DISABLED,
    STATS_K_TEMPFAIL,
    STATS_NKINDS
};

struct stats_minute {
    uint64_t minute;                 /* unix time / 60 */
    int known;                       /* 0: no data (lookupd was not running, or not yet counted) */
    uint32_t n[STATS_NKINDS];        /* answers of each kind, every map */
    uint32_t p50_us, p90_us, p99_us; /* latency percentiles (bucket bounds, us); 0: no lookups */
};

/* stats_kind_name - "valid", "unknown", "disabled", "tempfail" */
const char *stats_kind_name(enum stats_kind k);
/* stats_tick - close the minute that ended before now (unix seconds), if one did */
void stats_tick(time_t now);
/*
 * stats_minutes - the last n minutes before the current one, oldest first, into out[n]
 * (every slot written; known 0 where nothing is known). Returns n.
 */
size_t stats_minutes(struct stats_minute *out, size_t n, time_t now);

#endif
