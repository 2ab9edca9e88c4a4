/*
 * rcpt - record codec with a bounds check on every length; see rcpt.h.
 */
#include "schema/rcpt.h"

#include <string.h>

int rcpt_encode(unsigned char *dst, size_t dstlen, const struct rcpt *r)
{
    size_t len = RCPT_HEADER + r->primary_len + r->entry_len;

    if (r->kind < RCPT_USER || r->kind > RCPT_ALIAS || r->state < RCPT_ACTIVE ||
        r->state > RCPT_DISABLED || (r->flags & ~(unsigned)RCPT_FLAG_CATCHALL) != 0)
        return -1; /* what rcpt_decode() would refuse is never written */
    if (r->primary_len == 0 || r->primary_len > ADDR_MAX || r->entry_len == 0 ||
        r->entry_len > RCPT_ENTRY_MAX || len > dstlen)
        return -1;
    dst[0] = RCPT_VERSION;
    dst[1] = (unsigned char)r->kind;
    dst[2] = (unsigned char)r->state;
    dst[3] = (unsigned char)r->flags;
    dst[4] = (unsigned char)(r->primary_len & 0xff);
    dst[5] = (unsigned char)(r->primary_len >> 8);
    dst[6] = (unsigned char)(r->entry_len & 0xff);
    dst[7] = (unsigned char)(r->entry_len >> 8);
    memcpy(dst + RCPT_HEADER, r->primary, r->primary_len);
    memcpy(dst + RCPT_HEADER + r->primary_len, r->entry, r->entry_len);
    return (int)len;
}

int rcpt_decode(struct rcpt *r, const void *src, size_t len)
{
    const unsigned char *p = src;
    size_t plen, elen;

    if (len < RCPT_HEADER)
        return RCPT_ERR_SHORT;
    if (p[0] != RCPT_VERSION)
        return RCPT_ERR_VERSION;
    if (p[1] < RCPT_USER || p[1] > RCPT_ALIAS || p[2] < RCPT_ACTIVE || p[2] > RCPT_DISABLED ||
        (p[3] & ~RCPT_FLAG_CATCHALL) != 0)
        return RCPT_ERR_FIELD;
    plen = (size_t)p[4] | (size_t)p[5] << 8;
    elen = (size_t)p[6] | (size_t)p[7] << 8;
    if (plen == 0 || plen > ADDR_MAX || elen == 0 || elen > RCPT_ENTRY_MAX)
        return RCPT_ERR_LENGTH;
    if (len - RCPT_HEADER < plen + elen)
        return RCPT_ERR_SHORT;
    if (len - RCPT_HEADER > plen + elen)
        return RCPT_ERR_LENGTH;
    r->kind = (enum rcpt_kind)p[1];
    r->state = (enum rcpt_state)p[2];
    r->flags = p[3];
    r->primary = (const char *)p + RCPT_HEADER;
    r->primary_len = plen;
    r->entry = (const char *)p + RCPT_HEADER + plen;
    r->entry_len = elen;
    return 0;
}

int rcpt_equal(const struct rcpt *a, const struct rcpt *b)
{
    return a->kind == b->kind && a->state == b->state && a->flags == b->flags &&
           a->primary_len == b->primary_len && a->entry_len == b->entry_len &&
           memcmp(a->primary, b->primary, a->primary_len) == 0 &&
           memcmp(a->entry, b->entry, a->entry_len) == 0;
}

const char *rcpt_strerror(int err)
{
    switch (err) {
    case RCPT_ERR_SHORT:
        return "record truncated";
    case RCPT_ERR_VERSION:
        return "unknown record version";
    case RCPT_ERR_FIELD:
        return "record field out of range";
    case RCPT_ERR_LENGTH:
        return "record length out of range";
    }
    return err == 0 ? "ok" : "unknown record error";
}

const char *rcpt_kind_name(enum rcpt_kind kind)
{
    switch (kind) {
    case RCPT_USER:
        return "user";
    case RCPT_GROUP:
        return "group";
    case RCPT_ALIAS:
        return "alias";
    }
    return "?";
}

const char *rcpt_state_name(enum rcpt_state state)
{
    return state == RCPT_DISABLED ? "disabled" : "active";
}
