/*
 * http - libmicrohttpd routes for lookups, status and metrics; see http.h.
 */
#include "lookupd/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "lookupd/feedsrv.h"
#include "lookupd/stats.h"

struct lk_http {
    struct MHD_Daemon *d;
    struct lk_db *db;
    const struct lookup_opts *opts;
    struct lk_reader rd; /* used on MHD's one thread only */
    struct lk_stats *stats;
    char *token, *feed_token;
    char *version;
    long long max_age;
};

static void http_recipients(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                            struct http_reply *reply);
static void http_status(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                        struct http_reply *reply);
static void http_metrics(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                         struct http_reply *reply);

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

/* The routes. */
static const struct http_route http_routes[] = {
    {"/v1/recipients/", http_recipients, HTTP_AUTH_LOOKUP},
    {"/v1/status", http_status, HTTP_AUTH_NONE},
    {"/metrics", http_metrics, HTTP_AUTH_NONE},
    {"/v1/snapshot", http_snapshot, HTTP_AUTH_FEED},
    {"/v1/changes", http_changes, HTTP_AUTH_FEED},
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

/* http_recipients - GET /v1/recipients/{address} */
static void http_recipients(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                            struct http_reply *reply)
{
    char addr[ADDR_INPUT_MAX + 1];
    struct lookup_answer ans;
    uint64_t t0 = stats_now_ns();
    long n;

    (void)c;
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
    lk_db_lookup(h->db, &h->rd, h->opts, 0, addr, (size_t)n, &ans);
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

/* http_status - GET /v1/status */
static void http_status(struct lk_http *h, struct MHD_Connection *c, const char *rest,
                        struct http_reply *reply)
{
    struct store_info info;
    json_t *v = json_object(), *counts = json_object();
    int err;
    enum lookup_freshness fresh = http_store_state(h, &info, &err);
    long long now = (long long)time(NULL);

    (void)c;
    (void)rest;
    json_object_set_new(v, "version", json_string(h->version));
    json_object_set_new(v, "status", json_string(lookup_freshness_name(fresh)));
    json_object_set_new(v, "stale", json_boolean(fresh != LOOKUP_FRESH));
    json_object_set_new(v, "max_age", json_integer(h->max_age));
    if (fresh == LOOKUP_UNREADABLE)
        json_object_set_new(v, "error", json_string(store_strerror(err)));
    json_object_set_new(v, "generation", json_integer((json_int_t)info.generation));
    json_object_set_new(v, "last_attempt", json_integer((json_int_t)info.last_attempt));
    json_object_set_new(v, "last_success", json_integer((json_int_t)info.last_success));
    json_object_set_new(v, "last_result", json_string(info.last_result));
    json_object_set_new(v, "last_error", http_json_str(info.last_error, strlen(info.last_error)));
    json_object_set_new(v, "source", http_json_str(info.source, strlen(info.source)));
    json_object_set_new(v, "duration_ms", json_integer((json_int_t)info.duration_ms));
    json_object_set_new(v, "age",
                        info.last_success == 0 ? json_null()
                                               : json_integer(now - (long long)info.last_success));
    json_object_set_new(counts, "addresses", json_integer((json_int_t)info.addresses));
    json_object_set_new(counts, "entries", json_integer((json_int_t)info.entries));
    json_object_set_new(counts, "domains", json_integer((json_int_t)info.domains));
    json_object_set_new(counts, "invalid", json_integer((json_int_t)info.invalid));
    json_object_set_new(counts, "conflicts", json_integer((json_int_t)info.conflicts));
    json_object_set_new(v, "counts", counts);
    reply->status = fresh == LOOKUP_FRESH ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    reply->response = http_json_response(v);
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
    fprintf(fp,
            "# HELP rcptdir_build_info Version of rcptdir-lookupd.\n"
            "# TYPE rcptdir_build_info gauge\n"
            "rcptdir_build_info{version=\"%s\"} 1\n",
            h->version);
    if (fclose(fp) != 0 || text == NULL) {
        free(text);
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return;
    }
    reply->status = MHD_HTTP_OK;
    reply->response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (reply->response == NULL)
        free(text);
    else
        MHD_add_response_header(reply->response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8");
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
    struct http_reply reply = {MHD_HTTP_NOT_FOUND, NULL, "not found"};
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
        static int seen;
        *con_cls = &seen;
        return MHD_YES;
    }
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
    if (reply.response == NULL)
        reply.response = http_error_response(reply.error != NULL ? reply.error : "error");
    if (reply.response == NULL)
        return MHD_NO;
    if (!allowed)
        MHD_add_response_header(reply.response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (reply.status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(reply.response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"rcptdir\"");
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

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    log_warnx("http: %s", buf);
}

struct lk_http *http_start(const struct http_params *p, struct lk_db *db,
                           const struct lookup_opts *opts)
{
    struct lk_http *h = xcalloc(1, sizeof(*h));

    h->db = db;
    h->opts = opts;
    h->stats = stats_new();
    h->token = p->token != NULL && *p->token != '\0' ? xstrdup(p->token) : NULL;
    h->feed_token = p->feed_token != NULL && *p->feed_token != '\0' ? xstrdup(p->feed_token) : NULL;
    h->version = xstrdup(p->version);
    h->max_age = p->max_age;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
                            NULL, NULL, http_access, h, MHD_OPTION_EXTERNAL_LOGGER, http_logger,
                            NULL, MHD_OPTION_LISTEN_SOCKET, p->fd, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)HTTP_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)HTTP_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)HTTP_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape,
                            NULL, MHD_OPTION_END);
    if (h->d == NULL)
        fatalx("http: cannot start the HTTP server");
    return h;
}

void http_stop(struct lk_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d);
    lk_db_reader_close(h->db, &h->rd);
    if (h->token != NULL)
        explicit_bzero(h->token, strlen(h->token));
    if (h->feed_token != NULL)
        explicit_bzero(h->feed_token, strlen(h->feed_token));
    free(h->token);
    free(h->feed_token);
    free(h->version);
    free(h);
}
