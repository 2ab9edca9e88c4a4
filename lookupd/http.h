/*
 * http - lookupd's HTTP server (libmicrohttpd, one internal epoll thread): JSON lookups,
 * status and Prometheus metrics (docs/protocol.md).
 *
 *   GET /v1/recipients/{address}  200 valid/unknown/disabled/foreign, 503 tempfail,
 *                                 400 malformed, 401 without the bearer token (if any)
 *   GET /v1/status                200 healthy, 503 stale, never synced or unreadable
 *   GET /metrics                  text/plain; version=0.0.4
 *   GET /v1/harvest               the harvest defence's offenders (404 without policy_listen)
 *   anything else                 404 (JSON), other methods 405
 *
 * Routes live in one table (http_routes[] in http.c); each names a handler and the token it
 * needs. /v1/snapshot and /v1/changes (replication, lookupd/feedsrv.c) use HTTP_AUTH_FEED.
 *
 * The path reaches the handlers exactly as sent (MHD's unescaping is switched off with
 * MHD_OPTION_UNESCAPE_CALLBACK: 0.9.75's default decodes "%00" into a NUL that cuts
 * "/v1/recipients/a%00b@x" to ".../a", and keeps bad escapes like "%zz" as they are);
 * http_percent_decode() decodes it and refuses bad escapes and NUL.
 *
 * Hostile clients (docs/operations.md "Hardening"): at most conn_limit connections, at most
 * HTTP_PER_IP_LIMIT (and an eighth of conn_limit) from one address (MHD refuses the rest),
 * so a few addresses cannot take
 * every slot and /v1/status still answers. A connection makes progress at least every
 * `timeout` seconds (MHD's own inactivity timeout; a feed stream whose client stops reading
 * makes none, so it is cut and its read transaction released). A request must arrive whole
 * within `request_timeout` seconds of the connection opening or of the previous answer: a
 * sweeper thread shuts down the connections that are late (MHD has no such deadline; its
 * timeout counts inactivity only, so one byte every few seconds would hold a slot forever).
 * Unknown answers of /v1/recipients are rate limited per client address (ratelimit.h): over
 * the rate, 429 with Retry-After.
 *
 * Ownership: http_start() takes the listening socket; http_stop() closes it and frees all.
 * JSON values from http_answer_json() are the caller's (json_decref()).
 */
#ifndef RCPTDIR_LK_HTTP_H
#define RCPTDIR_LK_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "lookupd/db.h"
#include "lookupd/lookup.h"
#include "lookupd/policy.h"

#define HTTP_CONN_LIMIT   512  /* connections at once (less when descriptors are few) */
#define HTTP_PER_IP_LIMIT 16   /* connections at once from one address (at most 1/8 of them) */
#define HTTP_RATE_SLOTS   4096 /* clients the unknown-answer rate limit tells apart */
#define HTTP_MEMORY_LIMIT (32 * 1024) /* per connection: longer request lines get 414 */
#define HTTP_TOKEN_MAX    4096

struct lk_http;

enum http_auth { HTTP_AUTH_NONE = 0, HTTP_AUTH_LOOKUP, HTTP_AUTH_FEED };

/* A reply: status and response, or response NULL for a JSON {"error": msg}. */
struct http_reply {
    unsigned status;
    struct MHD_Response *response;
    const char *error;
    unsigned retry_after; /* seconds for a Retry-After header; 0: none */
    /* a handler's state across a suspension: NULL at first; a handler that suspends the
     * connection (MHD_suspend_connection) sets it and suspended, queues nothing, and is called
     * again with it once resumed (only feedsrv's long poll does; feedsrv_wait_free()) */
    void *state;
    int suspended;
};

/*
 * A route. Handlers run on MHD's thread: rest is the path after the prefix (raw, not yet
 * percent-decoded), query arguments come from MHD_lookup_connection_value().
 */
typedef void (*http_handler)(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                             struct http_reply *reply);
struct http_route {
    const char *path; /* exact path, or a prefix when it ends with '/' */
    http_handler handler;
    enum http_auth auth;
};

struct http_params {
    int fd;                 /* listening socket, taken over */
    const char *token;      /* bearer token for /v1/recipients, or NULL */
    const char *feed_token; /* bearer token for the feed routes, or NULL */
    const char *version;
    long long max_age;
    unsigned conn_limit;      /* connections at once (HTTP_CONN_LIMIT or fewer) */
    unsigned timeout;         /* seconds without progress (http_timeout) */
    unsigned request_timeout; /* seconds for a whole request (http_request_timeout) */
    unsigned feed_streams;    /* feed answers streaming at once */
    unsigned unknown_rate;    /* unknown answers a second per client; 0: no limit */
    struct policy *policy;    /* the policy server for /v1/harvest and /metrics, or NULL */
    unsigned feed_waiters;    /* long polls waiting at once (their own connection slots) */
    unsigned edges_max;       /* edges the hub keeps track of (edges.h) */
    long long edge_stale_after, edge_forget_after; /* seconds (edges.h) */
};

struct lk_http *http_start(const struct http_params *p, struct lk_db *db,
                           const struct lookup_opts *opts);
void http_stop(struct lk_http *h);

/* http_percent_decode - decode src[0..len) into dst (cap bytes); length, or -1 (bad %, NUL,
 * too long) */
long http_percent_decode(char *dst, size_t cap, const char *src, size_t len);

/* http_answer_json - the body of /v1/recipients for an answer (also `lookupd -q`) */
json_t *http_answer_json(const char *addr, size_t len, const struct lookup_answer *ans);
/* http_answer_status - its HTTP status: 200, 400 or 503 */
unsigned http_answer_status(const struct lookup_answer *ans);

#endif
