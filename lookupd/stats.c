/*
 * stats - per-thread counters summed on read; see stats.h.
 */
#include "lookupd/stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"

_Atomic long stats_sockmap_open;

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lk_stats *stats_list;

/* Upper bounds of the latency buckets, in nanoseconds and as Prometheus writes them. */
static const uint64_t stats_bound_ns[STATS_NBUCKETS - 1] = {
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 100000000};
static const char *const stats_bound_text[STATS_NBUCKETS] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
    "0.001", "0.0025",  "0.005", "0.01",   "0.1",     "+Inf"};

static const char *const stats_counter_help[STATS_NCOUNTERS][2] = {
    {"rcptdir_sockmap_connections_accepted_total", "Socketmap connections accepted."},
    {"rcptdir_sockmap_connections_refused_total",
     "Socketmap connections closed at once because max_connections was reached."},
    {"rcptdir_sockmap_connections_timedout_total",
     "Socketmap connections closed for idleness or an unfinished request."},
    {"rcptdir_sockmap_perm_total",
     "Socketmap requests answered PERM (malformed netstring, over-long, unknown map)."},
    {"rcptdir_sockmap_bad_keys_total", "Socketmap keys holding NUL, CR or LF."},
    {"rcptdir_http_requests_total", "HTTP requests answered."},
};

struct lk_stats *stats_new(void)
{
    struct lk_stats *s = xcalloc(1, sizeof(*s));

    s->worker = -1;
    pthread_mutex_lock(&stats_mu);
    s->next = stats_list;
    stats_list = s;
    pthread_mutex_unlock(&stats_mu);
    return s;
}

void stats_free_all(void)
{
    pthread_mutex_lock(&stats_mu);
    while (stats_list != NULL) {
        struct lk_stats *s = stats_list;
        stats_list = s->next;
        free(s);
    }
    pthread_mutex_unlock(&stats_mu);
}

/* stats_add - single-writer add: a relaxed load and store, no locked instruction */
static inline void stats_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void stats_lookup(struct lk_stats *s, enum stats_map map, enum lookup_result r, uint64_t ns)
{
    size_t b = 0;

    while (b < STATS_NBUCKETS - 1 && ns > stats_bound_ns[b])
        b++;
    stats_add(&s->lookups[map][r], 1);
    stats_add(&s->bucket[b], 1);
    stats_add(&s->duration_ns, ns);
}

void stats_worker(struct lk_stats *s, int id)
{
    pthread_mutex_lock(&stats_mu); /* stats_write() reads it under the lock */
    s->worker = id;
    pthread_mutex_unlock(&stats_mu);
}

void stats_set(_Atomic uint64_t *gauge, uint64_t v)
{
    atomic_store_explicit(gauge, v, memory_order_relaxed);
}

void stats_inc(struct lk_stats *s, enum stats_counter c)
{
    stats_add(&s->counter[c], 1);
}

uint64_t stats_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* stats_map_name - "rcpt", "access", "domain", "http" */
static const char *stats_map_name(enum stats_map m)
{
    static const char *const names[STATS_NMAPS] = {"rcpt", "access", "domain", "http", "policy"};

    return m < STATS_NMAPS ? names[m] : "?";
}

/* stats_get - a relaxed read */
static uint64_t stats_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* stats_write_worker_gauge - one per-worker gauge family, in worker order (under stats_mu);
 * cpu: the CPU ratio, else the connections */
static void stats_write_worker_gauge(FILE *fp, int max, const char *name, const char *help, int cpu)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (int id = 0; id <= max; id++)
        for (struct lk_stats *s = stats_list; s != NULL; s = s->next)
            if (s->worker == id && cpu)
                fprintf(fp, "%s{worker=\"%d\"} %.3f\n", name, id,
                        (double)stats_get(&s->cpu_permille) / 1000.0);
            else if (s->worker == id)
                fprintf(fp, "%s{worker=\"%d\"} %llu\n", name, id,
                        (unsigned long long)stats_get(&s->conns));
}

/* stats_write_workers - the per-worker gauges */
static void stats_write_workers(FILE *fp)
{
    int max = -1;

    pthread_mutex_lock(&stats_mu);
    for (struct lk_stats *s = stats_list; s != NULL; s = s->next)
        max = s->worker > max ? s->worker : max;
    stats_write_worker_gauge(fp, max, "rcptdir_sockmap_worker_connections",
                             "Socketmap connections open now, by worker thread.", 0);
    stats_write_worker_gauge(fp, max, "rcptdir_sockmap_worker_cpu_ratio",
                             "CPU time of a socketmap worker thread over the last second.", 1);
    pthread_mutex_unlock(&stats_mu);
}

void stats_write(FILE *fp, long http_open)
{
    uint64_t lookups[STATS_NMAPS][LOOKUP_NRESULTS] = {{0}};
    uint64_t bucket[STATS_NBUCKETS] = {0}, counter[STATS_NCOUNTERS] = {0};
    uint64_t sum_ns = 0, cum = 0;

    pthread_mutex_lock(&stats_mu);
    for (struct lk_stats *s = stats_list; s != NULL; s = s->next) {
        for (size_t m = 0; m < STATS_NMAPS; m++)
            for (size_t r = 0; r < LOOKUP_NRESULTS; r++)
                lookups[m][r] += stats_get(&s->lookups[m][r]);
        for (size_t b = 0; b < STATS_NBUCKETS; b++)
            bucket[b] += stats_get(&s->bucket[b]);
        for (size_t c = 0; c < STATS_NCOUNTERS; c++)
            counter[c] += stats_get(&s->counter[c]);
        sum_ns += stats_get(&s->duration_ns);
    }
    pthread_mutex_unlock(&stats_mu);

    fprintf(fp, "# HELP rcptdir_lookups_total Lookups answered, by map and result.\n"
                "# TYPE rcptdir_lookups_total counter\n");
    for (size_t m = 0; m < STATS_NMAPS; m++)
        for (size_t r = 0; r < LOOKUP_NRESULTS; r++)
            fprintf(fp, "rcptdir_lookups_total{map=\"%s\",result=\"%s\"} %llu\n",
                    stats_map_name((enum stats_map)m), lookup_result_name((enum lookup_result)r),
                    (unsigned long long)lookups[m][r]);
    fprintf(fp, "# HELP rcptdir_lookup_duration_seconds Time to answer one lookup, "
                "from its request to its reply.\n"
                "# TYPE rcptdir_lookup_duration_seconds histogram\n");
    for (size_t b = 0; b < STATS_NBUCKETS; b++) {
        cum += bucket[b];
        fprintf(fp, "rcptdir_lookup_duration_seconds_bucket{le=\"%s\"} %llu\n", stats_bound_text[b],
                (unsigned long long)cum);
    }
    fprintf(fp, "rcptdir_lookup_duration_seconds_sum %.9f\n", (double)sum_ns / 1e9);
    fprintf(fp, "rcptdir_lookup_duration_seconds_count %llu\n", (unsigned long long)cum);
    for (size_t c = 0; c < STATS_NCOUNTERS; c++)
        fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", stats_counter_help[c][0],
                stats_counter_help[c][1], stats_counter_help[c][0], stats_counter_help[c][0],
                (unsigned long long)counter[c]);
    fprintf(fp,
            "# HELP rcptdir_connections_open Connections open now, by listener.\n"
            "# TYPE rcptdir_connections_open gauge\n"
            "rcptdir_connections_open{listener=\"socketmap\"} %ld\n",
            atomic_load(&stats_sockmap_open));
    if (http_open >= 0)
        fprintf(fp, "rcptdir_connections_open{listener=\"http\"} %ld\n", http_open);
    stats_write_workers(fp);
}

/* ---- answers per minute (stats.h) ---- */

static pthread_mutex_t stats_min_mu = PTHREAD_MUTEX_INITIALIZER;
static struct stats_minute stats_ring[STATS_MINUTES]; /* slot: minute % STATS_MINUTES */
static uint64_t stats_min_open;                       /* the minute being counted; 0: none */
static uint64_t stats_min_kind[STATS_NKINDS], stats_min_bucket[STATS_NBUCKETS];

const char *stats_kind_name(enum stats_kind k)
{
    static const char *const names[STATS_NKINDS] = {"valid", "unknown", "disabled", "tempfail"};

    return k < STATS_NKINDS ? names[k] : "?";
}

/* stats_kind_of - the kind a lookup result counts as on the page, or -1 (foreign, invalid) */
static int stats_kind_of(enum lookup_result r)
{
    switch (r) {
    case LOOKUP_VALID:
        return STATS_K_VALID;
    case LOOKUP_UNKNOWN:
        return STATS_K_UNKNOWN;
    case LOOKUP_DISABLED:
        return STATS_K_DISABLED;
    case LOOKUP_TEMPFAIL:
        return STATS_K_TEMPFAIL;
    default:
        return -1;
    }
}

/* stats_sum_now - the totals of every thread: kinds (all maps) and latency buckets */
static void stats_sum_now(uint64_t kind[STATS_NKINDS], uint64_t bucket[STATS_NBUCKETS])
{
    pthread_mutex_lock(&stats_mu);
    for (struct lk_stats *s = stats_list; s != NULL; s = s->next) {
        for (size_t m = 0; m < STATS_NMAPS; m++)
            for (size_t r = 0; r < LOOKUP_NRESULTS; r++) {
                int k = stats_kind_of((enum lookup_result)r);
                if (k >= 0)
                    kind[k] += stats_get(&s->lookups[m][r]);
            }
        for (size_t b = 0; b < STATS_NBUCKETS; b++)
            bucket[b] += stats_get(&s->bucket[b]);
    }
    pthread_mutex_unlock(&stats_mu);
}

/* stats_percentile_us - the upper bound (us) of the bucket holding quantile q of n lookups */
static uint32_t stats_percentile_us(const uint64_t d[STATS_NBUCKETS], uint64_t n, double q)
{
    uint64_t cum = 0;

    if (n == 0)
        return 0;
    for (size_t b = 0; b < STATS_NBUCKETS - 1; b++) {
        cum += d[b];
        if ((double)cum >= q * (double)n)
            return (uint32_t)(stats_bound_ns[b] / 1000);
    }
    return UINT32_MAX; /* beyond the last bound */
}

void stats_tick(time_t now)
{
    uint64_t minute = (uint64_t)now / 60;
    uint64_t kind[STATS_NKINDS] = {0}, bucket[STATS_NBUCKETS] = {0}, d[STATS_NBUCKETS], n = 0;
    struct stats_minute m = {0};

    pthread_mutex_lock(&stats_min_mu);
    if (minute == stats_min_open) {
        pthread_mutex_unlock(&stats_min_mu);
        return;
    }
    stats_sum_now(kind, bucket);
    if (stats_min_open != 0) {
        /* the counts since the last tick all go to the minute that was open */
        m.minute = stats_min_open;
        for (size_t k = 0; k < STATS_NKINDS; k++) {
            uint64_t v = kind[k] - stats_min_kind[k];
            m.n[k] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        }
        for (size_t b = 0; b < STATS_NBUCKETS; b++)
            n += d[b] = bucket[b] - stats_min_bucket[b];
        m.p50_us = stats_percentile_us(d, n, 0.50);
        m.p90_us = stats_percentile_us(d, n, 0.90);
        m.p99_us = stats_percentile_us(d, n, 0.99);
        stats_ring[m.minute % STATS_MINUTES] = m;
    }
    memcpy(stats_min_kind, kind, sizeof(kind));
    memcpy(stats_min_bucket, bucket, sizeof(bucket));
    stats_min_open = minute;
    pthread_mutex_unlock(&stats_min_mu);
}

size_t stats_minutes(struct stats_minute *out, size_t n, time_t now)
{
    uint64_t cur = (uint64_t)now / 60;

    pthread_mutex_lock(&stats_min_mu);
    for (size_t i = 0; i < n; i++) {
        uint64_t want = cur - n + i;
        const struct stats_minute *m = &stats_ring[want % STATS_MINUTES];
        if (i + STATS_MINUTES < n || m->minute != want) {
            memset(&out[i], 0, sizeof(out[i]));
            out[i].minute = want;
        } else {
            out[i] = *m;
            out[i].known = 1;
        }
    }
    pthread_mutex_unlock(&stats_min_mu);
    return n;
}
