/*
 * addr - address normalization and lookup order; see addr.h.
 */
#include "schema/addr.h"

#include <string.h>

static int addr_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static char addr_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* addr_utf8_ok - 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates) */
static int addr_utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned long cp;

        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* addr_trim - drop spaces and tabs around s[0..*len) */
static const char *addr_trim(const char *s, size_t *len)
{
    while (*len > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, (*len)--;
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

/* addr_domain_write - validate and lower-case a domain into dst; returns length or error */
static int addr_domain_write(char *dst, size_t dstlen, const char *d, size_t len)
{
    size_t label = 0;

    if (len > 0 && d[len - 1] == '.')
        len--; /* a fully qualified "example.org." */
    if (len == 0)
        return ADDR_ERR_DOMAIN;
    if (len >= dstlen)
        return ADDR_ERR_BUFFER;
    if (d[0] == '[') {
        /* address literal: [192.0.2.1] or [IPv6:2001:db8::1] */
        if (len < 3 || d[len - 1] != ']')
            return ADDR_ERR_DOMAIN;
        for (size_t i = 1; i < len - 1; i++) {
            char c = addr_lower(d[i]);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.' || c == ':' ||
                  c == 'i' || c == 'p' || c == 'v'))
                return ADDR_ERR_DOMAIN;
        }
        for (size_t i = 0; i < len; i++)
            dst[i] = addr_lower(d[i]);
        dst[len] = '\0';
        return (int)len;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0)
                return ADDR_ERR_DOMAIN; /* empty label: ".a", "a..b" */
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c >= 0x80) {
            if (++label > ADDR_LABEL_MAX)
                return ADDR_ERR_DOMAIN;
        } else {
            return ADDR_ERR_DOMAIN;
        }
        dst[i] = addr_lower((char)c);
    }
    if (label == 0)
        return ADDR_ERR_DOMAIN;
    dst[len] = '\0';
    return (int)len;
}

/* addr_check_input - trim and apply the whole-input rules */
static int addr_check_input(const char **in, size_t *inlen)
{
    if (*inlen > ADDR_INPUT_MAX)
        return ADDR_ERR_TOOLONG;
    *in = addr_trim(*in, inlen);
    if (*inlen == 0)
        return ADDR_ERR_EMPTY;
    for (size_t i = 0; i < *inlen; i++)
        if (addr_is_control((unsigned char)(*in)[i]))
            return ADDR_ERR_CONTROL;
    if (!addr_utf8_ok((const unsigned char *)*in, *inlen))
        return ADDR_ERR_UTF8;
    return 0;
}

int addr_normalize_domain(char *dst, size_t dstlen, const char *in, size_t inlen)
{
    int rc = addr_check_input(&in, &inlen);

    if (rc < 0)
        return rc;
    if (inlen > ADDR_MAX)
        return ADDR_ERR_TOOLONG;
    if (memchr(in, '@', inlen) != NULL)
        return ADDR_ERR_DOMAIN;
    return addr_domain_write(dst, dstlen, in, inlen);
}

/*
 * addr_local_quoted - unquote "..."@ at the start of in; writes the local part into
 * local (ADDR_LOCAL_MAX + 1 bytes) and returns its length, or an error. *at is set to
 * the index of the '@' that follows the closing quote. A quoted '@' is refused: every key
 * holds exactly one '@', so the unquoted key normalizes to itself.
 */
static int addr_local_quoted(const char *in, size_t inlen, char *local, size_t *at)
{
    size_t n = 0, i, close;

    for (close = 1; close < inlen && in[close] != '"'; close++)
        if (in[close] == '\\')
            close++;
    if (close >= inlen || close + 1 >= inlen || in[close + 1] != '@')
        return ADDR_ERR_QUOTE; /* no well-formed "..."@ here */
    for (i = 1; i < close; i++) {
        if (in[i] == '\\')
            i++;
        if (in[i] == '@')
            return ADDR_ERR_LOCAL;
        if (n == ADDR_LOCAL_MAX)
            return ADDR_ERR_LOCALTOOLONG;
        local[n++] = in[i];
    }
    *at = close + 1;
    if (memchr(in + *at + 1, '@', inlen - *at - 1) != NULL)
        return ADDR_ERR_TWOAT;
    if (n == 0)
        return ADDR_ERR_LOCAL; /* "" is an empty local part, never the catch-all "@domain" */
    if (local[0] == ' ' || local[n - 1] == ' ')
        return ADDR_ERR_LOCAL; /* the unquoted key would lose them to trimming */
    if (local[0] == '"')
        return ADDR_ERR_QUOTE; /* the unquoted key would read as quoted again */
    return (int)n;
}

/*
 * addr_local_plain - copy an unquoted local part. Anything but '@' and control characters
 * is taken as it is: that is Postfix's internal (unquoted) form, which the MTA sends.
 */
static int addr_local_plain(const char *in, size_t inlen, char *local, size_t *at)
{
    const char *p = memchr(in, '@', inlen);
    size_t n;

    if (p == NULL)
        return ADDR_ERR_NOAT;
    n = (size_t)(p - in);
    if (memchr(p + 1, '@', inlen - n - 1) != NULL)
        return ADDR_ERR_TWOAT;
    if (n > ADDR_LOCAL_MAX)
        return ADDR_ERR_LOCALTOOLONG;
    memcpy(local, in, n);
    *at = n;
    return (int)n;
}

int addr_normalize(char *dst, size_t dstlen, const char *in, size_t inlen, unsigned flags)
{
    char local[ADDR_LOCAL_MAX + 1];
    size_t at = 0, draw;
    int n, rc, dlen;

    if ((rc = addr_check_input(&in, &inlen)) < 0)
        return rc;
    /* a quoted local part that cannot be unquoted into a key that normalizes to itself is
     * taken as it stands, quotes and all: keys stay idempotent, and no form of quoting can
     * turn an address into another one (or into the catch-all) */
    n = in[0] == '"' ? addr_local_quoted(in, inlen, local, &at) : -1;
    if (n < 0)
        n = addr_local_plain(in, inlen, local, &at);
    if (n < 0)
        return n;
    if (n == 0 && !(flags & ADDR_CATCHALL))
        return ADDR_ERR_LOCAL;
    draw = inlen - at - 1;
    if (draw > 0 && in[inlen - 1] == '.')
        draw--;
    if ((size_t)n + 1 + draw > ADDR_MAX)
        return ADDR_ERR_TOOLONG;
    if ((size_t)n + 1 >= dstlen)
        return ADDR_ERR_BUFFER;
    for (int i = 0; i < n; i++)
        dst[i] = (flags & ADDR_CASE_SENSITIVE) ? local[i] : addr_lower(local[i]);
    dst[n] = '@';
    dlen = addr_domain_write(dst + n + 1, dstlen - (size_t)n - 1, in + at + 1, inlen - at - 1);
    if (dlen < 0)
        return dlen;
    return n + 1 + dlen;
}

const char *addr_strerror(int err)
{
    switch (err) {
    case ADDR_ERR_EMPTY:
        return "empty address";
    case ADDR_ERR_NOAT:
        return "no '@' in address";
    case ADDR_ERR_TWOAT:
        return "more than one '@' in address";
    case ADDR_ERR_TOOLONG:
        return "address longer than 254 octets";
    case ADDR_ERR_LOCALTOOLONG:
        return "local part longer than 64 octets";
    case ADDR_ERR_CONTROL:
        return "control character in address";
    case ADDR_ERR_UTF8:
        return "malformed UTF-8 in address";
    case ADDR_ERR_LOCAL:
        return "empty or malformed local part";
    case ADDR_ERR_QUOTE:
        return "malformed quoting in local part";
    case ADDR_ERR_DOMAIN:
        return "empty or malformed domain";
    case ADDR_ERR_BUFFER:
        return "address does not fit the buffer";
    }
    return err >= 0 ? "valid address" : "unknown address error";
}

const char *addr_domain(const char *key, size_t keylen, size_t *domlen)
{
    const char *at = memrchr(key, '@', keylen);

    if (at == NULL) {
        *domlen = keylen;
        return key;
    }
    *domlen = keylen - (size_t)(at - key) - 1;
    return at + 1;
}

const char *addr_proxy_value(const char *v, size_t len, int *primary)
{
    if (len < 5 || strncasecmp(v, "smtp:", 5) != 0)
        return NULL;
    if (primary != NULL)
        *primary = memcmp(v, "SMTP:", 5) == 0;
    return v + 5;
}

/* addr_candidate_add - append one candidate key */
static void addr_candidate_add(struct addr_candidates *out, enum addr_match m, const char *a,
                               size_t alen, const char *b, size_t blen)
{
    size_t i = out->n;

    if (alen + blen >= ADDR_KEY_SIZE)
        return;
    memcpy(out->key[i], a, alen);
    memcpy(out->key[i] + alen, b, blen);
    out->key[i][alen + blen] = '\0';
    out->len[i] = alen + blen;
    out->match[i] = m;
    out->n++;
}

void addr_candidates(const char *key, size_t keylen, const char *delims,
                     struct addr_candidates *out)
{
    size_t domlen, locallen;
    const char *dom = addr_domain(key, keylen, &domlen);

    out->n = 0;
    addr_candidate_add(out, ADDR_MATCH_EXACT, key, keylen, "", 0);
    if (dom == key)
        return; /* not an address */
    locallen = (size_t)(dom - 1 - key);
    if (locallen == 0)
        return; /* already the catch-all key */
    if (delims != NULL && *delims != '\0') {
        for (size_t i = 1; i < locallen; i++) {
            if (key[i] != '\0' && strchr(delims, key[i]) != NULL) {
                addr_candidate_add(out, ADDR_MATCH_EXTENSION, key, i, dom - 1, domlen + 1);
                break;
            }
        }
    }
    addr_candidate_add(out, ADDR_MATCH_CATCHALL, dom - 1, domlen + 1, "", 0);
}

const char *addr_match_name(enum addr_match m)
{
    switch (m) {
    case ADDR_MATCH_EXACT:
        return "exact";
    case ADDR_MATCH_EXTENSION:
        return "extension";
    case ADDR_MATCH_CATCHALL:
        return "catch-all";
    }
    return "?";
}
