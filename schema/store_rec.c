/*
 * store_rec - codecs of the store's log keys, log records, entry lists, domain and numeric
 * meta values; see store_rec.h. Nothing here allocates.
 */
#include "schema/store_rec.h"

#include <string.h>

#include "schema/store.h"

void store_log_key(unsigned char key[STORE_LOG_KEY_SIZE], uint64_t generation, uint32_t seq)
{
    for (int i = 0; i < 8; i++)
        key[i] = (unsigned char)(generation >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        key[8 + i] = (unsigned char)(seq >> (24 - 8 * i));
}

int store_log_key_decode(const void *key, size_t len, uint64_t *generation, uint32_t *seq)
{
    const unsigned char *p = key;
    uint64_t g = 0;
    uint32_t s = 0;

    if (len != STORE_LOG_KEY_SIZE)
        return STORE_ERR_CORRUPT;
    for (int i = 0; i < 8; i++)
        g = g << 8 | p[i];
    for (int i = 8; i < 12; i++)
        s = s << 8 | p[i];
    *generation = g;
    if (seq != NULL)
        *seq = s;
    return 0;
}

int store_op_valid(int c)
{
    return c == STORE_OP_ADD || c == STORE_OP_CHANGE || c == STORE_OP_REMOVE ||
           c == STORE_OP_DOMAIN_ADD || c == STORE_OP_DOMAIN_REMOVE;
}

int store_op_has_record(enum store_op op)
{
    return op == STORE_OP_ADD || op == STORE_OP_CHANGE;
}

/* store_put16 - a 2-byte little-endian length */
static void store_put16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static size_t store_get16(const unsigned char *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8;
}

int store_log_encode(unsigned char *dst, size_t cap, const struct store_log_rec *l)
{
    size_t reclen = store_op_has_record(l->op) ? l->reclen : 0;
    size_t n = STORE_LOG_HEADER + l->keylen + reclen;

    if (!store_op_valid((int)l->op) || l->keylen == 0 || l->keylen > ADDR_MAX ||
        reclen > RCPT_MAX || (store_op_has_record(l->op) && reclen == 0) || n > cap)
        return -1;
    dst[0] = (unsigned char)l->op;
    store_put16(dst + 1, l->keylen);
    memcpy(dst + STORE_LOG_HEADER, l->key, l->keylen);
    if (reclen > 0)
        memcpy(dst + STORE_LOG_HEADER + l->keylen, l->rec, reclen);
    return (int)n;
}

int store_log_decode(struct store_log_rec *l, const void *src, size_t len)
{
    const unsigned char *p = src;
    struct rcpt r;

    if (len < STORE_LOG_HEADER || !store_op_valid(p[0]))
        return STORE_ERR_CORRUPT;
    l->op = (enum store_op)p[0];
    l->keylen = store_get16(p + 1);
    if (l->keylen == 0 || l->keylen > ADDR_MAX || l->keylen > len - STORE_LOG_HEADER)
        return STORE_ERR_CORRUPT;
    l->key = (const char *)p + STORE_LOG_HEADER;
    l->reclen = len - STORE_LOG_HEADER - l->keylen;
    l->rec = l->reclen > 0 ? p + STORE_LOG_HEADER + l->keylen : NULL;
    if (store_op_has_record(l->op) ? rcpt_decode(&r, l->rec, l->reclen) != 0 : l->reclen != 0)
        return STORE_ERR_CORRUPT;
    return 0;
}

int store_entry_encode_head(unsigned char *dst, size_t cap, enum rcpt_state state,
                            enum rcpt_kind kind, size_t nkeys)
{
    if (cap < STORE_ENTRY_HEADER || (state != RCPT_ACTIVE && state != RCPT_DISABLED) ||
        (kind != RCPT_USER && kind != RCPT_GROUP) || nkeys == 0)
        return -1;
    dst[0] = dst[1] = STORE_ENTRY_MARK;
    dst[2] = (unsigned char)state;
    dst[3] = (unsigned char)kind;
    store_put16(dst + 4, nkeys > 0xffff ? 0 : nkeys); /* 0: too many to count */
    return STORE_ENTRY_HEADER;
}

int store_entry_encode_key(unsigned char *dst, size_t cap, const char *key, size_t len)
{
    if (len == 0 || len > ADDR_MAX || cap < STORE_ENTRY_ITEM(len))
        return -1;
    store_put16(dst, len);
    memcpy(dst + 2, key, len);
    return (int)STORE_ENTRY_ITEM(len);
}

int store_entry_decode(struct store_entry *e, const void *src, size_t len)
{
    const unsigned char *p = src;
    size_t want = 0;

    memset(e, 0, sizeof(*e));
    if (len >= 2 && p[0] == STORE_ENTRY_MARK && p[1] == STORE_ENTRY_MARK) {
        if (len < STORE_ENTRY_HEADER || (p[2] != RCPT_ACTIVE && p[2] != RCPT_DISABLED) ||
            (p[3] != RCPT_USER && p[3] != RCPT_GROUP))
            return STORE_ERR_CORRUPT;
        want = store_get16(p + 4); /* 0: not counted (over 65535 keys) */
        e->state = (enum rcpt_state)p[2];
        e->kind = (enum rcpt_kind)p[3];
        p += STORE_ENTRY_HEADER;
        len -= STORE_ENTRY_HEADER;
    }
    e->keys = p;
    e->keyslen = len;
    for (size_t i = 0; i < len;) {
        size_t n;
        if (len - i < 2)
            return STORE_ERR_CORRUPT;
        n = store_get16(p + i);
        if (n == 0 || n > ADDR_MAX || n > len - i - 2)
            return STORE_ERR_CORRUPT;
        i += 2 + n;
        e->nkeys++;
    }
    if (e->nkeys == 0 || (want != 0 && e->nkeys != want) ||
        (want == 0 && e->state != 0 && e->nkeys <= 0xffff))
        return STORE_ERR_CORRUPT;
    return 0;
}

int store_entry_next(const struct store_entry *e, size_t *off, const char **key, size_t *len)
{
    if (*off + 2 > e->keyslen)
        return 0;
    *len = store_get16(e->keys + *off);
    *key = (const char *)e->keys + *off + 2;
    *off += 2 + *len;
    return 1;
}

int store_domain_decode(const void *src, size_t len, enum store_domain_kind *kind)
{
    const unsigned char *p = src;

    if (len != STORE_DOMAIN_VALUE_SIZE ||
        (p[0] != STORE_DOMAIN_CONFIGURED && p[0] != STORE_DOMAIN_DERIVED))
        return STORE_ERR_CORRUPT;
    *kind = (enum store_domain_kind)p[0];
    return 0;
}

int store_meta_u64_encode(char buf[STORE_META_U64_SIZE], uint64_t v)
{
    char tmp[STORE_META_U64_SIZE];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int store_meta_u64_decode(const void *src, size_t len, uint64_t *v)
{
    const unsigned char *p = src;
    uint64_t n = 0;

    if (len == 0 || len > STORE_META_U64_SIZE - 1)
        return STORE_ERR_CORRUPT;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9 || n > (UINT64_MAX - d) / 10)
            return STORE_ERR_CORRUPT;
        n = n * 10 + d;
    }
    *v = n;
    return 0;
}

/* ---- sync history record ---- */

static void store_put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t store_get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* store_utf8_cut - len cut to at most max bytes, not inside a UTF-8 sequence */
static size_t store_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
        len--;
    return len;
}

const char *store_hist_result_name(enum store_hist_result r)
{
    switch (r) {
    case STORE_HIST_OK:
        return "ok";
    case STORE_HIST_REFUSED:
        return "refused";
    case STORE_HIST_FAILED:
        return "failed";
    }
    return "?";
}

int store_hist_encode(unsigned char *dst, size_t cap, const struct store_hist *h)
{
    size_t slen = store_utf8_cut(h->source, h->source ? h->sourcelen : 0, STORE_HIST_SOURCE_MAX);
    size_t elen = store_utf8_cut(h->error, h->error ? h->errorlen : 0, STORE_HIST_ERROR_MAX);
    size_t n = STORE_HIST_HEADER + 2 + slen + 2 + elen;
    const uint64_t nums[] = {h->gen_before, h->gen_after, h->added, h->changed, h->removed};
    unsigned char *p = dst;

    if (n > cap || (h->result != STORE_HIST_OK && h->result != STORE_HIST_REFUSED &&
                    h->result != STORE_HIST_FAILED))
        return -1;
    *p++ = STORE_HIST_VERSION;
    *p++ = (unsigned char)h->result;
    store_put_le(p, h->time, 8);
    p += 8;
    store_put_le(p, h->duration_ms, 4);
    p += 4;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++, p += 8)
        store_put_le(p, nums[i], 8);
    store_put16(p, slen);
    if (slen > 0)
        memcpy(p + 2, h->source, slen);
    p += 2 + slen;
    store_put16(p, elen);
    if (elen > 0)
        memcpy(p + 2, h->error, elen);
    return (int)n;
}

int store_hist_decode(struct store_hist *h, const void *src, size_t len)
{
    const unsigned char *p = src;
    uint64_t *nums[] = {&h->gen_before, &h->gen_after, &h->added, &h->changed, &h->removed};
    size_t off = STORE_HIST_HEADER;

    memset(h, 0, sizeof(*h));
    if (len < STORE_HIST_HEADER + 4 || p[0] != STORE_HIST_VERSION ||
        (p[1] != STORE_HIST_OK && p[1] != STORE_HIST_REFUSED && p[1] != STORE_HIST_FAILED))
        return STORE_ERR_CORRUPT;
    h->result = (enum store_hist_result)p[1];
    h->time = store_get_le(p + 2, 8);
    h->duration_ms = (uint32_t)store_get_le(p + 10, 4);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        *nums[i] = store_get_le(p + 14 + 8 * i, 8);
    h->sourcelen = store_get16(p + off);
    if (h->sourcelen > STORE_HIST_SOURCE_MAX || off + 2 + h->sourcelen + 2 > len)
        return STORE_ERR_CORRUPT;
    h->source = (const char *)p + off + 2;
    off += 2 + h->sourcelen;
    h->errorlen = store_get16(p + off);
    if (h->errorlen > STORE_HIST_ERROR_MAX || off + 2 + h->errorlen != len)
        return STORE_ERR_CORRUPT;
    h->error = (const char *)p + off + 2;
    return 0;
}
