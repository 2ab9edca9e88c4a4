/*
 * addr - address normalization and lookup order; see addr.h.
 */
#include "schema/addr.h"

#include <stdint.h>
#include <string.h>

static int addr_is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static char addr_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * What a byte may be in a domain name: a label character, lower-cased (letters, digits,
 * '-', '_' and UTF-8 bytes, which IDNA leaves to the MTA), a dot, or nothing (0). One table
 * read a byte: every lookup normalizes its domain.
 */
#define ADDR_DOT '.'
#define ADDR_DCHAR(c)                                                                              \
    ((c) == '.'                 ? ADDR_DOT                                                         \
     : (c) >= 'A' && (c) <= 'Z' ? ((c) | 0x20)                                                     \
     : ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '-' || (c) == '_' ||     \
             (c) >= 0x80                                                                           \
         ? (c)                                                                                     \
         : 0)
#define ADDR_DCHAR4(c)  ADDR_DCHAR(c), ADDR_DCHAR(c + 1), ADDR_DCHAR(c + 2), ADDR_DCHAR(c + 3)
#define ADDR_DCHAR16(c) ADDR_DCHAR4(c), ADDR_DCHAR4(c + 4), ADDR_DCHAR4(c + 8), ADDR_DCHAR4(c + 12)
#define ADDR_DCHAR64(c)                                                                            \
    ADDR_DCHAR16(c), ADDR_DCHAR16(c + 16), ADDR_DCHAR16(c + 32), ADDR_DCHAR16(c + 48)
static const unsigned char addr_dchar[256] = {ADDR_DCHAR64(0), ADDR_DCHAR64(64), ADDR_DCHAR64(128),
                                              ADDR_DCHAR64(192)};

/* addr_plain8 - 1 when none of the 8 bytes at s is a control character, DEL or >= 0x80 */
static int addr_plain8(const unsigned char *s)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t w, del;

    memcpy(&w, s, sizeof(w));
    del = w ^ (0x7f * ones);
    /* a byte >= 0x80, a byte < 0x20, a byte == 0x7f (the usual "has zero byte" trick) */
    return ((w | ((w - 0x20 * ones) & ~w) | ((del - ones) & ~del)) & high) == 0;
}

/*
 * addr_utf8_seq - the length of the well-formed UTF-8 sequence (no overlongs, surrogates)
 * that starts s[0..len) with a byte >= 0x80, or 0 when it is malformed
 */
static size_t addr_utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned long cp;

    if (c >= 0xc2 && c <= 0xdf)
        n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 3, cp = c & 0x07;
    else
        return 0;
    if (len - 1 < n)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
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
        unsigned char c = addr_dchar[(unsigned char)d[i]];
        if (c == ADDR_DOT) {
            if (label == 0)
                return ADDR_ERR_DOMAIN; /* empty label: ".a", "a..b" */
            label = 0;
        } else if (c == 0 || ++label > ADDR_LABEL_MAX) {
            return ADDR_ERR_DOMAIN;
        }
        dst[i] = (char)c;
    }
    if (label == 0)
        return ADDR_ERR_DOMAIN;
    dst[len] = '\0';
    return (int)len;
}

/*
 * addr_check_input - trim and apply the whole-input rules in one pass. Printable ASCII, the
 * common case, is checked 8 bytes at a time. A control character anywhere wins over
 * malformed UTF-8 before it.
 */
static int addr_check_input(const char **in, size_t *inlen)
{
    const unsigned char *s;
    size_t len, i = 0;
    int bad_utf8 = 0;

    if (*inlen > ADDR_INPUT_MAX)
        return ADDR_ERR_TOOLONG;
    *in = addr_trim(*in, inlen);
    if ((len = *inlen) == 0)
        return ADDR_ERR_EMPTY;
    s = (const unsigned char *)*in;
    while (i < len) {
        size_t n;

        if (len - i >= 8 && addr_plain8(s + i)) {
            i += 8;
        } else if (s[i] < 0x80) {
            if (addr_is_control(s[i]))
                return ADDR_ERR_CONTROL;
            i++;
        } else if (bad_utf8 || (n = addr_utf8_seq(s + i, len - i)) == 0) {
            bad_utf8 = 1; /* go on looking for a control character */
            i++;
        } else {
            i += n;
        }
    }
    return bad_utf8 ? ADDR_ERR_UTF8 : 0;
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

/*
 * addr_normalize_usual - the usual address in one pass: printable ASCII without spaces or
 * quotes, one '@' after a non-empty local part, a domain of labels and no trailing dot,
 * within every length limit. Such an input is its own key but for case, and the general
 * path below would accept it the same (fuzz_addr and test_addr check they agree). Returns
 * the key's length, or -1 for anything else: the general path then decides, errors
 * included. Every lookup starts here, so it reads each byte once.
 */
static int addr_normalize_usual(char *dst, size_t dstlen, const char *in, size_t len,
                                unsigned flags)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i, at, label = 0;

    if (len > ADDR_MAX || len >= dstlen || (flags & ADDR_GENERAL_ONLY) || len == 0 || s[0] == '"')
        return -1;
    for (i = 0; i < len && s[i] != '@'; i++) {
        if (s[i] <= ' ' || s[i] >= 0x7f)
            return -1;
        dst[i] = (flags & ADDR_CASE_SENSITIVE) ? (char)s[i] : addr_lower((char)s[i]);
    }
    if ((at = i) == 0 || at == len || at > ADDR_LOCAL_MAX)
        return -1;
    dst[at] = '@';
    for (i = at + 1; i < len; i++) {
        unsigned char c = addr_dchar[s[i]];
        if (c == ADDR_DOT) {
            if (label == 0)
                return -1;
            label = 0;
        } else if (c == 0 || c >= 0x80 || ++label > ADDR_LABEL_MAX) {
            return -1;
        }
        dst[i] = (char)c;
    }
    if (label == 0)
        return -1; /* no domain, or a trailing dot */
    dst[len] = '\0';
    return (int)len;
}

int addr_normalize(char *dst, size_t dstlen, const char *in, size_t inlen, unsigned flags)
{
    char local[ADDR_LOCAL_MAX + 1];
    size_t at = 0, draw;
    int n, rc, dlen;

    if ((n = addr_normalize_usual(dst, dstlen, in, inlen, flags)) >= 0)
        return n;
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
