/*
 * status - one snapshot of everything /v1/status, /v1/history and the status page (GET /)
 * show, filled once per request from the store, the answer counters and the policy service;
 * then serialised by one function per form: status_json() and status_history_json() here,
 * page_render() (page.h) for HTML. Nothing is computed twice: the verdict, its reason and
 * every figure come from status_fill().
 *
 * Ownership: status_fill() returns a snapshot that status_free() frees (with the harvest
 * JSON it holds). Text copied from the store (errors, sources, domains) is untrusted:
 * serialisers escape it. Nothing here fails but the store read, which the snapshot records.
 */
#ifndef RCPTDIR_LK_STATUS_H
#define RCPTDIR_LK_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lookupd/db.h"
#include "lookupd/lookup.h"
#include "lookupd/policy.h"
#include "lookupd/stats.h"
#include "schema/store.h"

#define STATUS_HIST_MAX    STORE_HIST_KEEP
#define STATUS_DOMAINS_MAX 100 /* managed domains listed (the count is always whole) */
#define STATUS_EDGES_MAX   64

enum status_verdict {
    STATUS_HEALTHY = 0,
    STATUS_FAILED,      /* fresh, but the last attempt failed or was refused */
    STATUS_STALE,       /* the last good sync is older than max_age (or there was none) */
    STATUS_UNAVAILABLE, /* the store cannot be read */
};

/* one sync attempt, copied out of the store's history (store_hist) */
struct status_sync {
    uint64_t time, duration_ms;
    enum store_hist_result result;
    uint64_t gen_before, gen_after, added, changed, removed;
    char source[STORE_HIST_SOURCE_MAX + 1];
    char error[STORE_HIST_ERROR_MAX + 1];
};

/* an edge that follows this hub and its lag, for the page (from the edges table, edges.h) */
struct status_edge {
    char name[128];
    uint64_t generation;
    long long lag; /* seconds behind; -1 unknown */
    int stale;     /* not seen for edge_stale_after */
};

/* what to read besides the store's meta */
struct status_want {
    size_t syncs;   /* history records, newest first (0: none) */
    size_t minutes; /* answers per minute, the last N (0: none; at most STATS_MINUTES) */
    int domains;    /* list the managed domains */
    int harvest;    /* the policy service's offenders */
};

struct lk_status {
    time_t now;
    const char *version; /* borrowed */
    long long max_age;
    enum lookup_freshness fresh;
    char store_error[256]; /* fresh == LOOKUP_UNREADABLE: why */
    struct store_info info;
    enum status_verdict verdict;
    char reason[STORE_META_MAX + 256];
    struct status_sync *syncs; /* nsyncs, newest first */
    size_t nsyncs, maxsyncs;
    /* the attempts of the last 24 h (the whole history is walked for it, not only syncs) */
    struct {
        uint64_t ok, refused, failed;
        uint64_t added, changed, removed; /* applied (ok ones) */
    } day;
    char (*domains)[256];
    size_t ndomains;
    struct stats_minute *minutes; /* nminutes, oldest first */
    size_t nminutes;
    uint64_t answers_hour[STATS_NKINDS]; /* the last 60 minutes (when minutes >= 60) */
    json_t *harvest;                     /* policy_harvest_json(); NULL: no policy service */
    json_t *edges_json; /* feedsrv_edges_json(): /v1/status "edges" (docs/protocol.md) */
    struct status_edge edges[STATUS_EDGES_MAX]; /* the same, for the page */
    size_t nedges;
    /* how syncd reads the directory, when it says so (syncrepl): mode "" otherwise */
    struct {
        char mode[32];        /* refresh, persist */
        int persist;          /* the persist connection is up */
        long long change_age; /* seconds since the last change arrived; -1 unknown */
    } sync;
};

/* status_fill - read everything wanted through reader rd (one thread's) */
struct lk_status *status_fill(struct lk_db *db, struct lk_reader *rd, const char *version,
                              long long max_age, struct policy *policy,
                              const struct status_want *want);
void status_free(struct lk_status *s);

/* status_verdict_name - "healthy", "last sync failed", "stale", "store unavailable" */
const char *status_verdict_name(enum status_verdict v);
/* status_verdict_of - the verdict and its reason (pure: for tests and status_fill()) */
enum status_verdict status_verdict_of(const struct lk_status *s, char *reason, size_t len);
/* status_age_text - "3 min", "2 h 5 min", "4 d 3 h" for secs seconds */
void status_age_text(char *buf, size_t len, long long secs);

/* status_json - the /v1/status object */
json_t *status_json(const struct lk_status *s);
/* status_history_json - the /v1/history object: {"syncs": [...], "minutes": [...]} */
json_t *status_history_json(const struct lk_status *s);

#endif
