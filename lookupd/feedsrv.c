/*
 * feedsrv - /v1/snapshot and /v1/changes streamed from one read transaction; see feedsrv.h.
 */
#include "lookupd/feedsrv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "lookupd/httpneg.h"
#include "schema/feed.h"

/* Phases of a stream: the databases in order, then the trailer. */
enum feed_phase { PH_ADDR, PH_DOMAIN, PH_LOG, PH_TRAILER, PH_DONE, PH_ERROR };

struct feed_stream {
    struct lk_db *db;
    const struct store *st;
    MDB_txn *txn;          /* the dedicated read transaction, aborted in feed_free */
    struct lk_reader lock; /* its reader lock is held while a chunk is encoded */
    struct feed_enc enc;
    enum feed_phase phase;
    uint64_t since, to;
    int started;                      /* a record of this phase was sent: last is set */
    unsigned char last[FEED_MAX_KEY]; /* the last key sent in this phase */
    size_t lastlen;
    unsigned char *buf;
    size_t len, off;
    int gzip;   /* the gzip content coding: z is live (deflateEnd in feed_free) */
    int zend;   /* deflate returned Z_STREAM_END: the gzip trailer is out */
    z_stream z; /* reads buf, writes straight into MHD's buffer */
};

/* feed_msg - a message that stays valid until the reply is queued (MHD's one thread) */
static _Thread_local char feed_msg[256];

/* feed_begin - a dedicated read-only transaction on the store, begun under a reader lock */
static int feed_begin(struct lk_db *db, MDB_txn **txn, const struct store **st)
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

static void feed_free(void *cls)
{
    struct feed_stream *s = cls;

    if (s->txn != NULL)
        mdb_txn_abort(s->txn);
    lk_db_reader_close(s->db, &s->lock);
    if (s->gzip)
        deflateEnd(&s->z);
    free(s->buf);
    free(s);
}

static MDB_dbi feed_dbi(const struct feed_stream *s)
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

/* feed_next_phase - the phase after the current one */
static void feed_next_phase(struct feed_stream *s)
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
static int feedsrv_put_record(struct feed_stream *s, const MDB_val *k, const MDB_val *v)
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

/* feed_fill_db - records of the current phase into the buffer: 0 done or full, else error */
static int feed_fill_db(struct feed_stream *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    unsigned char logkey[STORE_LOG_KEY_SIZE];
    uint64_t gen;
    int rc, r;

    if ((rc = mdb_cursor_open(s->txn, feed_dbi(s), &cur)) != 0)
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
        feed_next_phase(s);
        return 0;
    }
    return rc;
}

/* feed_fill - encode into the empty buffer up to FEEDSRV_BUFFER bytes */
static void feed_fill(struct feed_stream *s)
{
    MDB_txn *locktxn;
    const struct store *st;
    int rc;

    /* a reader lock: no map is adopted (mdb_env_set_mapsize) while cursors are open */
    rc = lk_db_begin(s->db, &s->lock, &locktxn, &st);
    while (rc == 0 && s->phase < PH_TRAILER && FEEDSRV_BUFFER - s->len >= 5 + FEED_MAX_RECORD) {
        rc = feed_fill_db(s);
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
 * feed_read_gz - the next bytes of the gzip coding of the feed: what deflate makes of the
 * buffer, straight into MHD's out (no buffer of our own). The buffer is refilled only when
 * deflate has taken all of it (it copies input into its window), at most once per call once
 * something is ready to send, so the store's lock is taken as often as for identity.
 * Never 0 (MHD would call again at once): bytes, end of stream or error.
 */
static ssize_t feed_read_gz(struct feed_stream *s, char *out, size_t max)
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
            feed_fill(s);
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

static ssize_t feed_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct feed_stream *s = cls;
    size_t n;

    (void)pos;
    if (s->gzip)
        return feed_read_gz(s, out, max);
    if (s->off == s->len) {
        s->off = s->len = 0;
        if (s->phase == PH_ERROR)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->phase == PH_DONE)
            return MHD_CONTENT_READER_END_OF_STREAM;
        feed_fill(s);
        if (s->len == 0)
            return s->phase == PH_DONE ? MHD_CONTENT_READER_END_OF_STREAM
                                       : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

/* feed_start - the stream of one feed from txn (taken over) as the reply */
static void feed_start(struct lk_db *db, MDB_txn *txn, const struct store *st, enum feed_kind kind,
                       uint64_t from, uint64_t to, int gzip, struct http_reply *reply)
{
    struct feed_stream *s = xcalloc(1, sizeof(*s));
    struct feed_header h = {kind, from, to};

    s->db = db;
    s->st = st;
    s->txn = txn;
    s->since = from;
    s->to = to;
    s->phase = kind == FEED_SNAPSHOT ? PH_ADDR : from == to ? PH_TRAILER : PH_LOG;
    s->buf = xmalloc(FEEDSRV_BUFFER);
    feed_enc_header(&s->enc, s->buf, &h);
    s->len = FEED_HEADER;
    if (gzip) {
        /* 15 + 16: a 32 kB window in a gzip wrapper (no name, mtime 0: the same bytes for
         * the same feed); memLevel 8 (zlib's default): about 268 kB of state */
        if (deflateInit2(&s->z, FEEDSRV_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            feed_free(s);
            reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            reply->error = "out of memory";
            return;
        }
        s->gzip = 1;
        s->z.next_in = s->buf;
        s->z.avail_in = FEED_HEADER;
    }
    reply->response =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, feed_read, s, feed_free);
    if (reply->response == NULL) {
        feed_free(s);
        reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        reply->error = "out of memory";
        return;
    }
    reply->status = MHD_HTTP_OK;
    MHD_add_response_header(reply->response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/octet-stream");
    MHD_add_response_header(reply->response, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (gzip)
        MHD_add_response_header(reply->response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
}

/* feed_accept_field - every Accept-Encoding field of the request counts (one list) */
static enum MHD_Result feed_accept_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0)
        httpneg_accept_parse(cls, value);
    return MHD_YES;
}

/* feed_want_gzip - does the request's Accept-Encoding choose gzip (httpneg.h)? */
static int feed_want_gzip(struct MHD_Connection *c)
{
    struct httpneg_accept a;

    httpneg_accept_init(&a);
    MHD_get_connection_values(c, MHD_HEADER_KIND, feed_accept_field, &a);
    return httpneg_accept_gzip(&a);
}

/* If-None-Match against one entity tag (with its quotes) */
struct feed_inm {
    const char *etag;
    int match;
};

static enum MHD_Result feed_inm_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct feed_inm *m = cls;

    (void)kind;
    if (key != NULL && value != NULL && strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0 &&
        httpneg_etag_listed(value, m->etag))
        m->match = 1;
    return MHD_YES;
}

/* feed_not_modified - does If-None-Match hold etag (or "*")? */
static int feed_not_modified(struct MHD_Connection *c, const char *etag)
{
    struct feed_inm m = {etag, 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, feed_inm_field, &m);
    return m.match;
}

/* feed_open - the transaction and the generation, log floor; 0 or an error already in reply */
static int feed_open(struct lk_db *db, MDB_txn **txn, const struct store **st, uint64_t *gen,
                     uint64_t *floor, struct http_reply *reply)
{
    int rc = feed_begin(db, txn, st);

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
        log_warnx("feed: cannot read the store: %s", store_strerror(rc));
        snprintf(feed_msg, sizeof(feed_msg), "store unavailable: %s", store_strerror(rc));
        reply->error = feed_msg;
    }
    return -1;
}

void feedsrv_snapshot(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply)
{
    const struct store *st;
    MDB_txn *txn;
    uint64_t gen, floor;
    char etag[32];
    int gzip = feed_want_gzip(c);

    if (feed_open(db, &txn, &st, &gen, &floor, reply) != 0)
        return;
    /* one strong tag per representation (RFC 9110 8.8.3): "g<G>" identity, "g<G>-gz" gzip */
    snprintf(etag, sizeof(etag), "\"g%" PRIu64 "%s\"", gen, gzip ? "-gz" : "");
    if (feed_not_modified(c, etag)) {
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
        feed_start(db, txn, st, FEED_SNAPSHOT, 0, gen, gzip, reply);
        if (reply->response == NULL)
            return;
    }
    MHD_add_response_header(reply->response, MHD_HTTP_HEADER_ETAG, etag);
}

/* feed_parse_u64 - a decimal number without sign, spaces or overflow; 0 or -1 */
static int feed_parse_u64(const char *p, uint64_t *v)
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

void feedsrv_changes(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply)
{
    const struct store *st;
    MDB_txn *txn;
    uint64_t since, gen, floor;

    if (feed_parse_u64(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"), &since) !=
        0) {
        reply->status = MHD_HTTP_BAD_REQUEST;
        reply->error = "since=G required: a generation in decimal";
        return;
    }
    if (feed_open(db, &txn, &st, &gen, &floor, reply) != 0)
        return;
    if (since > gen) {
        mdb_txn_abort(txn);
        reply->status = MHD_HTTP_CONFLICT;
        snprintf(feed_msg, sizeof(feed_msg),
                 "since=%" PRIu64 " is newer than the store's generation %" PRIu64, since, gen);
        reply->error = feed_msg;
        return;
    }
    if (since < gen && since < floor) {
        mdb_txn_abort(txn);
        reply->status = MHD_HTTP_GONE;
        snprintf(feed_msg, sizeof(feed_msg),
                 "changes after generation %" PRIu64 " are no longer logged (log floor %" PRIu64
                 "): a snapshot is needed",
                 since, floor);
        reply->error = feed_msg;
        return;
    }
    /* an up-to-date poll (77 bytes) is not worth a deflate state: sent as it is */
    feed_start(db, txn, st, FEED_CHANGES, since, gen, since < gen && feed_want_gzip(c), reply);
}
