/*
 * feed - snapshot and change-feed codec; see feed.h.
 */
#include "schema/feed.h"

#include <string.h>

static void feed_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t feed_get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void feed_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static uint32_t feed_get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void feed_enc_header_keyed(struct feed_enc *e, unsigned char out[FEED_HEADER],
                           const struct feed_header *h, const void *key, size_t keylen)
{
    memset(out, 0, FEED_HEADER);
    memcpy(out, FEED_MAGIC, 8);
    out[8] = FEED_VERSION >> 8;
    out[9] = FEED_VERSION & 0xff;
    out[10] = (unsigned char)h->kind;
    out[11] = keylen > 0 ? FEED_FLAG_KEYED : 0;
    feed_put64(out + 12, h->from);
    feed_put64(out + 20, h->to);
    e->keyed = keylen > 0;
    if (e->keyed) {
        hmac_sha256_init(&e->mac, key, keylen);
        hmac_sha256_update(&e->mac, out, FEED_HEADER);
    } else {
        sha256_init(&e->sha);
        sha256_update(&e->sha, out, FEED_HEADER);
    }
    e->count = 0;
}

void feed_enc_header(struct feed_enc *e, unsigned char out[FEED_HEADER],
                     const struct feed_header *h)
{
    feed_enc_header_keyed(e, out, h, NULL, 0);
}

/* feed_enc_hash - bytes into the checksum or the HMAC */
static void feed_enc_hash(struct feed_enc *e, const void *p, size_t len)
{
    if (e->keyed)
        hmac_sha256_update(&e->mac, p, len);
    else
        sha256_update(&e->sha, p, len);
}

size_t feed_enc_record(struct feed_enc *e, unsigned char *out, size_t cap, int type,
                       const void *key, size_t keylen, const void *val, size_t vallen)
{
    size_t plen;

    if (keylen == 0 || keylen > FEED_MAX_KEY || vallen > FEED_MAX_RECORD - 2 - keylen)
        return 0; /* checked before adding: no length can wrap around */
    plen = 2 + keylen + vallen;
    if (cap < 5 + plen)
        return 0;
    out[0] = (unsigned char)type;
    feed_put32(out + 1, (uint32_t)plen);
    out[5] = (unsigned char)(keylen >> 8);
    out[6] = (unsigned char)(keylen & 0xff);
    memcpy(out + 7, key, keylen);
    if (vallen > 0)
        memcpy(out + 7 + keylen, val, vallen);
    feed_enc_hash(e, out, 5 + plen);
    e->count++;
    return 5 + plen;
}

void feed_enc_trailer(struct feed_enc *e, unsigned char out[FEED_TRAILER_SIZE])
{
    out[0] = FEED_TRAILER;
    feed_put32(out + 1, 8 + SHA256_SIZE);
    feed_put64(out + 5, e->count);
    if (e->keyed)
        hmac_sha256_final(&e->mac, out + 13);
    else
        sha256_final(&e->sha, out + 13);
}

void feed_dec_init(struct feed_dec *d)
{
    memset(d, 0, offsetof(struct feed_dec, buf));
    d->need = FEED_HEADER;
    sha256_init(&d->sha);
}

void feed_dec_key(struct feed_dec *d, const void *key, size_t keylen)
{
    d->haskey = keylen > 0;
    if (d->haskey)
        hmac_sha256_init(&d->mac, key, keylen);
}

/* feed_dec_hash - bytes into the checksum or the HMAC */
static void feed_dec_hash(struct feed_dec *d, const void *p, size_t len)
{
    if (d->keyed)
        hmac_sha256_update(&d->mac, p, len);
    else
        sha256_update(&d->sha, p, len);
}

/* feed_dec_header - check the 32 header bytes in d->buf */
static int feed_dec_header(struct feed_dec *d)
{
    const unsigned char *p = d->buf;
    unsigned version = (unsigned)p[8] << 8 | p[9];

    if (memcmp(p, FEED_MAGIC, 8) != 0)
        return FEED_ERR_MAGIC;
    if (version < FEED_VERSION_MIN || version > FEED_VERSION)
        return FEED_ERR_VERSION;
    d->version = (int)version;
    d->h.kind = (enum feed_kind)p[10];
    d->h.from = feed_get64(p + 12);
    d->h.to = feed_get64(p + 20);
    if ((p[10] != FEED_SNAPSHOT && p[10] != FEED_CHANGES) ||
        (p[11] & ~(version >= 2 ? FEED_FLAG_KEYED : 0)) != 0 || feed_get32(p + 28) != 0 ||
        d->h.from > d->h.to || (d->h.kind == FEED_SNAPSHOT && d->h.from != 0))
        return FEED_ERR_HEADER;
    d->keyed = (p[11] & FEED_FLAG_KEYED) != 0;
    if (d->keyed && !d->haskey)
        return FEED_ERR_KEYED;
    if (!d->keyed && d->haskey)
        return FEED_ERR_UNKEYED;
    return 0;
}

/* feed_dec_call - the reader's callback; its non-zero code is kept, FEED_ERR_STOPPED returned */
static int feed_dec_call(struct feed_dec *d, feed_cb cb, void *ctx, const struct feed_record *r)
{
    if ((d->stopped = cb(ctx, &d->h, r)) == 0)
        return 0;
    return FEED_ERR_STOPPED;
}

/* feed_type_ok - record types each kind may carry */
static int feed_type_ok(enum feed_kind kind, int type)
{
    if (type == FEED_TRAILER)
        return 1;
    if (kind == FEED_SNAPSHOT)
        return type == FEED_ADDR || type == FEED_DOMAIN;
    return store_op_valid(type);
}

/* feed_dec_record - check and deliver the record in d->buf */
static int feed_dec_record(struct feed_dec *d, feed_cb cb, void *ctx)
{
    const unsigned char *p = d->buf + 5;
    size_t plen = d->need - 5, klen;
    struct feed_record r;
    struct rcpt rc;

    if (d->type == FEED_TRAILER) {
        unsigned char sum[SHA256_SIZE];
        if (plen != 8 + SHA256_SIZE)
            return FEED_ERR_LENGTH;
        if (feed_get64(p) != d->count)
            return FEED_ERR_COUNT;
        unsigned char diff = 0;
        if (d->keyed)
            hmac_sha256_final(&d->mac, sum);
        else
            sha256_final(&d->sha, sum);
        for (size_t i = 0; i < SHA256_SIZE; i++) /* constant time: a MAC is compared */
            diff |= (unsigned char)(sum[i] ^ p[8 + i]);
        if (diff != 0)
            return d->keyed ? FEED_ERR_MAC : FEED_ERR_CHECKSUM;
        d->state = 3;
        return 0;
    }
    feed_dec_hash(d, d->buf, d->need);
    d->count++;
    if (plen < 2)
        return FEED_ERR_LENGTH;
    klen = (size_t)p[0] << 8 | p[1];
    if (klen > plen - 2)
        return FEED_ERR_LENGTH;
    if (klen == 0 || klen > FEED_MAX_KEY)
        return FEED_ERR_RECORD;
    r.type = d->type;
    r.key = (const char *)p + 2;
    r.keylen = klen;
    r.val = p + 2 + klen;
    r.vallen = plen - 2 - klen;
    if (klen > ADDR_MAX)
        return FEED_ERR_RECORD;
    if (r.type == FEED_ADDR || store_op_has_record((enum store_op)r.type)) {
        if (rcpt_decode(&rc, r.val, r.vallen) != 0)
            return FEED_ERR_RECORD;
    } else if (r.type == FEED_DOMAIN) {
        enum store_domain_kind kind;
        if (store_domain_decode(r.val, r.vallen, &kind) != 0)
            return FEED_ERR_RECORD;
    } else if (r.vallen != 0) { /* '-', 'D', 'X' */
        return FEED_ERR_RECORD;
    }
    return feed_dec_call(d, cb, ctx, &r);
}

int feed_dec_push(struct feed_dec *d, const void *data, size_t len, feed_cb cb, void *ctx)
{
    const unsigned char *p = data;
    int rc;

    while (len > 0) {
        size_t n;
        if (d->state == 3)
            return FEED_ERR_TRAILING;
        n = d->need - d->have < len ? d->need - d->have : len;
        memcpy(d->buf + d->have, p, n);
        d->have += n, p += n, len -= n;
        d->bytes += n;
        if (d->have < d->need)
            break;
        if (d->state == 0) {
            if ((rc = feed_dec_header(d)) != 0)
                return rc;
            feed_dec_hash(d, d->buf, FEED_HEADER);
            if ((rc = feed_dec_call(d, cb, ctx, NULL)) != 0)
                return rc;
            d->state = 1, d->have = 0, d->need = 5;
        } else if (d->state == 1) {
            uint32_t plen = feed_get32(d->buf + 1);
            d->type = d->buf[0];
            if (!feed_type_ok(d->h.kind, d->type))
                return FEED_ERR_TYPE;
            if (plen > FEED_MAX_RECORD)
                return FEED_ERR_LENGTH;
            d->state = 2, d->need = 5 + plen;
            if (plen == 0 && (rc = feed_dec_record(d, cb, ctx)) != 0)
                return rc;
        } else {
            if ((rc = feed_dec_record(d, cb, ctx)) != 0)
                return rc;
            if (d->state != 3)
                d->state = 1, d->have = 0, d->need = 5;
        }
    }
    return 0;
}

int feed_dec_finish(const struct feed_dec *d)
{
    return d->state == 3 ? 0 : FEED_ERR_TRUNCATED;
}

int feed_dec_stopped(const struct feed_dec *d)
{
    return d->stopped;
}

const char *feed_strerror(int err)
{
    return err_strerror(err);
}
