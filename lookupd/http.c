/*
 * http - libmicrohttpd routes for lookups, status and metrics; see http.h.
 */
#include "lookupd/http.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "lookupd/feedsrv.h"
#include "lookupd/page.h"
#include "lookupd/ratelimit.h"
#include "lookupd/stats.h"
#include "lookupd/status.h"

/* One open connection, for the whole-request deadline (MHD's socket context). */
struct http_conn {
    int fd;          /* a duplicate of MHD's descriptor (shut down by the sweeper), or -1 */
    time_t start;    /* monotonic second the connection opened or the last answer ended */
    int busy;        /* a request is complete and being answered: no request deadline */
    int cut;         /* shut down by the sweeper */
    int stream;      /* busy with a feed stream: progress must come every stall seconds */
    time_t progress; /* monotonic second the stream last handed on a chunk */
    struct http_conn *prev, *next;
};

struct lk_http {
    struct MHD_Daemon *d;
    struct lk_db *db;
    const struct lookup_opts *opts;
    struct lk_reader rd; /* used on MHD's one thread only */
    struct lk_stats *stats;
    char *token, *feed_token;
    char *version;
    long long max_age;
    struct ratelimit *rl; /* unknown answers per client; NULL: no limit (MHD's thread only) */
    unsigned request_timeout, stall;
    pthread_mutex_t conns_mu; /* conns and each one's fields, shared with the sweeper */
    struct http_conn *conns;
    pthread_t sweeper;
    pthread_cond_t stop_cv; /* under conns_mu */
    int stopping, sweeping;
    struct policy *policy;
};

/* http_now - monotonic seconds (stats.h's clock) */
#define http_now() ((time_t)(stats_now_ns() / 1000000000u))

static void http_recipients(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                            struct http_reply *reply);
static void http_status(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                        struct http_reply *reply);
static void http_metrics(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply);
static struct MHD_Response *http_json_response(json_t *v);

/* replication (feedsrv.h): handlers there take the store handle, not struct lk_http */
static void http_snapshot(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                          struct http_reply *reply)
{
    (void)rest;
    feedsrv_snapshot(h->db, c, reply);
}

static void http_changes(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply)
{
    (void)rest;
    feedsrv_changes(h->db, c, reply);
}

/* the harvest defence (policy.h) */
static void http_harvest(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply)
{
    (void)c;
    (void)rest;
    if (h->policy == NULL) {
        reply->error = "no policy service (policy_listen is empty)";
        return;
    }
    reply->status = MHD_HTTP_OK;
    reply->response = http_json_response(policy_harvest_json(h->policy));
}

/*
 * http_text_reply - close fp, an open_memstream() of *text and *len, and answer 200 with what
 * it holds as ctype; 500 "out of memory" when that failed. 0, or -1 with no response made.
 * The text is MHD's (or freed) afterwards.
 */
static int http_text_reply(struct http_reply *reply, FILE *fp, char **text, size_t *len,
                           const char *ctype)
{
    if (fclose(fp) != 0 || *text == NULL) {
        free(*text);
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return -1;
    }
    reply->status = MHD_HTTP_OK;
    reply->response = MHD_create_response_from_buffer(*len, *text, MHD_RESPMEM_MUST_FREE);
    if (reply->response == NULL) {
        free(*text);
        return -1;
    }
    MHD_add_response_header(reply->response, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return 0;
}

/* the status page and its history (status.h, page.h) */
static void http_history(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply)
{
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    const char *minutes = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "minutes");
    struct status_want want = {.syncs = STATUS_HIST_MAX, .minutes = 60};
    struct lk_status *s;

    (void)rest;
    if (limit != NULL && (want.syncs = strtoul(limit, NULL, 10)) == 0)
        want.syncs = 1;
    if (minutes != NULL)
        want.minutes = strtoul(minutes, NULL, 10);
    s = status_fill(h->db, &h->rd, h->version, h->max_age, h->policy, &want);
    reply->status = MHD_HTTP_OK;
    reply->response = http_json_response(status_history_json(s));
    status_free(s);
}

static void http_page(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                      struct http_reply *reply)
{
    struct lk_status *s;
    char *text = NULL;
    size_t len = 0;
    FILE *fp;

    (void)c;
    if (*rest != '\0') {
        reply->status = MHD_HTTP_NOT_FOUND;
        reply->error = "not found";
        return;
    }
    if ((fp = open_memstream(&text, &len)) == NULL) {
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return;
    }
    s = status_fill(h->db, &h->rd, h->version, h->max_age, h->policy, &page_want);
    page_render(fp, s);
    status_free(s);
    if (http_text_reply(reply, fp, &text, &len, "text/html; charset=utf-8") != 0)
        return;
    MHD_add_response_header(reply->response, "Content-Security-Policy", page_csp());
    MHD_add_response_header(reply->response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(reply->response, "Referrer-Policy", "no-referrer");
}

/* The routes. */
static const struct http_route http_routes[] = {
    {"/v1/recipients/", http_recipients, HTTP_AUTH_LOOKUP},
    {"/v1/status", http_status, HTTP_AUTH_NONE},
    {"/metrics", http_metrics, HTTP_AUTH_NONE},
    {"/v1/snapshot", http_snapshot, HTTP_AUTH_FEED},
    {"/v1/changes", http_changes, HTTP_AUTH_FEED},
    {"/v1/harvest", http_harvest, HTTP_AUTH_NONE},
    {"/v1/history", http_history, HTTP_AUTH_NONE},
    {"/", http_page, HTTP_AUTH_NONE}, /* last: a prefix of everything; http_page() takes "/" only */
};

long http_percent_decode(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)src[i];

        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return -1;
            hi = str_hexval(src[i + 1]);
            lo = str_hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch == 0 || n + 1 >= cap)
            return -1;
        dst[n++] = (char)ch;
    }
    dst[n] = '\0';
    return (long)n;
}

/* http_json_response - a JSON response (body copied); the value is released */
static struct MHD_Response *http_json_response(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    struct MHD_Response *r;

    json_decref(v);
    if (text == NULL)
        return NULL;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    free(text);
    if (r != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
}

/* http_error_response - {"error": msg} */
static struct MHD_Response *http_error_response(const char *msg)
{
    json_t *v = json_object();

    json_object_set_new(v, "error", json_string(msg));
    return http_json_response(v);
}

/* http_json_str - a JSON string of untrusted bytes, or null when not valid UTF-8 */
static json_t *http_json_str(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);

    return v != NULL ? v : json_null();
}

unsigned http_answer_status(const struct lookup_answer *ans)
{
    switch (ans->result) {
    case LOOKUP_TEMPFAIL:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case LOOKUP_INVALID:
        return MHD_HTTP_BAD_REQUEST;
    default:
        return MHD_HTTP_OK;
    }
}

json_t *http_answer_json(const char *addr, size_t len, const struct lookup_answer *ans)
{
    json_t *v = json_object();
    int found = ans->result == LOOKUP_VALID || ans->result == LOOKUP_DISABLED;

    json_object_set_new(v, "address", http_json_str(addr, len));
    json_object_set_new(v, "result", json_string(lookup_result_name(ans->result)));
    if (ans->result == LOOKUP_INVALID) {
        json_object_set_new(v, "error", json_string("malformed address"));
        json_object_set_new(v, "detail", json_string(addr_strerror(ans->addr_err)));
        return v;
    }
    json_object_set_new(v, "key", json_string(ans->key));
    json_object_set_new(v, "primary", found ? json_string(ans->primary) : json_null());
    json_object_set_new(v, "kind", found ? json_string(rcpt_kind_name(ans->kind)) : json_null());
    json_object_set_new(v, "generation", json_integer((json_int_t)ans->generation));
    if (ans->result == LOOKUP_TEMPFAIL)
        json_object_set_new(v, "reason", json_string(ans->reason ? ans->reason : "unknown"));
    return v;
}

/* http_peer - the client's address as a peer key; 0 or -1 */
static int http_peer(struct MHD_Connection *c, struct peer_key *k)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    if (ci == NULL || ci->client_addr == NULL)
        return -1;
    return peer_from_sockaddr(k, ci->client_addr,
                              ci->client_addr->sa_family == AF_INET6
                                  ? (socklen_t)sizeof(struct sockaddr_in6)
                                  : (socklen_t)sizeof(struct sockaddr_in));
}

/* http_conn_of - the deadline record of a connection (MHD's socket context), or NULL */
static struct http_conn *http_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* http_conn_busy - a request is complete (busy 1: no deadline while it is answered), or its
 * answer ended (busy 0: the next request's deadline starts now) */
static void http_conn_busy(struct lk_http *h, struct MHD_Connection *c, int busy)
{
    struct http_conn *hc = http_conn_of(c);

    if (hc == NULL)
        return;
    pthread_mutex_lock(&h->conns_mu);
    hc->busy = busy;
    hc->stream = 0;
    if (!busy)
        hc->start = http_now();
    pthread_mutex_unlock(&h->conns_mu);
}

/* con_cls of a request whose handler keeps no state (http_access) */
static int http_seen;

/* The HTTP server of this process (one), for http_conn_progress(). */
static struct lk_http *http_server;

/*
 * http_conn_progress - a feed stream on c handed on another chunk (its client took the
 * previous one): its send deadline starts again (feedsrv_setup()'s hook; MHD's thread)
 */
static void http_conn_progress(struct MHD_Connection *c)
{
    struct http_conn *hc = http_conn_of(c);

    if (hc == NULL || http_server == NULL)
        return;
    pthread_mutex_lock(&http_server->conns_mu);
    hc->stream = 1;
    hc->progress = http_now();
    pthread_mutex_unlock(&http_server->conns_mu);
}

/* http_recipients - GET /v1/recipients/{address} */
static void http_recipients(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                            struct http_reply *reply)
{
    char addr[ADDR_INPUT_MAX + 1];
    struct lookup_answer ans;
    uint64_t t0 = stats_now_ns();
    struct peer_key pk;
    long n;

    if (*rest == '\0') {
        reply->status = MHD_HTTP_BAD_REQUEST;
        reply->error = "missing address";
        return;
    }
    n = http_percent_decode(addr, sizeof(addr), rest, strlen(rest));
    if (n < 0) {
        reply->status = MHD_HTTP_BAD_REQUEST;
        reply->error = "malformed address: bad percent-encoding, NUL or too long";
        stats_lookup(h->stats, STATS_HTTP, LOOKUP_INVALID, stats_now_ns() - t0);
        return;
    }
    if (h->rl != NULL && http_peer(c, &pk) == 0 &&
        !ratelimit_allow(h->rl, &pk, t0 / 1000000, &reply->retry_after)) {
        reply->status = MHD_HTTP_TOO_MANY_REQUESTS;
        reply->error = "too many unknown addresses from this client: slow down";
        return;
    }
    lk_db_lookup(h->db, &h->rd, h->opts, 0, addr, (size_t)n, &ans);
    if (h->rl != NULL && ans.result == LOOKUP_UNKNOWN && http_peer(c, &pk) == 0)
        ratelimit_spend(h->rl, &pk, t0 / 1000000);
    stats_lookup(h->stats, STATS_HTTP, ans.result, stats_now_ns() - t0);
    reply->status = http_answer_status(&ans);
    reply->response = http_json_response(http_answer_json(addr, (size_t)n, &ans));
}

/* http_store_state - info about the store and its freshness (lookup_freshness()) */
static enum lookup_freshness http_store_state(struct lk_http *h, struct store_info *info, int *err)
{
    const struct store *st;
    MDB_txn *txn;

    memset(info, 0, sizeof(*info));
    *err = lk_db_begin(h->db, &h->rd, &txn, &st);
    if (*err == 0)
        *err = store_info_read(txn, st, info);
    lk_db_end(h->db, &h->rd);
    if (*err == STORE_ERR_NOSTORE) {
        *err = 0;
        return LOOKUP_NEVER;
    }
    if (*err != 0)
        return LOOKUP_UNREADABLE;
    return lookup_freshness(info->last_success, h->max_age, time(NULL));
}

/* http_status - GET /v1/status: the snapshot the status page renders too (status.h) */
static void http_status(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                        struct http_reply *reply)
{
    static const struct status_want want = {.minutes = 60, .domains = 1};
    struct lk_status *s = status_fill(h->db, &h->rd, h->version, h->max_age, h->policy, &want);

    (void)c;
    (void)rest;
    reply->status = s->fresh == LOOKUP_FRESH ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    reply->response = http_json_response(status_json(s));
    status_free(s);
}

/*
 * http_metrics_sync - the last sync as syncd recorded it in meta: its result (one series per
 * result, 1 for the last one), when it was attempted, and the last successful sync's duration
 * and changes; the refused syncs as a counter; with syncrepl, whether the persist connection
 * is up and when a change last arrived
 */
static void http_metrics_sync(FILE *fp, const struct store_info *info)
{
    static const char *const results[] = {"ok", "failed", "refused", "config"};

    fprintf(fp, "# HELP rcptdir_sync_last_result 1 for the result of the last sync attempt "
                "(ok, failed: try later, refused: a safety rule, config: fix the configuration).\n"
                "# TYPE rcptdir_sync_last_result gauge\n");
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
        fprintf(fp, "rcptdir_sync_last_result{result=\"%s\"} %d\n", results[i],
                strcmp(info->last_result, results[i]) == 0);
    fprintf(fp,
            "# HELP rcptdir_sync_last_attempt_timestamp_seconds Time of the last sync attempt "
            "(0: never).\n"
            "# TYPE rcptdir_sync_last_attempt_timestamp_seconds gauge\n"
            "rcptdir_sync_last_attempt_timestamp_seconds %llu\n"
            "# HELP rcptdir_sync_last_duration_seconds Duration of the last successful sync.\n"
            "# TYPE rcptdir_sync_last_duration_seconds gauge\n"
            "rcptdir_sync_last_duration_seconds %.3f\n"
            "# HELP rcptdir_sync_last_changes Addresses the last successful sync added, changed "
            "and removed.\n"
            "# TYPE rcptdir_sync_last_changes gauge\n"
            "rcptdir_sync_last_changes{change=\"added\"} %llu\n"
            "rcptdir_sync_last_changes{change=\"changed\"} %llu\n"
            "rcptdir_sync_last_changes{change=\"removed\"} %llu\n"
            "# HELP rcptdir_sync_refusals_total Syncs refused by a safety rule.\n"
            "# TYPE rcptdir_sync_refusals_total counter\n"
            "rcptdir_sync_refusals_total %llu\n",
            (unsigned long long)info->last_attempt, (double)info->duration_ms / 1000.0,
            (unsigned long long)info->last_added, (unsigned long long)info->last_changed,
            (unsigned long long)info->last_removed, (unsigned long long)info->refusals);
    if (info->sync_mode[0] == '\0')
        return;
    fprintf(fp,
            "# HELP rcptdir_sync_persist_up syncrepl: 1 while syncd --watch holds the persist "
            "connection to the provider (0: down, reconnecting, a hung provider left, or cron "
            "runs).\n"
            "# TYPE rcptdir_sync_persist_up gauge\n"
            "rcptdir_sync_persist_up %d\n",
            strcmp(info->sync_persist, "up") == 0);
    if (info->sync_last_change != 0)
        fprintf(fp,
                "# HELP rcptdir_sync_last_change_timestamp_seconds syncrepl: when a change last "
                "arrived from the provider.\n"
                "# TYPE rcptdir_sync_last_change_timestamp_seconds gauge\n"
                "rcptdir_sync_last_change_timestamp_seconds %llu\n",
                (unsigned long long)info->sync_last_change);
}

/* http_metrics - GET /metrics, Prometheus text format 0.0.4 */
static void http_metrics(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply)
{
    const union MHD_DaemonInfo *di;
    struct store_info info;
    char *text = NULL;
    size_t len = 0;
    int err;
    enum lookup_freshness fresh = http_store_state(h, &info, &err);
    FILE *fp = open_memstream(&text, &len);

    (void)c;
    (void)rest;
    if (fp == NULL) {
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return;
    }
    di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    stats_write(fp, di != NULL ? (long)di->num_connections : -1);
    policy_metrics(h->policy, fp);
    feedsrv_metrics(fp, info.generation);
    fprintf(fp,
            "# HELP rcptdir_store_up 1 when the store could be read.\n"
            "# TYPE rcptdir_store_up gauge\n"
            "rcptdir_store_up %d\n"
            "# HELP rcptdir_store_stale 1 when unknown addresses get a temporary failure "
            "(stale or never synced).\n"
            "# TYPE rcptdir_store_stale gauge\n"
            "rcptdir_store_stale %d\n"
            "# HELP rcptdir_store_generation Generation of the store (one per committed sync).\n"
            "# TYPE rcptdir_store_generation gauge\n"
            "rcptdir_store_generation %llu\n"
            "# HELP rcptdir_store_last_success_timestamp_seconds Time of the last successful "
            "sync (0: never).\n"
            "# TYPE rcptdir_store_last_success_timestamp_seconds gauge\n"
            "rcptdir_store_last_success_timestamp_seconds %llu\n"
            "# HELP rcptdir_store_addresses Addresses in the store.\n"
            "# TYPE rcptdir_store_addresses gauge\n"
            "rcptdir_store_addresses %llu\n",
            fresh != LOOKUP_UNREADABLE && err == 0 ? 1 : 0, fresh != LOOKUP_FRESH,
            (unsigned long long)info.generation, (unsigned long long)info.last_success,
            (unsigned long long)info.addresses);
    if (info.last_success != 0)
        fprintf(fp,
                "# HELP rcptdir_store_age_seconds Seconds since the last successful sync.\n"
                "# TYPE rcptdir_store_age_seconds gauge\n"
                "rcptdir_store_age_seconds %lld\n",
                (long long)time(NULL) - (long long)info.last_success);
    http_metrics_sync(fp, &info);
    fprintf(fp,
            "# HELP rcptdir_build_info Version of rcptdir-lookupd.\n"
            "# TYPE rcptdir_build_info gauge\n"
            "rcptdir_build_info{version=\"%s\"} 1\n",
            h->version);
    http_text_reply(reply, fp, &text, &len, "text/plain; version=0.0.4; charset=utf-8");
}

/* http_token_ok - compare the bearer token in constant time */
static int http_token_ok(struct MHD_Connection *c, const char *token)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    size_t tlen = strlen(token), alen;
    unsigned char diff = 0;

    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    auth += 7;
    while (*auth == ' ')
        auth++;
    alen = strlen(auth);
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned char)(token[i] ^ (i < alen ? auth[i] : 0));
    return diff == 0 && alen == tlen;
}

/* http_access - MHD's request handler: route, authorize, answer */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct lk_http *h = cls;
    struct http_reply reply = {.status = MHD_HTTP_NOT_FOUND, .error = "not found"};
    const struct http_route *route = NULL;
    const char *rest = NULL;
    enum MHD_Result ret;
    int allowed = 1;

    (void)version;
    (void)upload_data;
    /* Answer on the second call, once the request is complete: libmicrohttpd 0.9.75 closes
     * a connection answered on the first call, which would cost every client a new TCP
     * connection per lookup. */
    if (*con_cls == NULL &&
        (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)) {
        *con_cls = &http_seen;
        http_conn_busy(h, c, 1);
        return MHD_YES;
    }
    if (*con_cls != NULL && *con_cls != &http_seen)
        reply.state = *con_cls; /* resumed after a suspension */
    if (*con_cls == NULL)
        http_conn_busy(h, c, 1);
    *upload_data_size = 0; /* a request body is never read */
    stats_inc(h->stats, STATS_HTTP_REQUESTS);
    for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++) {
        size_t plen = strlen(http_routes[i].path);
        int prefix = http_routes[i].path[plen - 1] == '/';

        if (prefix ? strncmp(url, http_routes[i].path, plen) == 0
                   : strcmp(url, http_routes[i].path) == 0) {
            route = &http_routes[i];
            rest = url + plen;
            break;
        }
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        allowed = 0;
        reply.status = MHD_HTTP_METHOD_NOT_ALLOWED;
        reply.error = "method not allowed";
    } else if (route != NULL) {
        const char *token = route->auth == HTTP_AUTH_LOOKUP ? h->token
                            : route->auth == HTTP_AUTH_FEED ? h->feed_token
                                                            : NULL;
        if (token != NULL && !http_token_ok(c, token)) {
            reply.status = MHD_HTTP_UNAUTHORIZED;
            reply.error = "bearer token required";
        } else {
            reply.error = NULL;
            route->handler(h, c, rest, &reply);
        }
    }
    *con_cls = reply.state != NULL ? reply.state : &http_seen;
    if (reply.suspended)
        return MHD_YES; /* answered once resumed */
    if (reply.response == NULL)
        reply.response = http_error_response(reply.error != NULL ? reply.error : "error");
    if (reply.response == NULL)
        return MHD_NO;
    if (!allowed)
        MHD_add_response_header(reply.response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (reply.status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(reply.response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"rcptdir\"");
    if (reply.retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%u", reply.retry_after);
        MHD_add_response_header(reply.response, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    MHD_add_response_header(reply.response, "Cache-Control", "no-store");
    ret = MHD_queue_response(c, reply.status, reply.response);
    MHD_destroy_response(reply.response);
    return ret;
}

/* http_unescape - keep the URL as sent: the handlers decode it themselves */
static size_t http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* http_logger - MHD's error messages into our log */
__attribute__((format(printf, 2, 0))) static void http_logger(void *cls, const char *fmt,
                                                              va_list ap)
{
    char buf[512];
    size_t n;

    /* MHD's messages are about clients (refused, timed out, out of descriptors): limited */
    static struct log_limit lim = LOG_LIMIT_DEFAULT;

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    log_limited(&lim, "http: %s", buf);
}

/* http_notify_conn - a connection opened (its deadline record) or closed (record freed) */
static void http_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    struct lk_http *h = cls;
    struct http_conn *hc;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if ((hc = calloc(1, sizeof(*hc))) == NULL)
            return; /* no deadline for this one */
        /* a duplicate: the sweeper never shuts down a descriptor MHD closed and reused */
        hc->fd = ci != NULL ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
        hc->start = http_now();
        pthread_mutex_lock(&h->conns_mu);
        hc->next = h->conns;
        if (h->conns != NULL)
            h->conns->prev = hc;
        h->conns = hc;
        pthread_mutex_unlock(&h->conns_mu);
        *socket_context = hc;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && (hc = *socket_context) != NULL) {
        pthread_mutex_lock(&h->conns_mu);
        if (hc->prev != NULL)
            hc->prev->next = hc->next;
        else
            h->conns = hc->next;
        if (hc->next != NULL)
            hc->next->prev = hc->prev;
        pthread_mutex_unlock(&h->conns_mu);
        if (hc->fd >= 0)
            close(hc->fd);
        free(hc);
        *socket_context = NULL;
    }
}

/* http_completed - an answer ended (sent, or the connection failed): the next deadline */
static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    if (*con_cls != NULL && *con_cls != &http_seen)
        feedsrv_wait_free(*con_cls); /* a long poll that ended before its answer */
    *con_cls = NULL;
    http_conn_busy(cls, c, 0);
}

/* http_sweep - once a second, shut down the connections whose request is late */
static void *http_sweep(void *arg)
{
    static struct log_limit lim = LOG_LIMIT_DEFAULT, slim = LOG_LIMIT_DEFAULT;
    struct lk_http *h = arg;
    struct timespec ts;

    pthread_mutex_lock(&h->conns_mu);
    while (!h->stopping) {
        time_t now = http_now();
        unsigned cut = 0, slow = 0;

        for (struct http_conn *hc = h->conns; hc != NULL; hc = hc->next) {
            int late = !hc->busy && now - hc->start >= (time_t)h->request_timeout;
            int stalled = hc->busy && hc->stream && now - hc->progress >= (time_t)h->stall;

            if (!hc->cut && hc->fd >= 0 && (late || stalled)) {
                shutdown(hc->fd, SHUT_RDWR); /* MHD sees the end and closes it */
                hc->cut = 1;
                cut += (unsigned)late;
                slow += (unsigned)stalled;
            }
        }
        if (cut > 0)
            log_limited(&lim, "http: %u connection(s) closed: no whole request within %u s", cut,
                        h->request_timeout);
        if (slow > 0)
            log_limited(&slim, "http: %u feed stream(s) closed: the client took no chunk in %u s",
                        slow, h->stall);
        stats_tick(time(NULL)); /* answers per minute (the status page) */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&h->stop_cv, &h->conns_mu, &ts);
    }
    pthread_mutex_unlock(&h->conns_mu);
    return NULL;
}

struct lk_http *http_start(const struct http_params *p, struct lk_db *db,
                           const struct lookup_opts *opts)
{
    struct lk_http *h = xcalloc(1, sizeof(*h));
    /* long polls wait in slots of their own: at most feed_waiters more connections */
    unsigned limit = (p->conn_limit > 0 ? p->conn_limit : HTTP_CONN_LIMIT) + p->feed_waiters;
    /* one address gets at most an eighth of the slots, so that 8 cannot take them all */
    unsigned per_ip =
        limit / 8 < HTTP_PER_IP_LIMIT ? (limit / 8 ? limit / 8 : 1) : HTTP_PER_IP_LIMIT;

    h->db = db;
    h->opts = opts;
    h->stats = stats_new();
    h->token = p->token != NULL && *p->token != '\0' ? xstrdup(p->token) : NULL;
    h->feed_token = p->feed_token != NULL && *p->feed_token != '\0' ? xstrdup(p->feed_token) : NULL;
    h->version = xstrdup(p->version);
    h->max_age = p->max_age;
    h->policy = p->policy;
    h->request_timeout = p->request_timeout > 0 ? p->request_timeout : 10;
    h->stall = p->timeout > 0 ? p->timeout : 30;
    if (p->unknown_rate > 0)
        h->rl = ratelimit_new(HTTP_RATE_SLOTS, p->unknown_rate, 2 * p->unknown_rate);
    feedsrv_setup(p->feed_streams, http_conn_progress);
    feedsrv_set_key(h->feed_token);
    pthread_mutex_init(&h->conns_mu, NULL);
    pthread_cond_init(&h->stop_cv, NULL);
    feedsrv_watch_start(db, p->feed_waiters,
                        edges_new(p->edges_max, p->edge_stale_after, p->edge_forget_after));
    h->d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                             MHD_ALLOW_SUSPEND_RESUME,
                         0, NULL, NULL, http_access, h, MHD_OPTION_EXTERNAL_LOGGER, http_logger,
                         NULL, MHD_OPTION_LISTEN_SOCKET, p->fd, MHD_OPTION_CONNECTION_LIMIT, limit,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
                         p->timeout > 0 ? p->timeout : 30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape,
                         NULL, MHD_OPTION_NOTIFY_CONNECTION, http_notify_conn, h,
                         MHD_OPTION_NOTIFY_COMPLETED, http_completed, h, MHD_OPTION_END);
    if (h->d == NULL)
        fatalx("http: cannot start the HTTP server");
    if (pthread_create(&h->sweeper, NULL, http_sweep, h) != 0)
        fatalx("http: cannot start the request deadline thread");
    h->sweeping = 1;
    http_server = h;
    return h;
}

void http_stop(struct lk_http *h)
{
    if (h == NULL)
        return;
    if (h->sweeping) {
        pthread_mutex_lock(&h->conns_mu);
        h->stopping = 1;
        pthread_cond_signal(&h->stop_cv);
        pthread_mutex_unlock(&h->conns_mu);
        pthread_join(h->sweeper, NULL);
    }
    feedsrv_watch_stop(); /* waiters resumed: MHD stops no suspended connection */
    MHD_stop_daemon(h->d);
    feedsrv_teardown(); /* the edges table and the key: no handler runs any more */
    http_server = NULL;
    lk_db_reader_close(h->db, &h->rd);
    ratelimit_free(h->rl);
    pthread_mutex_destroy(&h->conns_mu);
    pthread_cond_destroy(&h->stop_cv);
    if (h->token != NULL)
        explicit_bzero(h->token, strlen(h->token));
    if (h->feed_token != NULL)
        explicit_bzero(h->feed_token, strlen(h->feed_token));
    free(h->token);
    free(h->feed_token);
    free(h->version);
    free(h);
}
