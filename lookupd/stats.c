/*
 * stats - per-thread counters summed on read; see stats.h.
 */
#include "lookupd/stats.h"

#include <pthread.h>
#include <stdlib.h>
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
    static const char *const names[STATS_NMAPS] = {"rcpt", "access", "domain", "http"};

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
