/*
 * feedsrv - /v1/snapshot and /v1/changes streamed from one read transaction; see feedsrv.h.
 */
#include "lookupd/feedsrv.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "lookupd/httpneg.h"
#include "lookupd/stats.h"
#include "schema/feed.h"

/* Phases of a stream: the databases in order, then the trailer. */
enum feedsrv_phase { PH_ADDR, PH_DOMAIN, PH_LOG, PH_TRAILER, PH_DONE, PH_ERROR };

struct feedsrv_stream {
    struct lk_db *db;
    const struct store *st;
    MDB_txn *txn;          /* the dedicated read transaction, aborted in feedsrv_free */
    struct lk_reader lock; /* its reader lock is held while a chunk is encoded */
    struct feed_enc enc;
    enum feedsrv_phase phase;
    uint64_t since, to;
    int started;                      /* a record of this phase was sent: last is set */
    unsigned char last[FEED_MAX_KEY]; /* the last key sent in this phase */
    size_t lastlen;
    unsigned char *buf;
    size_t len, off;
    int gzip;                 /* the gzip content coding: z is live (deflateEnd in feedsrv_free) */
    int zend;                 /* deflate returned Z_STREAM_END: the gzip trailer is out */
    z_stream z;               /* reads buf, writes straight into MHD's buffer */
    int counted;              /* one of feedsrv_streams */
    struct MHD_Connection *c; /* its connection: progress is reported to http.c */
};

/* Streams at once, and the most allowed (feedsrv_setup); MHD's one thread. */
static unsigned feedsrv_streams, feedsrv_max_streams = FEEDSRV_MAX_STREAMS;

static feedsrv_progress_fn feedsrv_progress;

/* The feed token that keys the feeds' trailers (schema/feed.h), or none. */
static char *feedsrv_key;
static size_t feedsrv_keylen;

void feedsrv_set_key(const char *token)
{
    if (feedsrv_key != NULL) {
        explicit_bzero(feedsrv_key, feedsrv_keylen);
        free(feedsrv_key);
    }
    feedsrv_key = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
    feedsrv_keylen = feedsrv_key != NULL ? strlen(feedsrv_key) : 0;
}

/* The edges seen pulling (edges.h); set by feedsrv_watch_start(). */
static struct edges *feedsrv_edges;

void feedsrv_setup(unsigned max_streams, feedsrv_progress_fn progress)
{
    feedsrv_max_streams = max_streams > 0 ? max_streams : FEEDSRV_MAX_STREAMS;
    feedsrv_progress = progress;
}

/* A request waiting for a commit: its connection is suspended (MHD holds no thread for it and
 * feedsrv no transaction). Listed while it waits; the watcher unlists and resumes it. */
struct feedsrv_wait {
    struct MHD_Connection *c;
    uint64_t since;
    uint64_t deadline; /* monotonic ms */
    int listed;
    int stopping;              /* resumed because the server stops */
    int noted;                 /* the edges table marks its edge waiting: name, addr */
    char name[EDGES_NAME_MAX]; /* the Rcptdir-Edge header, cut short (edges.h checks it) */
    char addr[EDGES_ADDR_MAX];
    struct feedsrv_wait *prev, *next;
};

/* feedsrv_full - every stream slot is taken: 503 with Retry-After in reply, and 1 */
static int feedsrv_full(struct http_reply *reply)
{
    static struct log_limit lim = LOG_LIMIT_DEFAULT;

    if (feedsrv_streams < feedsrv_max_streams)
        return 0;
    log_limited(&lim, "feed: %u streams already running (feed_streams), answering 503",
                feedsrv_streams);
    reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
    reply->error = "too many feed streams at once: retry later";
    reply->retry_after = 5;
    return 1;
}

/* feedsrv_msg - a message that stays valid until the reply is queued (MHD's one thread) */
static _Thread_local char feedsrv_msg[256];

/* feedsrv_begin - a dedicated read-only transaction on the store, begun under a reader lock */
static int feedsrv_begin(struct lk_db *db, MDB_txn **txn, const struct store **st)
{
    struct lk_reader rd = {0};
    MDB_txn *scratch;
    int rc = lk_db_begin(db, &rd, &scratch, st); /* opens the store, adopts a grown map */

    *txn = NULL;
    if (rc == 0)
        rc = mdb_txn_begin(store_env(*st), NULL, MDB_RDONLY, txn);
    lk_db_end(db, &rd);
    lk_db_reader_close(db, &rd);
    if (rc != 0)
        *txn = NULL;
    return rc;
}

static void feedsrv_free(void *cls)
{
    struct feedsrv_stream *s = cls;

    if (s->counted)
        feedsrv_streams--;
    if (s->txn != NULL)
        mdb_txn_abort(s->txn);
    lk_db_reader_close(s->db, &s->lock);
    if (s->gzip)
        deflateEnd(&s->z);
    free(s->buf);
    free(s);
}

static MDB_dbi feedsrv_dbi(const struct feedsrv_stream *s)
{
    switch (s->phase) {
    case PH_ADDR:
        return store_dbi(s->st, STORE_ADDR);
    case PH_DOMAIN:
        return store_dbi(s->st, STORE_DOMAIN);
    default:
        return store_dbi(s->st, STORE_LOG);
    }
}

/* feedsrv_next_phase - the phase after the current one */
static void feedsrv_next_phase(struct feedsrv_stream *s)
{
    s->started = 0;
    s->lastlen = 0;
    s->phase = s->phase == PH_ADDR     ? PH_DOMAIN
               : s->phase == PH_DOMAIN ? PH_TRAILER
               : s->phase == PH_LOG    ? PH_TRAILER
                                       : PH_DONE;
}

/*
 * feedsrv_put_record - encode the record of (k, v) in the current phase into the buffer: 1
 * done, 0 no room (try again with an empty buffer), -1 a record that cannot be sent
 */
static int feedsrv_put_record(struct feedsrv_stream *s, const MDB_val *k, const MDB_val *v)
{
    const unsigned char *key = k->mv_data, *val = v->mv_data;
    size_t keylen = k->mv_size, vallen = v->mv_size, n;
    struct store_log_rec l;
    int type;

    switch (s->phase) {
    case PH_ADDR:
        type = FEED_ADDR;
        break;
    case PH_DOMAIN:
        type = FEED_DOMAIN;
        break;
    default: /* a change-log record: its op is the feed record's type */
        if (store_log_decode(&l, v->mv_data, v->mv_size) != 0) {
            log_warnx("feed: malformed change-log record");
            return -1;
        }
        type = l.op;
        key = (const unsigned char *)l.key;
        keylen = l.keylen;
        val = l.rec;
        vallen = l.reclen;
        break;
    }
    if (keylen == 0 || keylen > FEED_MAX_KEY || vallen > FEED_MAX_RECORD - 2 - keylen) {
        log_warnx("feed: a %c record of %zu + %zu bytes does not fit the feed format", type, keylen,
                  vallen);
        return -1;
    }
    if (FEEDSRV_BUFFER - s->len < 5 + 2 + keylen + vallen)
        return 0;
    n = feed_enc_record(&s->enc, s->buf + s->len, FEEDSRV_BUFFER - s->len, type, key, keylen, val,
                        vallen);
    if (n == 0)
        return -1;
    s->len += n;
    return 1;
}

/* feedsrv_fill_db - records of the current phase into the buffer: 0 done or full, else error */
static int feedsrv_fill_db(struct feedsrv_stream *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    unsigned char logkey[STORE_LOG_KEY_SIZE];
    uint64_t gen;
    int rc, r;

    if ((rc = mdb_cursor_open(s->txn, feedsrv_dbi(s), &cur)) != 0)
        return rc;
    if (s->started) {
        k.mv_data = s->last;
        k.mv_size = s->lastlen;
        op = MDB_SET_RANGE;
    } else if (s->phase == PH_LOG) {
        store_log_key(logkey, s->since + 1, 0);
        k.mv_data = logkey;
        k.mv_size = sizeof(logkey);
        op = MDB_SET_RANGE;
    }
    rc = mdb_cursor_get(cur, &k, &v, op);
    if (rc == 0 && s->started && k.mv_size == s->lastlen &&
        memcmp(k.mv_data, s->last, s->lastlen) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (s->phase == PH_LOG &&
            (store_log_key_decode(k.mv_data, k.mv_size, &gen, NULL) != 0 || gen > s->to)) {
            rc = MDB_NOTFOUND;
            break;
        }
        if (k.mv_size > sizeof(s->last)) {
            rc = STORE_ERR_CORRUPT;
            break;
        }
        if ((r = feedsrv_put_record(s, &k, &v)) < 0) {
            rc = STORE_ERR_CORRUPT;
            break;
        }
        if (r == 0)
            break; /* full: continue after s->last next time */
        memcpy(s->last, k.mv_data, k.mv_size);
        s->lastlen = k.mv_size;
        s->started = 1;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        feedsrv_next_phase(s);
        return 0;
    }
    return rc;
}

/* feedsrv_fill - encode into the empty buffer up to FEEDSRV_BUFFER bytes */
static void feedsrv_fill(struct feedsrv_stream *s)
{
    MDB_txn *locktxn;
    const struct store *st;
    int rc;

    /* a reader lock: no map is adopted (mdb_env_set_mapsize) while cursors are open */
    rc = lk_db_begin(s->db, &s->lock, &locktxn, &st);
    while (rc == 0 && s->phase < PH_TRAILER && FEEDSRV_BUFFER - s->len >= 5 + FEED_MAX_RECORD) {
        rc = feedsrv_fill_db(s);
    }
    lk_db_end(s->db, &s->lock);
    if (rc != 0) {
        log_warnx("feed: cannot read the store: %s", store_strerror(rc));
        s->phase = PH_ERROR;
        return;
    }
    if (s->phase == PH_TRAILER && FEEDSRV_BUFFER - s->len >= FEED_TRAILER_SIZE) {
        feed_enc_trailer(&s->enc, s->buf + s->len);
        s->len += FEED_TRAILER_SIZE;
        s->phase = PH_DONE;
    }
}

/*
 * feedsrv_read_gz - the next bytes of the gzip coding of the feed: what deflate makes of the
 * buffer, straight into MHD's out (no buffer of our own). The buffer is refilled only when
 * deflate has taken all of it (it copies input into its window), at most once per call once
 * something is ready to send, so the store's lock is taken as often as for identity.
 * Never 0 (MHD would call again at once): bytes, end of stream or error.
 */
static ssize_t feedsrv_read_gz(struct feedsrv_stream *s, char *out, size_t max)
{
    z_stream *z = &s->z;
    uInt room = max > 1024 * 1024 ? 1024 * 1024 : (uInt)max;
    int rc, flush;

    z->next_out = (Bytef *)out;
    z->avail_out = room;
    while (z->avail_out > 0 && !s->zend) {
        if (z->avail_in == 0 && s->phase < PH_DONE) {
            if (z->avail_out < room)
                break; /* send what is ready before taking the lock again */
            s->off = s->len = 0;
            feedsrv_fill(s);
            if (s->phase == PH_ERROR || (s->len == 0 && s->phase != PH_DONE))
                return MHD_CONTENT_READER_END_WITH_ERROR;
            z->next_in = s->buf;
            z->avail_in = (uInt)s->len;
        }
        flush = s->phase == PH_DONE && z->avail_in == 0 ? Z_FINISH : Z_NO_FLUSH;
        rc = deflate(z, flush);
        if (rc == Z_STREAM_END) {
            s->zend = 1;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            log_warnx("feed: deflate: %s", z->msg != NULL ? z->msg : "error");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    if (z->avail_out == room)
        return s->zend ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    return (ssize_t)(room - z->avail_out);
}

static ssize_t feedsrv_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct feedsrv_stream *s = cls;
    size_t n;

    (void)pos;
    if (feedsrv_progress != NULL)
        feedsrv_progress(s->c); /* the client took what was handed on before */
    if (s->gzip)
        return feedsrv_read_gz(s, out, max);
    if (s->off == s->len) {
        s->off = s->len = 0;
        if (s->phase == PH_ERROR)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->phase == PH_DONE)
            return MHD_CONTENT_READER_END_OF_STREAM;
        feedsrv_fill(s);
        if (s->len == 0)
            return s->phase == PH_DONE ? MHD_CONTENT_READER_END_OF_STREAM
                                       : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

/* feedsrv_stream_new - a stream of one feed from txn (taken over), its header encoded; not
 * counted among the streams yet */
static struct feedsrv_stream *feedsrv_stream_new(struct MHD_Connection *c, struct lk_db *db,
                                                 MDB_txn *txn, const struct store *st,
                                                 enum feed_kind kind, uint64_t from, uint64_t to)
{
    struct feedsrv_stream *s = xcalloc(1, sizeof(*s));
    struct feed_header h = {kind, from, to};

    s->db = db;
    s->st = st;
    s->txn = txn;
    s->c = c;
    s->since = from;
    s->to = to;
    s->phase = kind == FEED_SNAPSHOT ? PH_ADDR : from == to ? PH_TRAILER : PH_LOG;
    s->buf = xmalloc(FEEDSRV_BUFFER);
    feed_enc_header_keyed(&s->enc, s->buf, &h, feedsrv_key, feedsrv_keylen);
    s->len = FEED_HEADER;
    return s;
}

/* feedsrv_reply_headers - the headers every 200 feed answer carries */
static void feedsrv_reply_headers(struct MHD_Response *r, int gzip)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gzip)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
}

/* feedsrv_stream_reply - s (taken over, buffer holding s->len bytes not yet sent) streamed as
 * the reply; it now counts among the streams */
static void feedsrv_stream_reply(struct feedsrv_stream *s, int gzip, struct http_reply *reply)
{
    s->counted = 1;
    feedsrv_streams++;
    if (gzip) {
        /* 15 + 16: a 32 kB window in a gzip wrapper (no name, mtime 0: the same bytes for
         * the same feed); memLevel 8 (zlib's default): about 268 kB of state */
        if (deflateInit2(&s->z, FEEDSRV_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            feedsrv_free(s);
            reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            reply->error = "out of memory";
            return;
        }
        s->gzip = 1;
        s->z.next_in = s->buf;
        s->z.avail_in = (uInt)s->len;
    }
    reply->response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, feedsrv_read,
                                                        s, feedsrv_free);
    if (reply->response == NULL) {
        feedsrv_free(s);
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return;
    }
    reply->status = MHD_HTTP_OK;
    feedsrv_reply_headers(reply->response, gzip);
}

/* feedsrv_start - the stream of one feed from txn (taken over) as the reply */
static void feedsrv_start(struct MHD_Connection *c, struct lk_db *db, MDB_txn *txn,
                          const struct store *st, enum feed_kind kind, uint64_t from, uint64_t to,
                          int gzip, struct http_reply *reply)
{
    feedsrv_stream_reply(feedsrv_stream_new(c, db, txn, st, kind, from, to), gzip, reply);
}

/* feedsrv_accept_field - every Accept-Encoding field of the request counts (one list) */
static enum MHD_Result feedsrv_accept_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                            const char *value)
{
    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0)
        httpneg_accept_parse(cls, value);
    return MHD_YES;
}

/* feedsrv_want_gzip - does the request's Accept-Encoding choose gzip (httpneg.h)? */
static int feedsrv_want_gzip(struct MHD_Connection *c)
{
    struct httpneg_accept a;

    httpneg_accept_init(&a);
    MHD_get_connection_values(c, MHD_HEADER_KIND, feedsrv_accept_field, &a);
    return httpneg_accept_gzip(&a);
}

/* If-None-Match against one entity tag (with its quotes) */
struct feedsrv_inm {
    const char *etag;
    int match;
};

static enum MHD_Result feedsrv_inm_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    struct feedsrv_inm *m = cls;

    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0 &&
        httpneg_etag_listed(value, m->etag))
        m->match = 1;
    return MHD_YES;
}

/* feedsrv_not_modified - does If-None-Match hold etag (or "*")? */
static int feedsrv_not_modified(struct MHD_Connection *c, const char *etag)
{
    struct feedsrv_inm m = {etag, 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, feedsrv_inm_field, &m);
    return m.match;
}

/* feedsrv_open - the transaction and the generation, log floor; 0 or an error already in reply */
static int feedsrv_open(struct lk_db *db, MDB_txn **txn, const struct store **st, uint64_t *gen,
                        uint64_t *floor, struct http_reply *reply)
{
    int rc = feedsrv_begin(db, txn, st);

    if (rc == 0 && (rc = store_meta_get_u64(*txn, *st, STORE_META_GENERATION, gen)) == 0)
        rc = store_meta_get_u64(*txn, *st, STORE_META_LOG_FLOOR, floor);
    if (rc == 0)
        return 0;
    if (*txn != NULL)
        mdb_txn_abort(*txn);
    *txn = NULL;
    reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
    if (rc == STORE_ERR_NOSTORE) {
        reply->error = "never synced: no store yet";
    } else {
        static struct log_limit lim = LOG_LIMIT_DEFAULT; /* each request would say it */
        log_limited(&lim, "feed: cannot read the store: %s", store_strerror(rc));
        snprintf(feedsrv_msg, sizeof(feedsrv_msg), "store unavailable: %s", store_strerror(rc));
        reply->error = feedsrv_msg;
    }
    return -1;
}

/* feedsrv_parse_u64 - a decimal number without sign, spaces or overflow; 0 or -1 */
static int feedsrv_parse_u64(const char *p, uint64_t *v)
{
    uint64_t n = 0;

    if (p == NULL || *p == '\0' || strlen(p) > 20)
        return -1;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *v = n;
    return 0;
}

/* feedsrv_header_u64 - a numeric request header, or dflt when absent or malformed */
static uint64_t feedsrv_header_u64(struct MHD_Connection *c, const char *name, uint64_t dflt)
{
    uint64_t v;
    const char *p = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

    return feedsrv_parse_u64(p, &v) == 0 ? v : dflt;
}

/* feedsrv_note_edge - the edge named by the request was seen at generation gen (edges.h) */
static void feedsrv_note_edge(struct MHD_Connection *c, uint64_t gen, int waiting,
                              struct feedsrv_wait *w)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *name = MHD_lookup_connection_value(c, MHD_HEADER_KIND, FEEDSRV_HDR_EDGE);
    char addr[EDGES_ADDR_MAX] = "";

    if (feedsrv_edges == NULL)
        return;
    if (ci != NULL && ci->client_addr != NULL)
        edges_addr_text(ci->client_addr, addr, sizeof(addr));
    edges_seen(feedsrv_edges, name, addr, feedsrv_header_u64(c, FEEDSRV_HDR_GENERATION, gen),
               waiting, time(NULL));
    if (w != NULL) {
        snprintf(w->name, sizeof(w->name), "%s", edges_name_ok(name) ? name : "");
        snprintf(w->addr, sizeof(w->addr), "%s", addr);
        w->noted = 1;
    }
}

void feedsrv_snapshot(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply)
{
    const struct store *st;
    MDB_txn *txn;
    uint64_t gen, floor;
    char etag[32];
    int gzip = feedsrv_want_gzip(c);

    if (feedsrv_full(reply) || feedsrv_open(db, &txn, &st, &gen, &floor, reply) != 0)
        return;
    feedsrv_note_edge(c, 0, 0, NULL);
    /* one strong tag per representation (RFC 9110 8.8.3): "g<G>" identity, "g<G>-gz" gzip */
    snprintf(etag, sizeof(etag), "\"g%" PRIu64 "%s\"", gen, gzip ? "-gz" : "");
    if (feedsrv_not_modified(c, etag)) {
        mdb_txn_abort(txn);
        reply->response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (reply->response == NULL) {
            reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            reply->error = "out of memory";
            return;
        }
        reply->status = MHD_HTTP_NOT_MODIFIED;
        MHD_add_response_header(reply->response, MHD_HTTP_HEADER_VARY,
                                MHD_HTTP_HEADER_ACCEPT_ENCODING);
    } else {
        feedsrv_start(c, db, txn, st, FEED_SNAPSHOT, 0, gen, gzip, reply);
        if (reply->response == NULL)
            return;
    }
    MHD_add_response_header(reply->response, MHD_HTTP_HEADER_ETAG, etag);
}

/* ---- long poll: waiters suspended until the store's generation passes theirs ---- */

static struct {
    pthread_mutex_t mu; /* everything below */
    pthread_cond_t cv;  /* a waiter was added, or stop */
    struct feedsrv_wait *head;
    unsigned n, max; /* waiting now; the most allowed */
    uint64_t gen;    /* the generation the watcher saw last (0: none yet) */
    int dirty;       /* waiters were added since the last scan */
    int running, stopping;
    pthread_t thread;
    struct lk_db *db;
    uint64_t resumed; /* waiters resumed, ever (metrics) */
} feedsrv_w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static uint64_t feedsrv_ms(void)
{
    return stats_now_ns() / 1000000u;
}

/* feedsrv_unlist - take w off the list (feedsrv_w.mu held) */
static void feedsrv_unlist(struct feedsrv_wait *w)
{
    if (!w->listed)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        feedsrv_w.head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    w->listed = 0;
    feedsrv_w.n--;
}

/* feedsrv_read_gen - the store's generation through the watcher's own reader; 0 or an error */
static int feedsrv_read_gen(struct lk_reader *rd, uint64_t *gen)
{
    const struct store *st;
    MDB_txn *txn;
    int rc = lk_db_begin(feedsrv_w.db, rd, &txn, &st);

    if (rc == 0)
        rc = store_meta_get_u64(txn, st, STORE_META_GENERATION, gen);
    lk_db_end(feedsrv_w.db, rd);
    return rc;
}

/*
 * feedsrv_watch - the watcher thread: reads the store's generation every FEEDSRV_WATCH_MS while
 * requests wait (FEEDSRV_IDLE_MS otherwise, for the edges' lag), and resumes the waiters that
 * are behind it or whose wait is over. A read is one mdb_txn_renew, one mdb_get and one
 * mdb_txn_reset on a reader of its own: microseconds, no lock a lookup takes.
 */
static void *feedsrv_watch(void *arg)
{
    struct lk_reader rd = {0};
    uint64_t next_deadline = UINT64_MAX;

    (void)arg;
    pthread_mutex_lock(&feedsrv_w.mu);
    while (!feedsrv_w.stopping) {
        uint64_t gen = 0, now;
        int ok, scan;
        struct timespec ts;
        unsigned ms;

        pthread_mutex_unlock(&feedsrv_w.mu);
        ok = feedsrv_read_gen(&rd, &gen) == 0;
        now = feedsrv_ms();
        if (ok)
            edges_hub_generation(feedsrv_edges, gen, time(NULL));
        pthread_mutex_lock(&feedsrv_w.mu);
        scan = feedsrv_w.dirty || now >= next_deadline;
        if (ok && gen != feedsrv_w.gen) {
            feedsrv_w.gen = gen;
            scan = 1;
        }
        if (scan) {
            struct feedsrv_wait *w = feedsrv_w.head, *next;
            next_deadline = UINT64_MAX;
            feedsrv_w.dirty = 0;
            for (; w != NULL; w = next) {
                next = w->next;
                if ((feedsrv_w.gen != 0 && w->since < feedsrv_w.gen) || now >= w->deadline) {
                    feedsrv_unlist(w);
                    feedsrv_w.resumed++;
                    MHD_resume_connection(w->c);
                } else if (w->deadline < next_deadline) {
                    next_deadline = w->deadline;
                }
            }
        }
        ms = feedsrv_w.n > 0 ? FEEDSRV_WATCH_MS : FEEDSRV_IDLE_MS;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)ms * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!feedsrv_w.dirty)
            pthread_cond_timedwait(&feedsrv_w.cv, &feedsrv_w.mu, &ts);
    }
    while (feedsrv_w.head != NULL) { /* stopping: every waiter gets a 503 now */
        struct feedsrv_wait *w = feedsrv_w.head;
        feedsrv_unlist(w);
        w->stopping = 1;
        MHD_resume_connection(w->c);
    }
    pthread_mutex_unlock(&feedsrv_w.mu);
    lk_db_reader_close(feedsrv_w.db, &rd);
    return NULL;
}

void feedsrv_watch_start(struct lk_db *db, unsigned max_waiters, struct edges *edges)
{
    feedsrv_w.db = db;
    feedsrv_w.max = max_waiters > 0 ? max_waiters : FEEDSRV_MAX_WAITERS;
    feedsrv_w.stopping = 0;
    feedsrv_edges = edges;
    if (pthread_create(&feedsrv_w.thread, NULL, feedsrv_watch, NULL) != 0)
        fatalx("feed: cannot start the long-poll watcher thread");
    feedsrv_w.running = 1;
}

void feedsrv_watch_stop(void)
{
    if (!feedsrv_w.running)
        return;
    pthread_mutex_lock(&feedsrv_w.mu);
    feedsrv_w.stopping = 1;
    pthread_cond_signal(&feedsrv_w.cv);
    pthread_mutex_unlock(&feedsrv_w.mu);
    pthread_join(feedsrv_w.thread, NULL);
    feedsrv_w.running = 0;
}

void feedsrv_teardown(void)
{
    edges_free(feedsrv_edges);
    feedsrv_edges = NULL;
    feedsrv_set_key(NULL);
}

json_t *feedsrv_edges_json(uint64_t hub_gen)
{
    return feedsrv_edges != NULL ? edges_json(feedsrv_edges, hub_gen, time(NULL)) : json_array();
}

void feedsrv_metrics(FILE *fp, uint64_t hub_gen)
{
    uint64_t resumed;
    unsigned n = feedsrv_waiting(&resumed);

    fprintf(
        fp,
        "# HELP rcptdir_feed_waiting Long polls of /v1/changes waiting for a commit.\n"
        "# TYPE rcptdir_feed_waiting gauge\n"
        "rcptdir_feed_waiting %u\n"
        "# HELP rcptdir_feed_resumed_total Long polls answered by a commit or their wait's end.\n"
        "# TYPE rcptdir_feed_resumed_total counter\n"
        "rcptdir_feed_resumed_total %llu\n",
        n, (unsigned long long)resumed);
    if (feedsrv_edges != NULL)
        edges_metrics(feedsrv_edges, fp, hub_gen, time(NULL));
}

void feedsrv_wait_free(void *state)
{
    struct feedsrv_wait *w = state;

    if (w == NULL)
        return;
    pthread_mutex_lock(&feedsrv_w.mu);
    feedsrv_unlist(w);
    pthread_mutex_unlock(&feedsrv_w.mu);
    if (w->noted && feedsrv_edges != NULL) /* ended unanswered (its client went away) */
        edges_left(feedsrv_edges, w->name, w->addr);
    free(w);
}

/*
 * feedsrv_suspend - hold the request on c until the store passes since or wait seconds pass:
 * 1 suspended (reply->state is the waiter), 0 answer now (the watcher already saw a newer
 * generation, or stopping), -1 too many waiters (503 in reply)
 */
static int feedsrv_suspend(struct MHD_Connection *c, uint64_t since, unsigned wait,
                           struct http_reply *reply)
{
    static struct log_limit lim = LOG_LIMIT_DEFAULT;
    struct feedsrv_wait *w;
    int rc = 1;

    pthread_mutex_lock(&feedsrv_w.mu);
    if (!feedsrv_w.running || feedsrv_w.stopping || (feedsrv_w.gen != 0 && since < feedsrv_w.gen)) {
        rc = 0;
    } else if (feedsrv_w.n >= feedsrv_w.max) {
        rc = -1;
    } else if ((w = calloc(1, sizeof(*w))) == NULL) {
        rc = 0; /* answer now: the edge asks again */
    } else {
        w->c = c;
        w->since = since;
        w->deadline = feedsrv_ms() + 1000u * wait;
        w->listed = 1;
        w->next = feedsrv_w.head;
        if (w->next != NULL)
            w->next->prev = w;
        feedsrv_w.head = w;
        feedsrv_w.n++;
        feedsrv_w.dirty = 1;
        MHD_suspend_connection(c); /* under mu: the watcher cannot resume it before */
        pthread_cond_signal(&feedsrv_w.cv);
        reply->state = w;
        reply->suspended = 1;
    }
    pthread_mutex_unlock(&feedsrv_w.mu);
    if (rc < 0) {
        log_limited(&lim, "feed: %u long polls already waiting (feed_waiters), answering 503",
                    feedsrv_w.max);
        reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        reply->error = "too many long polls waiting: retry later";
        reply->retry_after = 5;
    }
    return rc;
}

unsigned feedsrv_waiting(uint64_t *resumed)
{
    unsigned n;

    pthread_mutex_lock(&feedsrv_w.mu);
    n = feedsrv_w.n;
    if (resumed != NULL)
        *resumed = feedsrv_w.resumed;
    pthread_mutex_unlock(&feedsrv_w.mu);
    return n;
}

/* feedsrv_gzip - in[0..*len) in the gzip coding (as the streams make it) into a new buffer,
 * *len its length; NULL when zlib fails (then sent as it is) */
static unsigned char *feedsrv_gzip(const unsigned char *in, size_t *len)
{
    z_stream z = {0};
    unsigned char *out;
    size_t cap;

    if (deflateInit2(&z, FEEDSRV_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    cap = deflateBound(&z, (uLong)*len) + 32;
    if ((out = malloc(cap)) == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)*len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/*
 * feedsrv_changes_reply - the change feed from since to gen (txn taken over): encoded at once;
 * when it fits one buffer it is answered from memory (no transaction, no stream slot: the
 * answer to a thousand resumed long polls), else streamed (a stream slot, or 503)
 */
static void feedsrv_changes_reply(struct MHD_Connection *c, struct lk_db *db, MDB_txn *txn,
                                  const struct store *st, uint64_t since, uint64_t gen,
                                  struct http_reply *reply)
{
    struct feedsrv_stream *s = feedsrv_stream_new(c, db, txn, st, FEED_CHANGES, since, gen);

    feedsrv_fill(s);
    if (s->phase == PH_ERROR) {
        feedsrv_free(s);
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "cannot read the change log";
        return;
    }
    if (s->phase == PH_DONE) {
        /* an up-to-date poll (77 bytes) is not worth a deflate state: sent as it is */
        int gzip = since < gen && feedsrv_want_gzip(c);
        unsigned char *z = gzip ? feedsrv_gzip(s->buf, &s->len) : NULL;

        reply->response =
            z != NULL ? MHD_create_response_from_buffer(s->len, z, MHD_RESPMEM_MUST_FREE)
                      : MHD_create_response_from_buffer(s->len, s->buf, MHD_RESPMEM_MUST_COPY);
        feedsrv_free(s);
        if (reply->response == NULL) {
            free(z);
            reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            reply->error = "out of memory";
            return;
        }
        reply->status = MHD_HTTP_OK;
        feedsrv_reply_headers(reply->response, z != NULL);
        return;
    }
    if (feedsrv_full(reply)) {
        feedsrv_free(s);
        return;
    }
    feedsrv_stream_reply(s, feedsrv_want_gzip(c), reply);
}

void feedsrv_changes(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply)
{
    const struct store *st;
    MDB_txn *txn;
    uint64_t since, gen, floor, wait = 0;
    const char *wp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "wait");
    struct feedsrv_wait *resumed = reply->state;

    if (feedsrv_parse_u64(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"), &since) !=
        0) {
        reply->status = MHD_HTTP_BAD_REQUEST;
        reply->error = "since=G required: a generation in decimal";
        return;
    }
    if (wp != NULL && feedsrv_parse_u64(wp, &wait) != 0) {
        reply->status = MHD_HTTP_BAD_REQUEST;
        reply->error = "wait=S: seconds in decimal (at most 60)";
        return;
    }
    if (wait > FEEDSRV_MAX_WAIT)
        wait = FEEDSRV_MAX_WAIT;
    if (resumed != NULL) { /* the watcher resumed it: answer whatever the store holds now */
        int stopping = resumed->stopping;
        feedsrv_wait_free(resumed);
        reply->state = NULL;
        wait = 0;
        if (stopping) { /* not an empty feed: the edge would take the hub for one without
                         * long polls; an error makes it try again soon */
            reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            reply->error = "the hub is stopping: retry";
            reply->retry_after = 1;
            return;
        }
    }
    if (feedsrv_open(db, &txn, &st, &gen, &floor, reply) != 0)
        return;
    feedsrv_note_edge(c, since, 0, NULL);
    if (since > gen) {
        mdb_txn_abort(txn);
        reply->status = MHD_HTTP_CONFLICT;
        snprintf(feedsrv_msg, sizeof(feedsrv_msg),
                 "since=%" PRIu64 " is newer than the store's generation %" PRIu64, since, gen);
        reply->error = feedsrv_msg;
        return;
    }
    if (since < gen && since < floor) {
        mdb_txn_abort(txn);
        reply->status = MHD_HTTP_GONE;
        snprintf(feedsrv_msg, sizeof(feedsrv_msg),
                 "changes after generation %" PRIu64 " are no longer logged (log floor %" PRIu64
                 "): a snapshot is needed",
                 since, floor);
        reply->error = feedsrv_msg;
        return;
    }
    if (since == gen && wait > 0) {
        int r;
        mdb_txn_abort(txn); /* a waiter holds no transaction */
        if ((r = feedsrv_suspend(c, since, (unsigned)wait, reply)) != 0) {
            if (r > 0)
                feedsrv_note_edge(c, since, 1, reply->state);
            return; /* suspended, or 503 */
        }
        if (feedsrv_open(db, &txn, &st, &gen, &floor, reply) != 0)
            return;
        if (since > gen || (since < gen && since < floor)) { /* moved meanwhile: ask again */
            mdb_txn_abort(txn);
            reply->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            reply->error = "the store changed: retry";
            reply->retry_after = 1;
            return;
        }
    }
    feedsrv_changes_reply(c, db, txn, st, since, gen, reply);
}
