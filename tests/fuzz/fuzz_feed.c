/*
 * fuzz_feed - the feed decoder (schema/feed.h) on arbitrary bytes, pushed in pieces.
 *
 * Input: byte 0, low 3 bits = k, bit 3: the decoder has the key FUZZ_KEY (keyed feeds,
 * format 2); the next k bytes are piece sizes (each + 1, used in turn;
 * k == 0 pushes everything at once); the rest is the feed (format 1 or 2). Each piece is pushed
 * from an exact-size heap copy, so ASan sees reads past it.
 *
 * Checked: the header comes once, first, and is valid; every record's pointers and
 * lengths lie inside the decoder's buffer, its type belongs to the kind and its key and
 * value are well formed; re-encoding each record with feed_enc_record() gives exactly the
 * input bytes at that place; a verified feed re-encodes (trailer included) to the whole
 * input; results are 0, a feed error or FEED_ERR_TRUNCATED from finish; pushing the same
 * bytes at once gives the same result and records as pushing them in pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/feed.h"
#include "schema/rcpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "fuzz-key"

static int fuzz_keyed; /* this input's decoder has FUZZ_KEY */

struct fctx {
    const struct feed_dec *d;
    const unsigned char *feed; /* the input feed, to compare re-encoded records with */
    size_t len;
    size_t pos; /* bytes of the input re-encoded so far */
    int headers;
    struct feed_header h;
    struct feed_enc e;
    uint64_t records;
    uint64_t digest; /* of the records seen, to compare two decodings */
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_feed: %s\n", what);
    abort();
}

static int inside(const struct feed_dec *d, const void *p, size_t n)
{
    const unsigned char *lo = d->buf, *hi = d->buf + sizeof(d->buf);
    const unsigned char *q = p;

    return q >= lo && q <= hi && n <= (size_t)(hi - q);
}

static void check_value(const struct feed_header *h, const struct feed_record *r)
{
    struct rcpt rc;

    if (h->kind == FEED_SNAPSHOT && r->type != 'A' && r->type != 'M')
        die("record type not allowed in a snapshot");
    if (h->kind == FEED_CHANGES && r->type != '+' && r->type != '~' && r->type != '-' &&
        r->type != 'D' && r->type != 'X')
        die("record type not allowed in a change feed");
    if (r->keylen == 0 || r->keylen > ADDR_MAX)
        die("key length out of range");
    switch (r->type) {
    case 'A':
    case '+':
    case '~':
        if (rcpt_decode(&rc, r->val, r->vallen) != 0)
            die("address record value is not a struct rcpt");
        break;
    case '-':
    case 'D':
    case 'X':
        if (r->vallen != 0)
            die("value where none belongs");
        break;
    case 'M':
        if (r->vallen != 1 || (r->val[0] != 'c' && r->val[0] != 'd'))
            die("bad managed-domain value");
        break;
    }
}

static int cb(void *ctx, const struct feed_header *h, const struct feed_record *r)
{
    struct fctx *c = ctx;
    unsigned char out[5 + FEED_MAX_RECORD];
    size_t n;

    if (r == NULL) {
        unsigned char hb[FEED_HEADER];
        if (c->headers++ > 0 || c->records > 0)
            die("header twice or after records");
        if ((h->kind != FEED_SNAPSHOT && h->kind != FEED_CHANGES) || h->from > h->to ||
            (h->kind == FEED_SNAPSHOT && h->from != 0))
            die("invalid header delivered");
        c->h = *h;
        feed_enc_header_keyed(&c->e, hb, h, fuzz_keyed ? FUZZ_KEY : NULL,
                              fuzz_keyed ? strlen(FUZZ_KEY) : 0);
        if (c->d->version == 1) { /* format 1: the same header but for its version */
            hb[9] = 1;
            sha256_init(&c->e.sha);
            sha256_update(&c->e.sha, hb, FEED_HEADER);
        }
        if (c->len < FEED_HEADER || memcmp(hb, c->feed, FEED_HEADER) != 0)
            die("header re-encodes differently");
        c->pos = FEED_HEADER;
        return 0;
    }
    if (c->headers != 1 || h->kind != c->h.kind || h->from != c->h.from || h->to != c->h.to)
        die("record without the header, or the header changed");
    if (r->key == NULL || r->val == NULL || !inside(c->d, r->key, r->keylen) ||
        !inside(c->d, r->val, r->vallen))
        die("record pointers outside the decoder's buffer");
    if (7 + r->keylen + r->vallen > 5 + FEED_MAX_RECORD)
        die("record longer than FEED_MAX_RECORD");
    check_value(h, r);
    n = feed_enc_record(&c->e, out, sizeof(out), r->type, r->key, r->keylen, r->val, r->vallen);
    if (n != 7 + r->keylen + r->vallen)
        die("a delivered record does not re-encode");
    if (n > c->len - c->pos || memcmp(out, c->feed + c->pos, n) != 0)
        die("a record re-encodes differently from its input bytes");
    c->pos += n;
    c->records++;
    c->digest = (c->digest ^ (uint64_t)r->type ^ (uint64_t)n << 8) * 0x100000001b3u;
    for (size_t i = 0; i < r->keylen; i++)
        c->digest = (c->digest ^ (unsigned char)r->key[i]) * 0x100000001b3u;
    return 0;
}

static struct feed_dec dec;

/* run - decode feed[0..len) in pieces (sizes[] cycled, + 1 each; nsizes 0: at once) */
static int run(struct fctx *c, const unsigned char *feed, size_t len, const unsigned char *sizes,
               size_t nsizes, int *finish)
{
    size_t off = 0, i = 0;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    c->d = &dec;
    c->feed = feed;
    c->len = len;
    feed_dec_init(&dec);
    if (fuzz_keyed)
        feed_dec_key(&dec, FUZZ_KEY, strlen(FUZZ_KEY));
    while (off < len && rc == 0) {
        size_t n = nsizes ? (size_t)sizes[i++ % nsizes] + 1 : len - off;
        unsigned char *piece;
        if (n > len - off)
            n = len - off;
        piece = malloc(n);
        if (piece == NULL)
            die("out of memory");
        memcpy(piece, feed + off, n);
        rc = feed_dec_push(&dec, piece, n, cb, c);
        free(piece);
        off += n;
    }
    *finish = feed_dec_finish(&dec);
    if (rc != 0 && (rc > FEED_ERR_MAGIC || rc < FEED_ERR_MAC))
        die("push returned something that is not a feed error");
    if (*finish != 0 && *finish != FEED_ERR_TRUNCATED)
        die("finish returned something other than 0 or FEED_ERR_TRUNCATED");
    if (rc == FEED_ERR_TRUNCATED)
        die("push returned FEED_ERR_TRUNCATED");
    if (rc == 0 && *finish == 0) {
        unsigned char t[FEED_TRAILER_SIZE];
        /* a verified feed: it is exactly the re-encoded records and trailer */
        if (c->headers != 1)
            die("verified without a header");
        feed_enc_trailer(&c->e, t);
        if (c->len - c->pos != FEED_TRAILER_SIZE || memcmp(t, feed + c->pos, sizeof(t)) != 0)
            die("a verified feed does not re-encode to its input");
        if (feed_dec_push(&dec, "x", 1, cb, c) != FEED_ERR_TRAILING)
            die("a byte after a verified feed is not FEED_ERR_TRAILING");
    }
    if (rc == FEED_ERR_TRAILING) {
        unsigned char t[FEED_TRAILER_SIZE];
        feed_enc_trailer(&c->e, t);
        if (*finish != 0 || c->len - c->pos <= FEED_TRAILER_SIZE ||
            memcmp(t, feed + c->pos, sizeof(t)) != 0)
            die("FEED_ERR_TRAILING without a verified feed before it");
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fctx a, b;
    size_t k;
    int rca, rcb, fa, fb;

    if (size < 1)
        return 0;
    k = data[0] & 7;
    fuzz_keyed = (data[0] & 8) != 0;
    if (size < 1 + k)
        return 0;
    rca = run(&a, data + 1 + k, size - 1 - k, data + 1, k, &fa);
    rcb = run(&b, data + 1 + k, size - 1 - k, NULL, 0, &fb);
    if (rca != rcb || fa != fb || a.records != b.records || a.digest != b.digest ||
        a.headers != b.headers)
        die("pushing in pieces and at once disagree");
    return 0;
}
