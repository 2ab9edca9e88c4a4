/*
 * test_feed - the snapshot / change-feed wire format (schema/feed.h): round trips pushed
 * at once, byte by byte and in random chunks; the documented byte layout; every
 * malformation with its own error; one flipped bit anywhere; truncation at every length;
 * the callback's return; encoder refusals; and a golden file,
 * tests/data/feed/small-snapshot.bin, that notices any change of the format.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/sha256.h"
#include "schema/feed.h"
#include "schema/rcpt.h"

#define MAXREC 64

/* ---- records, copied ----------------------------------------------------------------- */

struct rec {
    int type;
    char *key;
    size_t keylen;
    unsigned char *val;
    size_t vallen;
};

struct recs {
    size_t n;
    struct rec r[MAXREC];
};

static void recs_add(struct recs *s, int type, const void *key, size_t keylen, const void *val,
                     size_t vallen)
{
    struct rec *r;

    assert_true(s->n < MAXREC);
    r = &s->r[s->n++];
    r->type = type;
    r->keylen = keylen;
    r->vallen = vallen;
    r->key = malloc(keylen + 1);
    r->val = malloc(vallen + 1);
    assert_non_null(r->key);
    assert_non_null(r->val);
    if (keylen > 0)
        memcpy(r->key, key, keylen);
    if (vallen > 0)
        memcpy(r->val, val, vallen);
}

static void recs_free(struct recs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->r[i].key);
        free(s->r[i].val);
    }
    s->n = 0;
}

/* recs_diff - the index of the first record that differs, or -1 when equal */
static long recs_diff(const struct recs *a, const struct recs *b)
{
    size_t n = a->n < b->n ? a->n : b->n;

    for (size_t i = 0; i < n; i++) {
        const struct rec *x = &a->r[i], *y = &b->r[i];
        if (x->type != y->type || x->keylen != y->keylen || x->vallen != y->vallen ||
            memcmp(x->key, y->key, x->keylen) != 0 || memcmp(x->val, y->val, x->vallen) != 0)
            return (long)i;
    }
    return a->n == b->n ? -1 : (long)n;
}

/* recs_is_prefix - 1 when a is a prefix of b */
static int recs_is_prefix(const struct recs *a, const struct recs *b)
{
    long d = recs_diff(a, b);

    return d < 0 || (a->n <= b->n && (size_t)d == a->n);
}

/* ---- the callback ---------------------------------------------------------------------- */

struct cap {
    const struct feed_dec *dec; /* record pointers must lie in its buffer */
    int headers;
    struct feed_header h;
    struct recs got;
    int misplaced; /* a record before the header, a second header, a header that changed */
    int oob;       /* a record pointer outside the decoder's buffer */
    size_t calls;
    size_t stop_at; /* return stop_rc from call number stop_at (1 = the header); 0 never */
    int stop_rc;
    int stopped; /* feed_dec_stopped() after the last push */
};

static int cb(void *ctx, const struct feed_header *h, const struct feed_record *r)
{
    struct cap *c = ctx;

    c->calls++;
    if (r == NULL) {
        if (c->headers++ > 0 || c->got.n > 0)
            c->misplaced++;
        c->h = *h;
    } else {
        if (c->headers != 1 || h->kind != c->h.kind || h->from != c->h.from || h->to != c->h.to)
            c->misplaced++;
        if (c->dec != NULL) {
            const unsigned char *lo = c->dec->buf, *hi = c->dec->buf + sizeof(c->dec->buf);
            const unsigned char *k = (const unsigned char *)r->key;
            if (k < lo || k > hi || r->keylen > (size_t)(hi - k) || r->val < lo || r->val > hi ||
                r->vallen > (size_t)(hi - r->val))
                c->oob++;
        }
        if (c->got.n < MAXREC)
            recs_add(&c->got, r->type, r->key, r->keylen, r->val, r->vallen);
        else
            c->misplaced++;
    }
    if (c->stop_at != 0 && c->calls == c->stop_at)
        return c->stop_rc;
    return 0;
}

/* ---- building feeds -------------------------------------------------------------------- */

struct fb {
    unsigned char *buf;
    size_t len, cap;
    struct feed_enc e;
    struct feed_header h;
    struct recs want;
};

static void fb_reserve(struct fb *f, size_t n)
{
    if (f->len + n <= f->cap)
        return;
    while (f->len + n > f->cap)
        f->cap = f->cap ? 2 * f->cap : 256;
    f->buf = realloc(f->buf, f->cap);
    assert_non_null(f->buf);
}

/* the key the next fb_header() keys its feed with, and decode() checks with (NULL: none) */
static const char *enc_key, *dec_key;

static void fb_header(struct fb *f, enum feed_kind kind, uint64_t from, uint64_t to)
{
    memset(f, 0, sizeof(*f));
    f->h.kind = kind;
    f->h.from = from;
    f->h.to = to;
    fb_reserve(f, FEED_HEADER);
    if (enc_key != NULL)
        feed_enc_header_keyed(&f->e, f->buf, &f->h, enc_key, strlen(enc_key));
    else
        feed_enc_header(&f->e, f->buf, &f->h);
    f->len = FEED_HEADER;
}

static void fb_record(struct fb *f, int type, const void *key, size_t keylen, const void *val,
                      size_t vallen)
{
    size_t n;

    fb_reserve(f, 7 + keylen + vallen);
    n = feed_enc_record(&f->e, f->buf + f->len, f->cap - f->len, type, key, keylen, val, vallen);
    assert_int_equal(n, 7 + keylen + vallen);
    f->len += n;
    recs_add(&f->want, type, key, keylen, val, vallen);
}

/* fb_unwant - the last record is not expected to be delivered (it is malformed) */
static void fb_unwant(struct fb *f)
{
    struct rec *r;

    assert_true(f->want.n > 0);
    r = &f->want.r[--f->want.n];
    free(r->key);
    free(r->val);
}

static void fb_str(struct fb *f, int type, const char *key, const void *val, size_t vallen)
{
    fb_record(f, type, key, strlen(key), val, vallen);
}

/* fb_raw - bytes as they are (a malformed record), not counted or hashed */
static void fb_raw(struct fb *f, const void *p, size_t n)
{
    fb_reserve(f, n);
    memcpy(f->buf + f->len, p, n);
    f->len += n;
}

/* fb_rawrec - a record head with the given payload length, then the payload bytes */
static void fb_rawrec(struct fb *f, int type, uint32_t plen, const void *payload, size_t n)
{
    unsigned char head[5] = {(unsigned char)type, (unsigned char)(plen >> 24),
                             (unsigned char)(plen >> 16), (unsigned char)(plen >> 8),
                             (unsigned char)plen};

    fb_raw(f, head, 5);
    fb_raw(f, payload, n);
}

static void fb_trailer(struct fb *f)
{
    fb_reserve(f, FEED_TRAILER_SIZE);
    feed_enc_trailer(&f->e, f->buf + f->len);
    f->len += FEED_TRAILER_SIZE;
}

static void fb_free(struct fb *f)
{
    free(f->buf);
    recs_free(&f->want);
    memset(f, 0, sizeof(*f));
}

/* mkrcpt - an encoded struct rcpt into out (RCPT_MAX bytes) */
static size_t mkrcpt(unsigned char *out, enum rcpt_kind kind, enum rcpt_state st, unsigned flags,
                     const char *primary, const char *entry)
{
    struct rcpt r;
    int n;

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.state = st;
    r.flags = flags;
    r.primary = primary;
    r.primary_len = strlen(primary);
    r.entry = entry;
    r.entry_len = strlen(entry);
    n = rcpt_encode(out, RCPT_MAX, &r);
    assert_true(n > 0);
    return (size_t)n;
}

/* the snapshot of the round-trip tests, without its trailer */
static void snapshot_body(struct fb *f)
{
    unsigned char v[RCPT_MAX];
    size_t n;

    fb_header(f, FEED_SNAPSHOT, 0, 42);
    n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "john.doe@example.org", "uuid-0001");
    fb_str(f, 'A', "john.doe@example.org", v, n);
    n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "john.doe@example.org", "uuid-0001");
    fb_str(f, 'A', "jd@example.org", v, n);
    n = mkrcpt(v, RCPT_GROUP, RCPT_DISABLED, 0, "sales@example.org", "cn=sales,ou=groups");
    fb_str(f, 'A', "sales@example.org", v, n);
    n = mkrcpt(v, RCPT_ALIAS, RCPT_ACTIVE, RCPT_FLAG_CATCHALL, "@example.org", "uuid-0003");
    fb_str(f, 'A', "@example.org", v, n);
    fb_str(f, 'M', "example.org", "c", 1);
    fb_str(f, 'M', "example.net", "d", 1);
}

static void snapshot(struct fb *f)
{
    snapshot_body(f);
    fb_trailer(f);
}

static void changes_body(struct fb *f)
{
    unsigned char v[RCPT_MAX];
    size_t n;

    fb_header(f, FEED_CHANGES, 42, 45);
    n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "new@example.org", "uuid-0009");
    fb_str(f, '+', "new@example.org", v, n);
    n = mkrcpt(v, RCPT_USER, RCPT_DISABLED, 0, "john.doe@example.org", "uuid-0001");
    fb_str(f, '~', "john.doe@example.org", v, n);
    fb_str(f, '-', "old@example.org", NULL, 0);
    fb_str(f, 'D', "example.com", NULL, 0);
    fb_str(f, 'X', "example.net", NULL, 0);
}

static void changes(struct fb *f)
{
    changes_body(f);
    fb_trailer(f);
}

/* the golden snapshot: tiny on purpose */
static void small_snapshot(struct fb *f)
{
    unsigned char v[RCPT_MAX];
    size_t n;

    fb_header(f, FEED_SNAPSHOT, 0, 7);
    n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "postmaster@example.org", "e1");
    fb_str(f, 'A', "postmaster@example.org", v, n);
    fb_str(f, 'M', "example.org", "c", 1);
    fb_trailer(f);
}

/* ---- decoding -------------------------------------------------------------------------- */

enum mode { AT_ONCE, BYTEWISE, RANDOM };

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* decode - push p[0..len) in the given way, each piece from an exact-size heap copy (so
 * ASan sees over-reads); stops at the first non-zero push. Returns that, or 0; *finish is
 * feed_dec_finish() afterwards. */
static int decode(const unsigned char *p, size_t len, enum mode m, uint64_t seed, struct cap *c,
                  int *finish)
{
    struct feed_dec *d = malloc(sizeof(*d));
    size_t off = 0;
    int rc = 0;

    assert_non_null(d);
    feed_dec_init(d);
    if (dec_key != NULL)
        feed_dec_key(d, dec_key, strlen(dec_key));
    c->dec = d;
    seed = seed * 2654435761u + 0x9e3779b97f4a7c15u;
    while (off < len && rc == 0) {
        size_t n = len - off;
        unsigned char *piece;
        if (m == BYTEWISE)
            n = 1;
        else if (m == RANDOM) {
            uint64_t x = rnd(&seed);
            size_t want = x % 8 == 0 ? 0 : x % 4 == 1 ? (size_t)(x >> 8) % 600 : (x >> 8) % 40;
            n = want < n ? want : n;
        }
        piece = malloc(n ? n : 1);
        assert_non_null(piece);
        memcpy(piece, p + off, n);
        rc = feed_dec_push(d, piece, n, cb, c);
        free(piece);
        off += n;
    }
    *finish = feed_dec_finish(d);
    c->stopped = feed_dec_stopped(d);
    c->dec = NULL;
    free(d);
    return rc;
}

static const char *mode_name(enum mode m)
{
    return m == AT_ONCE ? "at once" : m == BYTEWISE ? "byte by byte" : "random chunks";
}

/* expect_ok - the feed decodes in mode m to exactly its header and records */
static void expect_ok(const struct fb *f, enum mode m, uint64_t seed)
{
    struct cap c;
    int finish, rc;
    long d;

    memset(&c, 0, sizeof(c));
    rc = decode(f->buf, f->len, m, seed, &c, &finish);
    if (rc != 0)
        fail_msg("%s (seed %lu): push returned %d (%s)", mode_name(m), (unsigned long)seed, rc,
                 feed_strerror(rc));
    if (finish != 0)
        fail_msg("%s (seed %lu): finish returned %d", mode_name(m), (unsigned long)seed, finish);
    assert_int_equal(c.headers, 1);
    assert_int_equal(c.misplaced, 0);
    assert_int_equal(c.oob, 0);
    assert_int_equal(c.h.kind, f->h.kind);
    assert_true(c.h.from == f->h.from);
    assert_true(c.h.to == f->h.to);
    d = recs_diff(&c.got, &f->want);
    if (d >= 0)
        fail_msg("%s (seed %lu): %zu records delivered, %zu expected; first difference at %ld",
                 mode_name(m), (unsigned long)seed, c.got.n, f->want.n, d);
    recs_free(&c.got);
}

/* expect_err - decoding f (at once and byte by byte) ends with push returning err; the
 * records delivered before it are a prefix of f->want */
static void expect_err(const struct fb *f, int err)
{
    for (int m = AT_ONCE; m <= BYTEWISE; m++) {
        struct cap c;
        int finish, rc;

        memset(&c, 0, sizeof(c));
        rc = decode(f->buf, f->len, (enum mode)m, 0, &c, &finish);
        if (rc != err)
            fail_msg("%s: push returned %d (%s), expected %d (%s)", mode_name((enum mode)m), rc,
                     feed_strerror(rc), err, feed_strerror(err));
        if (err != FEED_ERR_TRAILING) /* bytes after a verified feed: finish may say 0 */
            assert_int_not_equal(finish, 0);
        assert_int_equal(c.misplaced, 0);
        assert_int_equal(c.oob, 0);
        assert_true(recs_is_prefix(&c.got, &f->want));
        recs_free(&c.got);
    }
}

/* ---- round trips ----------------------------------------------------------------------- */

static void round_trips(const struct fb *f)
{
    expect_ok(f, AT_ONCE, 0);
    expect_ok(f, BYTEWISE, 0);
    for (uint64_t seed = 1; seed <= 200; seed++)
        expect_ok(f, RANDOM, seed);
}

static void test_snapshot_round_trip(void **state)
{
    struct fb f;

    (void)state;
    snapshot(&f);
    assert_int_equal(f.want.n, 6);
    round_trips(&f);
    fb_free(&f);
}

static void test_changes_round_trip(void **state)
{
    struct fb f;

    (void)state;
    changes(&f);
    assert_int_equal(f.want.n, 5);
    round_trips(&f);
    fb_free(&f);
}

/* no records at all, and from == to */
static void test_empty_feeds(void **state)
{
    struct fb f;

    (void)state;
    fb_header(&f, FEED_SNAPSHOT, 0, 0);
    fb_trailer(&f);
    assert_int_equal(f.len, FEED_HEADER + FEED_TRAILER_SIZE);
    round_trips(&f);
    fb_free(&f);
    fb_header(&f, FEED_CHANGES, 9, 9);
    fb_trailer(&f);
    round_trips(&f);
    fb_free(&f);
    fb_header(&f, FEED_CHANGES, UINT64_MAX - 1, UINT64_MAX);
    fb_trailer(&f);
    round_trips(&f);
    fb_free(&f);
}

/*
 * the longest key every record type may carry (ADDR_MAX) is accepted; a payload of exactly
 * FEED_MAX_RECORD passes the length check and is then judged by its content (no record type
 * has values that long, so it is a malformed record, not a length error)
 */
static void test_limits_accepted(void **state)
{
    unsigned char *val = calloc(1, FEED_MAX_RECORD), rec[RCPT_MAX];
    char key[ADDR_MAX + 1];
    size_t n;
    struct fb f;

    (void)state;
    assert_non_null(val);
    memset(key, 'k', ADDR_MAX);
    key[ADDR_MAX] = '\0';
    n = mkrcpt(rec, RCPT_USER, RCPT_ACTIVE, 0, key, "e");
    fb_header(&f, FEED_SNAPSHOT, 0, 1);
    fb_record(&f, 'A', key, ADDR_MAX, rec, n);
    fb_record(&f, 'M', key, ADDR_MAX, "d", 1);
    fb_trailer(&f);
    expect_ok(&f, AT_ONCE, 0);
    expect_ok(&f, RANDOM, 7);
    fb_free(&f);
    snapshot_body(&f);
    val[0] = 0, val[1] = 3;
    memcpy(val + 2, "big", 3);
    fb_rawrec(&f, 'A', FEED_MAX_RECORD, val, FEED_MAX_RECORD);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_RECORD);
    fb_free(&f);
    free(val);
}

/* the bytes as feed.h documents them, built by hand, against the encoder */
static void test_layout_by_hand(void **state)
{
    static const unsigned char head[FEED_HEADER] = {
        'R', 'C', 'P',  'T',  'F', 'E', 'E', 'D', 0, 2, 'C',  0,    0, 0, 0, 0,
        0,   0,   0x01, 0x02, 0,   0,   0,   0,   0, 0, 0x01, 0x05, 0, 0, 0, 0};
    static const unsigned char rec[] = {'D', 0,   0,   0,   13,  0,   11,  'e', 'x',
                                        'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'};
    static const unsigned char rec2[] = {'-', 0, 0, 0, 3, 0, 1, 'x'};
    unsigned char want[FEED_HEADER + sizeof(rec) + sizeof(rec2) + FEED_TRAILER_SIZE];
    struct sha256 s;
    struct fb f;

    (void)state;
    memcpy(want, head, FEED_HEADER);
    memcpy(want + FEED_HEADER, rec, sizeof(rec));
    memcpy(want + FEED_HEADER + sizeof(rec), rec2, sizeof(rec2));
    {
        unsigned char *t = want + FEED_HEADER + sizeof(rec) + sizeof(rec2);
        t[0] = 'Z';
        t[1] = 0, t[2] = 0, t[3] = 0, t[4] = 40;
        memset(t + 5, 0, 8);
        t[12] = 2;
        sha256_init(&s);
        sha256_update(&s, want, FEED_HEADER + sizeof(rec) + sizeof(rec2));
        sha256_final(&s, t + 13);
    }
    fb_header(&f, FEED_CHANGES, 0x0102, 0x0105);
    fb_str(&f, 'D', "example.com", NULL, 0);
    fb_str(&f, '-', "x", NULL, 0);
    fb_trailer(&f);
    assert_int_equal(f.len, sizeof(want));
    assert_memory_equal(f.buf, want, sizeof(want));
    expect_ok(&f, AT_ONCE, 0);
    fb_free(&f);
}

/* ---- header errors --------------------------------------------------------------------- */

/* header_err - a valid snapshot whose header byte at off is set to v */
static void header_err(size_t off, unsigned char v, int err)
{
    struct fb f;
    struct cap c;
    int finish;

    snapshot(&f);
    f.buf[off] = v;
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), err);
    assert_int_equal(finish, FEED_ERR_TRUNCATED);
    assert_int_equal(c.headers, 0); /* the callback never saw the bad header */
    recs_free(&c.got);
    /* a bad header is refused as soon as its 32 bytes are in */
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, FEED_HEADER, BYTEWISE, 0, &c, &finish), err);
    assert_int_equal(c.calls, 0);
    fb_free(&f);
}

static void test_bad_magic(void **state)
{
    (void)state;
    header_err(0, 'r', FEED_ERR_MAGIC);
    header_err(7, 'd', FEED_ERR_MAGIC);
    header_err(3, 0, FEED_ERR_MAGIC);
}

static void test_version(void **state)
{
    (void)state;
    header_err(9, 3, FEED_ERR_VERSION);
    header_err(9, 0, FEED_ERR_VERSION);
    header_err(8, 1, FEED_ERR_VERSION); /* 0x0102 */
}

/* rehash - a feed whose header was changed by hand gets its trailer's checksum again */
static void rehash(struct fb *f)
{
    struct sha256 s;

    sha256_init(&s);
    sha256_update(&s, f->buf, f->len - FEED_TRAILER_SIZE);
    sha256_final(&s, f->buf + f->len - SHA256_SIZE);
}

/* test_version1 - a format-1 feed (a hub not yet upgraded) is still read, unkeyed only */
static void test_version1(void **state)
{
    struct fb f;
    struct cap c = {0};
    int finish;

    (void)state;
    snapshot(&f);
    f.buf[9] = 1;
    rehash(&f);
    expect_ok(&f, AT_ONCE, 0);
    expect_ok(&f, BYTEWISE, 0);
    dec_key = "token"; /* an edge with a token: format 1 cannot be keyed */
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), FEED_ERR_UNKEYED);
    recs_free(&c.got);
    dec_key = NULL;
    f.buf[11] = FEED_FLAG_KEYED; /* no flags in format 1 */
    rehash(&f);
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), FEED_ERR_HEADER);
    recs_free(&c.got);
    fb_free(&f);
}

/* test_keyed - a feed keyed with the feed token (HMAC-SHA-256 trailer) */
static void test_keyed(void **state)
{
    struct fb f, plain;
    struct cap c = {0};
    int finish;

    (void)state;
    enc_key = "s3cret-feed-token";
    snapshot(&f);
    enc_key = NULL;
    snapshot(&plain);
    assert_int_equal(f.buf[11], FEED_FLAG_KEYED);
    assert_int_equal(f.len, plain.len); /* the same layout, another trailer */
    assert_memory_not_equal(f.buf + f.len - SHA256_SIZE, plain.buf + plain.len - SHA256_SIZE,
                            SHA256_SIZE);
    dec_key = "s3cret-feed-token";
    expect_ok(&f, AT_ONCE, 0);
    expect_ok(&f, BYTEWISE, 0);
    expect_ok(&f, RANDOM, 7);
    assert_int_equal(decode(plain.buf, plain.len, AT_ONCE, 0, &c, &finish), FEED_ERR_UNKEYED);
    recs_free(&c.got);
    dec_key = "another-token";
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), FEED_ERR_MAC);
    assert_int_equal(finish, FEED_ERR_TRUNCATED);
    recs_free(&c.got);
    dec_key = NULL;
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), FEED_ERR_KEYED);
    recs_free(&c.got);
    /* with the right key, a plain SHA-256 in a keyed feed's trailer does not pass */
    dec_key = "s3cret-feed-token";
    memcpy(f.buf + f.len - SHA256_SIZE, plain.buf + plain.len - SHA256_SIZE, SHA256_SIZE);
    f.buf[11] = FEED_FLAG_KEYED;
    memset(&c, 0, sizeof(c));
    assert_int_equal(decode(f.buf, f.len, AT_ONCE, 0, &c, &finish), FEED_ERR_MAC);
    recs_free(&c.got);
    dec_key = NULL;
    fb_free(&f);
    fb_free(&plain);
}

static void test_unknown_kind(void **state)
{
    (void)state;
    header_err(10, 's', FEED_ERR_HEADER);
    header_err(10, 'X', FEED_ERR_HEADER);
    header_err(10, 0, FEED_ERR_HEADER);
}

static void test_reserved_bytes(void **state)
{
    (void)state;
    header_err(11, 2, FEED_ERR_HEADER);
    header_err(11, 0x80, FEED_ERR_HEADER);
    header_err(11, FEED_FLAG_KEYED, FEED_ERR_KEYED); /* a keyed feed, and no key to check it */
    for (size_t off = 28; off < 32; off++)
        header_err(off, 1, FEED_ERR_HEADER);
}

static void test_from_after_to(void **state)
{
    struct fb f;

    (void)state;
    fb_header(&f, FEED_CHANGES, 5, 4);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_HEADER);
    fb_free(&f);
    fb_header(&f, FEED_CHANGES, UINT64_MAX, 0);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_HEADER);
    fb_free(&f);
}

static void test_snapshot_from_nonzero(void **state)
{
    struct fb f;

    (void)state;
    fb_header(&f, FEED_SNAPSHOT, 1, 5);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_HEADER);
    fb_free(&f);
    fb_header(&f, FEED_SNAPSHOT, 5, 5);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_HEADER);
    fb_free(&f);
}

/* ---- record errors --------------------------------------------------------------------- */

static void test_type_not_for_kind(void **state)
{
    unsigned char v[RCPT_MAX];
    size_t n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "a@example.org", "e");
    static const int snap_bad[] = {'+', '~', '-', 'D', 'X', 'E', 'Q', 0, 'a', 0xff};
    static const int chg_bad[] = {'A', 'E', 'M', 'Q', 0, 'z'};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(snap_bad) / sizeof(snap_bad[0]); i++) {
        snapshot_body(&f);
        fb_rawrec(&f, snap_bad[i], (uint32_t)(2 + 13 + n),
                  "\x00\x0d"
                  "a@example.org",
                  15);
        fb_raw(&f, v, n);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_TYPE);
        fb_free(&f);
    }
    for (size_t i = 0; i < sizeof(chg_bad) / sizeof(chg_bad[0]); i++) {
        changes_body(&f);
        fb_rawrec(&f, chg_bad[i], (uint32_t)(2 + 13 + n),
                  "\x00\x0d"
                  "a@example.org",
                  15);
        fb_raw(&f, v, n);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_TYPE);
        fb_free(&f);
    }
}

/* a record head claiming a huge payload is refused with the head, before any payload */
static void test_record_too_long(void **state)
{
    static const uint32_t lens[] = {FEED_MAX_RECORD + 1, 100u * 1024 * 1024, UINT32_MAX};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct feed_dec *d = malloc(sizeof(*d));
        struct cap c;
        int rc;

        assert_non_null(d);
        snapshot_body(&f);
        fb_rawrec(&f, 'A', lens[i], "\x00\x01x", 3); /* a few payload bytes, not all */
        memset(&c, 0, sizeof(c));
        feed_dec_init(d);
        /* everything up to and including the 5-byte head, nothing of the payload */
        rc = feed_dec_push(d, f.buf, f.len - 3, cb, &c);
        if (rc != FEED_ERR_LENGTH)
            fail_msg("length %lu: push up to the record head returned %d (%s), expected %d",
                     (unsigned long)lens[i], rc, feed_strerror(rc), FEED_ERR_LENGTH);
        assert_int_equal(c.got.n, f.want.n);
        assert_int_equal(feed_dec_finish(d), FEED_ERR_TRUNCATED);
        recs_free(&c.got);
        free(d);
        /* and with the feed pushed whole or byte by byte */
        expect_err(&f, FEED_ERR_LENGTH);
        fb_free(&f);
    }
    /* the same in a change feed and for the trailer type */
    changes_body(&f);
    fb_rawrec(&f, '-', 100u * 1024 * 1024, "", 0);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
    changes_body(&f);
    fb_rawrec(&f, 'Z', 100u * 1024 * 1024, "", 0);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
}

static void test_key_longer_than_payload(void **state)
{
    struct fb f;

    (void)state;
    changes_body(&f);
    fb_rawrec(&f, '-', 6,
              "\x00\x05"
              "abcd",
              6); /* key of 5 in 4 bytes */
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
    snapshot_body(&f);
    fb_rawrec(&f, 'M', 2 + 11 + 1,
              "\xff\xff"
              "example.orgc",
              14);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
    /* payloads too short to hold the key length */
    changes_body(&f);
    fb_rawrec(&f, 'X', 1, "\x00", 1);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
    changes_body(&f);
    fb_rawrec(&f, 'X', 0, "", 0);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_LENGTH);
    fb_free(&f);
}

static void test_zero_length_key(void **state)
{
    struct fb f;

    (void)state;
    changes_body(&f);
    fb_rawrec(&f, '-', 2, "\x00\x00", 2);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_RECORD);
    fb_free(&f);
    snapshot_body(&f);
    fb_rawrec(&f, 'M', 3,
              "\x00\x00"
              "c",
              3);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_RECORD);
    fb_free(&f);
}

static void test_key_too_long(void **state)
{
    unsigned char payload[2 + FEED_MAX_KEY + 1 + 3];
    struct fb f;

    (void)state;
    /* keys are addresses or domains: at most ADDR_MAX, and never over FEED_MAX_KEY */
    payload[0] = (FEED_MAX_KEY + 1) >> 8;
    payload[1] = (FEED_MAX_KEY + 1) & 0xff;
    memset(payload + 2, 'k', FEED_MAX_KEY + 1);
    memcpy(payload + 2 + FEED_MAX_KEY + 1, "\x01\x00x", 3);
    snapshot_body(&f);
    fb_rawrec(&f, 'M', sizeof(payload), payload, sizeof(payload));
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_RECORD);
    fb_free(&f);
    /* and in a change feed */
    changes_body(&f);
    fb_rawrec(&f, '-', 2 + FEED_MAX_KEY + 1, payload, 2 + FEED_MAX_KEY + 1);
    fb_trailer(&f);
    expect_err(&f, FEED_ERR_RECORD);
    fb_free(&f);
}

/* 'A', '+' and '~' values that are not struct rcpt records */
static void test_bad_rcpt_value(void **state)
{
    unsigned char v[RCPT_MAX + 1];
    size_t n = mkrcpt(v, RCPT_USER, RCPT_ACTIVE, 0, "a@example.org", "e");
    struct {
        size_t off, len;
        int set, val;
    } bad[] = {
        {0, 0, 0, 0},               /* empty */
        {0, RCPT_HEADER - 1, 0, 0}, /* shorter than its header */
        {0, n - 1, 0, 0},           /* truncated */
        {0, n + 1, 0, 0},           /* a byte left over */
        {0, n, 1, 2},               /* version 2 */
        {1, n, 1, 9},               /* kind 9 */
        {2, n, 1, 0},               /* state 0 */
        {3, n, 1, 0x80},            /* unknown flag */
    };
    struct fb f;

    (void)state;
    v[n] = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char w[RCPT_MAX + 1];
        memcpy(w, v, sizeof(w));
        if (bad[i].set)
            w[bad[i].off] = (unsigned char)bad[i].val;
        snapshot_body(&f);
        fb_record(&f, 'A', "a@example.org", 13, w, bad[i].len);
        fb_unwant(&f);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_RECORD);
        fb_free(&f);
        for (int t = 0; t < 2; t++) {
            changes_body(&f);
            fb_record(&f, t ? '~' : '+', "a@example.org", 13, w, bad[i].len);
            fb_unwant(&f);
            fb_trailer(&f);
            expect_err(&f, FEED_ERR_RECORD);
            fb_free(&f);
        }
    }
}

/*
 * 'E' (an entry's address list) was in format 1's description but never sent: the decoder
 * refuses it as an unknown type, well-formed list or not
 */
static void test_entry_list_refused(void **state)
{
    static const struct {
        const char *v;
        size_t len;
    } lists[] = {
        {"\x03\x00"
         "abc",
         5}, /* a good list */
        {"\x05\x00"
         "abcd",
         6},         /* 5 bytes claimed, 4 there */
        {"\x01", 1}, /* half a length */
    };
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        snapshot_body(&f);
        fb_record(&f, 'E', "uuid-0042", 9, lists[i].v, lists[i].len);
        fb_unwant(&f);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_TYPE);
        fb_free(&f);
    }
}

/* '-', 'D' and 'X' carry no value */
static void test_value_where_none(void **state)
{
    static const int types[] = {'-', 'D', 'X'};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        changes_body(&f);
        fb_record(&f, types[i], "old@example.org", 15, "v", 1);
        fb_unwant(&f);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_RECORD);
        fb_free(&f);
    }
}

static void test_bad_managed_kind(void **state)
{
    static const struct {
        const char *v;
        size_t len;
    } bad[] = {{"x", 1}, {"C", 1}, {"", 0}, {"cc", 2}, {"\0", 1}};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snapshot_body(&f);
        fb_record(&f, 'M', "example.com", 11, bad[i].v, bad[i].len);
        fb_unwant(&f);
        fb_trailer(&f);
        expect_err(&f, FEED_ERR_RECORD);
        fb_free(&f);
    }
}

/* ---- trailer --------------------------------------------------------------------------- */

static void test_trailer_count(void **state)
{
    static const int64_t delta[] = {1, -1, 1 << 24, -9};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
        uint64_t cnt = 0;
        unsigned char *t;

        snapshot(&f);
        t = f.buf + f.len - FEED_TRAILER_SIZE;
        for (int k = 0; k < 8; k++)
            cnt = cnt << 8 | t[5 + k];
        assert_true(cnt == f.want.n);
        cnt += (uint64_t)delta[i];
        for (int k = 0; k < 8; k++)
            t[5 + k] = (unsigned char)(cnt >> (56 - 8 * k));
        expect_err(&f, FEED_ERR_COUNT);
        fb_free(&f);
    }
}

static void test_trailer_checksum(void **state)
{
    struct fb f;

    (void)state;
    /* a bit of the digest */
    snapshot(&f);
    f.buf[f.len - 1] ^= 1;
    expect_err(&f, FEED_ERR_CHECKSUM);
    fb_free(&f);
    /* a still well-formed record changed after the trailer was computed */
    changes(&f);
    {
        unsigned char *p = memmem(f.buf, f.len, "example.com", 11);
        assert_non_null(p);
        p[0] = 'E';
        f.want.r[3].key[0] = 'E';
    }
    expect_err(&f, FEED_ERR_CHECKSUM);
    fb_free(&f);
}

static void test_trailer_length(void **state)
{
    static const uint32_t lens[] = {0, 8, 39, 41, 8 + SHA256_SIZE + 8};
    struct fb f;

    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        unsigned char pad[128];
        changes(&f);
        f.len -= FEED_TRAILER_SIZE - 5; /* keep the trailer head, fix its length */
        f.buf[f.len - 4] = (unsigned char)(lens[i] >> 24);
        f.buf[f.len - 3] = (unsigned char)(lens[i] >> 16);
        f.buf[f.len - 2] = (unsigned char)(lens[i] >> 8);
        f.buf[f.len - 1] = (unsigned char)lens[i];
        memset(pad, 0, sizeof(pad));
        pad[7] = (unsigned char)f.want.n;
        fb_raw(&f, pad, lens[i]);
        expect_err(&f, FEED_ERR_LENGTH);
        fb_free(&f);
    }
}

static void test_trailing_bytes(void **state)
{
    struct fb f, g;
    struct feed_dec *d = malloc(sizeof(*d));
    struct cap c;
    int rc;

    (void)state;
    assert_non_null(d);
    /* in the same push */
    changes(&f);
    fb_raw(&f, "\n", 1);
    expect_err(&f, FEED_ERR_TRAILING);
    fb_free(&f);
    /* a second feed after the first */
    changes(&f);
    snapshot(&g);
    fb_raw(&f, g.buf, g.len);
    expect_err(&f, FEED_ERR_TRAILING);
    fb_free(&g);
    fb_free(&f);
    /* in a later push, after the feed was complete */
    changes(&f);
    memset(&c, 0, sizeof(c));
    feed_dec_init(d);
    assert_int_equal(feed_dec_push(d, f.buf, f.len, cb, &c), 0);
    assert_int_equal(feed_dec_finish(d), 0);
    rc = feed_dec_push(d, "x", 1, cb, &c);
    assert_int_equal(rc, FEED_ERR_TRAILING);
    assert_int_equal(c.got.n, f.want.n);
    recs_free(&c.got);
    fb_free(&f);
    free(d);
}

/* ---- every bit, every length ----------------------------------------------------------- */

static void flip_all(const struct fb *f)
{
    unsigned char *b = malloc(f->len);
    size_t silent = 0, accepted = 0;

    assert_non_null(b);
    for (size_t pos = 0; pos < f->len; pos++) {
        for (int bit = 0; bit < 8; bit++) {
            struct cap c;
            int finish, rc;

            memcpy(b, f->buf, f->len);
            b[pos] ^= (unsigned char)(1u << bit);
            memset(&c, 0, sizeof(c));
            rc = decode(b, f->len, AT_ONCE, 0, &c, &finish);
            if (rc != 0 && (rc > FEED_ERR_MAGIC || rc < FEED_ERR_MAC || rc == FEED_ERR_STOPPED))
                fail_msg("flip byte %zu bit %d: push returned %d, not a feed error", pos, bit, rc);
            assert_int_equal(c.oob, 0);
            if (rc == 0 && finish == 0) {
                accepted++;
                if (c.headers == 1 && c.h.kind == f->h.kind && c.h.from == f->h.from &&
                    c.h.to == f->h.to && recs_diff(&c.got, &f->want) < 0) {
                    print_error("flip byte %zu bit %d: accepted with the same records\n", pos, bit);
                    silent++;
                } else {
                    print_error("flip byte %zu bit %d: accepted with different content\n", pos,
                                bit);
                }
            }
            recs_free(&c.got);
        }
    }
    free(b);
    if (silent > 0)
        fail_msg("%zu single-bit flips decoded to the same records and verified", silent);
    /* the checksum covers everything before the trailer and the trailer is all checked,
     * so a corrupted feed must never verify */
    if (accepted > 0)
        fail_msg("%zu single-bit flips verified", accepted);
}

static void test_bit_flips(void **state)
{
    struct fb f;

    (void)state;
    small_snapshot(&f);
    flip_all(&f);
    fb_free(&f);
    changes(&f);
    flip_all(&f);
    fb_free(&f);
}

static void truncate_all(const struct fb *f)
{
    struct feed_dec *d = malloc(sizeof(*d));
    struct cap c;

    assert_non_null(d);
    for (size_t len = 0; len < f->len; len++) {
        int finish, rc;
        memset(&c, 0, sizeof(c));
        rc = decode(f->buf, len, AT_ONCE, 0, &c, &finish);
        if (rc == 0 && finish != FEED_ERR_TRUNCATED)
            fail_msg("first %zu of %zu bytes: finish returned %d, expected %d", len, f->len, finish,
                     FEED_ERR_TRUNCATED);
        if (rc != 0 && (rc > FEED_ERR_MAGIC || rc < FEED_ERR_TRUNCATED))
            fail_msg("first %zu of %zu bytes: push returned %d", len, f->len, rc);
        assert_true(recs_is_prefix(&c.got, &f->want));
        recs_free(&c.got);
    }
    /* byte by byte into one decoder: not finished until the very last byte */
    memset(&c, 0, sizeof(c));
    feed_dec_init(d);
    for (size_t i = 0; i < f->len; i++) {
        assert_int_equal(feed_dec_finish(d), FEED_ERR_TRUNCATED);
        assert_int_equal(feed_dec_push(d, f->buf + i, 1, cb, &c), 0);
    }
    assert_int_equal(feed_dec_finish(d), 0);
    assert_true(recs_diff(&c.got, &f->want) < 0);
    recs_free(&c.got);
    free(d);
}

static void test_truncation(void **state)
{
    struct fb f;

    (void)state;
    snapshot(&f);
    truncate_all(&f);
    fb_free(&f);
    changes(&f);
    truncate_all(&f);
    fb_free(&f);
}

/* ---- the callback's return ------------------------------------------------------------- */

static void test_callback_return(void **state)
{
    static const int rcs[] = {1, -1, 77, -12345, FEED_ERR_CHECKSUM};
    struct fb f;

    (void)state;
    snapshot(&f);
    for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++) {
        for (size_t at = 1; at <= 1 + f.want.n; at++) {
            for (int m = AT_ONCE; m <= RANDOM; m++) {
                struct cap c;
                int finish, rc;

                memset(&c, 0, sizeof(c));
                c.stop_at = at;
                c.stop_rc = rcs[i];
                rc = decode(f.buf, f.len, (enum mode)m, at, &c, &finish);
                /* wrapped, never mixed with the format's codes */
                if (rc != FEED_ERR_STOPPED || c.stopped != rcs[i])
                    fail_msg("%s, callback %zu returns %d: push returned %d, stopped %d",
                             mode_name((enum mode)m), at, rcs[i], rc, c.stopped);
                assert_int_equal(c.calls, at); /* nothing after the stop */
                assert_int_not_equal(finish, 0);
                recs_free(&c.got);
            }
        }
    }
    fb_free(&f);
}

/* ---- encoder --------------------------------------------------------------------------- */

static void test_enc_record_refuses(void **state)
{
    unsigned char *out = malloc(5 + FEED_MAX_RECORD + 16), key[FEED_MAX_KEY + 1];
    unsigned char *val = calloc(1, FEED_MAX_RECORD + 1);
    struct fb f;
    size_t n;

    (void)state;
    assert_non_null(out);
    assert_non_null(val);
    memset(key, 'k', sizeof(key));
    changes_body(&f);
    /* keys */
    assert_int_equal(feed_enc_record(&f.e, out, 1024, '-', key, 0, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 1024, '-', key, FEED_MAX_KEY + 1, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 1024, '-', key, 65536 + 3, NULL, 0), 0);
    /* records: payload FEED_MAX_RECORD + 1, and much more */
    assert_int_equal(
        feed_enc_record(&f.e, out, 5 + FEED_MAX_RECORD + 16, 'E', key, 3, val, FEED_MAX_RECORD - 4),
        0);
    assert_int_equal(feed_enc_record(&f.e, out, 5 + FEED_MAX_RECORD + 16, 'E', key, FEED_MAX_KEY,
                                     val, FEED_MAX_RECORD),
                     0);
    /* the largest record fits */
    n = feed_enc_record(&f.e, out, 5 + FEED_MAX_RECORD, 'E', key, 3, val, FEED_MAX_RECORD - 5);
    assert_int_equal(n, 5 + FEED_MAX_RECORD);
    /* small buffers: one byte short, and nothing */
    assert_int_equal(feed_enc_record(&f.e, out, 7 + 3 + 9, '-', "abc", 3, val, 10), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 0, '-', "abc", 3, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 5, '-', "abc", 3, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 9, '-', "abc", 3, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 10, '-', "abc", 3, NULL, 0), 10);
    fb_free(&f);

    /* refused calls leave the encoder as it was: the feed still verifies */
    changes_body(&f);
    assert_int_equal(feed_enc_record(&f.e, out, 1024, '-', key, 0, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 4, '-', "abc", 3, NULL, 0), 0);
    assert_int_equal(feed_enc_record(&f.e, out, 1024, '-', key, FEED_MAX_KEY + 1, NULL, 0), 0);
    fb_trailer(&f);
    expect_ok(&f, AT_ONCE, 0);
    fb_free(&f);
    free(val);
    free(out);
}

/* a value length so large that 2 + K + length wraps around size_t must be refused, not
 * written: run in a child, since a wrapped check would write far past the buffer */
static void test_enc_record_length_wraps(void **state)
{
    static const size_t vallens[] = {SIZE_MAX - 2, SIZE_MAX - 1, SIZE_MAX};
    unsigned char small[4] = "abc";

    (void)state;
    for (size_t i = 0; i < sizeof(vallens) / sizeof(vallens[0]); i++) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            unsigned char *out = malloc(4096);
            struct feed_enc e;
            struct feed_header h = {FEED_CHANGES, 0, 1};
            size_t n;
            /* cmocka's handlers would resume the test run in the child */
            signal(SIGSEGV, SIG_DFL);
            signal(SIGBUS, SIG_DFL);
            signal(SIGILL, SIG_DFL);
            signal(SIGFPE, SIG_DFL);
            signal(SIGABRT, SIG_DFL);
            if (out == NULL)
                _exit(3);
            feed_enc_header(&e, out, &h);
            n = feed_enc_record(&e, out, 4096, '+', "k", 1, small, vallens[i]);
            _exit(n == 0 ? 0 : 2);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
            fail_msg("feed_enc_record(keylen 1, vallen SIZE_MAX - %zu, cap 4096) crashed "
                     "(signal %d): 2 + keylen + vallen wraps and passes the length check",
                     SIZE_MAX - vallens[i], WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("feed_enc_record(keylen 1, vallen SIZE_MAX - %zu, cap 4096) not refused "
                     "(child exit status %d: 2 = returned non-zero, 1 = sanitizer report): "
                     "2 + keylen + vallen wraps and passes the length check",
                     SIZE_MAX - vallens[i], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

static void test_strerror(void **state)
{
    static const int errs[] = {FEED_ERR_MAGIC,     FEED_ERR_VERSION, FEED_ERR_HEADER,
                               FEED_ERR_TYPE,      FEED_ERR_LENGTH,  FEED_ERR_RECORD,
                               FEED_ERR_CHECKSUM,  FEED_ERR_COUNT,   FEED_ERR_TRAILING,
                               FEED_ERR_TRUNCATED, FEED_ERR_STOPPED};
    char unknown[128]; /* an unregistered value's text lives in strerror()'s buffer: copy it */

    (void)state;
    assert_non_null(feed_strerror(-1000));
    snprintf(unknown, sizeof(unknown), "%s", feed_strerror(-1000));
    assert_non_null(feed_strerror(0));
    assert_string_not_equal(feed_strerror(0), unknown);
    assert_non_null(feed_strerror(12345));
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        const char *s = feed_strerror(errs[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        if (strcmp(s, unknown) == 0 || strcmp(s, feed_strerror(0)) == 0)
            fail_msg("error %d has no name of its own: '%s'", errs[i], s);
        for (size_t k = 0; k < i; k++)
            if (strcmp(s, feed_strerror(errs[k])) == 0)
                fail_msg("errors %d and %d share the name '%s'", errs[i], errs[k], s);
    }
}

/* ---- golden file ----------------------------------------------------------------------- */

static void path_in_top(char *buf, size_t len, const char *rel)
{
    const char *top = getenv("TOP");
    snprintf(buf, len, "%s/%s", top != NULL && *top ? top : ".", rel);
}

static void test_golden_small_snapshot(void **state)
{
    char path[4096], dir[4096];
    unsigned char *ref;
    struct fb f;
    FILE *fp;
    long n;

    (void)state;
    small_snapshot(&f);
    path_in_top(path, sizeof(path), "tests/data/feed/small-snapshot.bin");
    fp = fopen(path, "rb");
    if (fp == NULL) {
        path_in_top(dir, sizeof(dir), "tests/data/feed");
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            fail_msg("%s is missing and %s cannot be created", path, dir);
        fp = fopen(path, "wb");
        if (fp == NULL || fwrite(f.buf, 1, f.len, fp) != f.len || fclose(fp) != 0)
            fail_msg("%s is missing and cannot be written", path);
        fail_msg("%s was missing: written now (%zu bytes); check it and keep it with the "
                 "sources, then run again",
                 path, f.len);
    }
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    ref = malloc((size_t)n + 1);
    assert_non_null(ref);
    assert_int_equal(fread(ref, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    if ((size_t)n != f.len || memcmp(ref, f.buf, f.len) != 0) {
        size_t i = 0;
        while (i < f.len && i < (size_t)n && ref[i] == f.buf[i])
            i++;
        fail_msg("the encoding of the small snapshot (%zu bytes) differs from %s (%ld bytes) "
                 "from byte %zu: the feed format changed",
                 f.len, path, n, i);
    }
    /* the kept bytes decode to the records they were made of */
    {
        struct fb g = f;
        g.buf = ref;
        g.len = (size_t)n;
        expect_ok(&g, AT_ONCE, 0);
        expect_ok(&g, BYTEWISE, 0);
    }
    free(ref);
    fb_free(&f);
}

/* test_golden_v1 - the golden small snapshot as format 1 wrote it still decodes */
static void test_golden_v1(void **state)
{
    char path[4096];
    unsigned char buf[4096];
    struct cap c = {0};
    struct fb f;
    FILE *fp;
    size_t n;
    int finish;

    (void)state;
    path_in_top(path, sizeof(path), "tests/data/feed/small-snapshot-v1.bin");
    assert_non_null(fp = fopen(path, "rb"));
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    assert_int_equal(buf[9], 1);
    assert_int_equal(decode(buf, n, AT_ONCE, 0, &c, &finish), 0);
    assert_int_equal(finish, 0);
    small_snapshot(&f); /* the same records as format 2 encodes them */
    assert_int_equal(c.got.n, f.want.n);
    recs_free(&c.got);
    fb_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_changes_round_trip),
        cmocka_unit_test(test_empty_feeds),
        cmocka_unit_test(test_limits_accepted),
        cmocka_unit_test(test_layout_by_hand),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_version1),
        cmocka_unit_test(test_keyed),
        cmocka_unit_test(test_golden_v1),
        cmocka_unit_test(test_unknown_kind),
        cmocka_unit_test(test_reserved_bytes),
        cmocka_unit_test(test_from_after_to),
        cmocka_unit_test(test_snapshot_from_nonzero),
        cmocka_unit_test(test_type_not_for_kind),
        cmocka_unit_test(test_record_too_long),
        cmocka_unit_test(test_key_longer_than_payload),
        cmocka_unit_test(test_zero_length_key),
        cmocka_unit_test(test_key_too_long),
        cmocka_unit_test(test_bad_rcpt_value),
        cmocka_unit_test(test_entry_list_refused),
        cmocka_unit_test(test_value_where_none),
        cmocka_unit_test(test_bad_managed_kind),
        cmocka_unit_test(test_trailer_count),
        cmocka_unit_test(test_trailer_checksum),
        cmocka_unit_test(test_trailer_length),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_callback_return),
        cmocka_unit_test(test_enc_record_refuses),
        cmocka_unit_test(test_enc_record_length_wraps),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_golden_small_snapshot),
    };

    return cmocka_run_group_tests_name("feed", tests, NULL, NULL);
}
