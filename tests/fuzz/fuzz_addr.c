/*
 * fuzz_addr - addr_normalize() on arbitrary bytes; the first byte selects the flags.
 *
 * Invariants checked (abort() on violation):
 *   - a key is at most ADDR_MAX octets, NUL-terminated, of the returned length;
 *   - idempotence: the key normalizes to itself with the same flags;
 *   - the key's domain is a valid domain that normalizes to itself;
 *   - a buffer of exactly key length + 1 suffices, one byte less gives ADDR_ERR_BUFFER;
 *   - the input rules agree with a plain byte-by-byte reference: ADDR_ERR_CONTROL exactly
 *     when the trimmed input holds a control character or DEL, else ADDR_ERR_UTF8 exactly
 *     when it is not well-formed UTF-8;
 *   - the one-pass path for the usual address and the general path give the same answer
 *     (ADDR_GENERAL_ONLY);
 *   - addr_candidates(): the exact key first, at most one extension candidate that is a
 *     prefix of the key's local part, the catch-all "@domain" last.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/addr.h"

static void fuzz_fail(const char *what, const char *key)
{
    fprintf(stderr, "fuzz_addr: %s (key '%s')\n", what, key);
    abort();
}

/* ref_utf8_ok - the reference: 1 when s[0..len) is well-formed UTF-8 (RFC 3629) */
static int ref_utf8_ok(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = c < 0x80                 ? 0
                   : c >= 0xc2 && c <= 0xdf ? 1
                   : c >= 0xe0 && c <= 0xef ? 2
                   : c >= 0xf0 && c <= 0xf4 ? 3
                                            : 4;
        unsigned long cp = n == 0 ? c : n == 1 ? c & 0x1fu : n == 2 ? c & 0x0fu : c & 0x07u;

        if (n == 4 || len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* ref_input_rule - the reference's verdict on the whole input: 0, or the error it expects */
static int ref_input_rule(const char *in, size_t len)
{
    if (len > ADDR_INPUT_MAX)
        return ADDR_ERR_TOOLONG;
    while (len > 0 && (in[0] == ' ' || in[0] == '\t'))
        in++, len--;
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == '\t'))
        len--;
    if (len == 0)
        return ADDR_ERR_EMPTY;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
            return ADDR_ERR_CONTROL;
    return ref_utf8_ok((const unsigned char *)in, len) ? 0 : ADDR_ERR_UTF8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char key[ADDR_KEY_SIZE], again[ADDR_KEY_SIZE], small[ADDR_KEY_SIZE];
    struct addr_candidates c;
    const char *in, *dom;
    unsigned flags;
    size_t len, domlen;
    int rc, rc2;

    if (size == 0)
        return 0;
    flags = data[0] & (ADDR_CASE_SENSITIVE | ADDR_CATCHALL);
    in = (const char *)data + 1;
    len = size - 1;

    /* the other entry points must not crash on the same bytes */
    (void)addr_normalize_domain(again, sizeof(again), in, len);
    (void)addr_proxy_value(in, len, &rc2);

    rc = addr_normalize(key, sizeof(key), in, len, flags);
    rc2 = addr_normalize(again, sizeof(again), in, len, flags | ADDR_GENERAL_ONLY);
    if (rc2 != rc || (rc >= 0 && strcmp(again, key) != 0))
        fuzz_fail("the one-pass path and the general path disagree", key);
    rc2 = ref_input_rule(in, len);
    /* (ADDR_ERR_TOOLONG also means an address over ADDR_MAX: not an input rule) */
    if ((rc2 != 0 && rc != rc2) ||
        (rc2 == 0 && (rc == ADDR_ERR_CONTROL || rc == ADDR_ERR_UTF8 || rc == ADDR_ERR_EMPTY)))
        fuzz_fail("the input rules disagree with the reference", "");
    if (rc < 0) {
        if (rc < ADDR_ERR_BUFFER)
            fuzz_fail("unknown error code", "");
        if (rc == ADDR_ERR_BUFFER)
            fuzz_fail("ADDR_ERR_BUFFER with a buffer of ADDR_KEY_SIZE", "");
        return 0;
    }
    if (rc > ADDR_MAX || (size_t)rc != strlen(key))
        fuzz_fail("bad key length", key);
    if (memchr(key, '@', (size_t)rc) == NULL)
        fuzz_fail("key without '@'", key);

    /* idempotence */
    rc2 = addr_normalize(again, sizeof(again), key, (size_t)rc, flags);
    if (rc2 != rc || strcmp(again, key) != 0)
        fuzz_fail("key does not normalize to itself", key);

    /* exact buffer sizes */
    if (addr_normalize(small, (size_t)rc + 1, in, len, flags) != rc || strcmp(small, key) != 0)
        fuzz_fail("a buffer of key length + 1 does not suffice", key);
    if (addr_normalize(small, (size_t)rc, in, len, flags) != ADDR_ERR_BUFFER)
        fuzz_fail("a buffer of key length does not give ADDR_ERR_BUFFER", key);

    /* the domain */
    dom = addr_domain(key, (size_t)rc, &domlen);
    if (dom <= key || dom[-1] != '@' || dom + domlen != key + rc)
        fuzz_fail("addr_domain out of place", key);
    rc2 = addr_normalize_domain(again, sizeof(again), dom, domlen);
    if (rc2 != (int)domlen || memcmp(again, dom, domlen) != 0)
        fuzz_fail("the key's domain is not a normalized domain", key);

    /* candidates */
    addr_candidates(key, (size_t)rc, "+-", &c);
    if (c.n < 1 || c.n > ADDR_MAX_CANDIDATES)
        fuzz_fail("candidate count", key);
    if (c.match[0] != ADDR_MATCH_EXACT || c.len[0] != (size_t)rc || strcmp(c.key[0], key) != 0)
        fuzz_fail("first candidate is not the exact key", key);
    for (size_t i = 0; i < c.n; i++) {
        if (c.len[i] != strlen(c.key[i]) || c.len[i] > (size_t)rc)
            fuzz_fail("candidate length", key);
        if (c.match[i] == ADDR_MATCH_CATCHALL &&
            (i != c.n - 1 || c.key[i][0] != '@' || c.len[i] != domlen + 1 ||
             memcmp(c.key[i] + 1, dom, domlen) != 0))
            fuzz_fail("catch-all candidate", key);
        if (c.match[i] == ADDR_MATCH_EXTENSION) {
            size_t local = c.len[i] - domlen - 1;
            if (i != 1 || local == 0 || memcmp(c.key[i], key, local) != 0 ||
                strchr("+-", key[local]) == NULL)
                fuzz_fail("extension candidate", key);
        }
    }
    if (key[0] != '@' && c.match[c.n - 1] != ADDR_MATCH_CATCHALL)
        fuzz_fail("no catch-all candidate", key);
    return 0;
}
