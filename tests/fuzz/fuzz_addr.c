/*
 * fuzz_addr - addr_normalize() on arbitrary bytes; the first byte selects the flags.
 *
 * Invariants checked (abort() on violation):
 *   - a key is at most ADDR_MAX octets, NUL-terminated, of the returned length;
 *   - idempotence: the key normalizes to itself with the same flags;
 *   - the key's domain is a valid domain that normalizes to itself;
 *   - a buffer of exactly key length + 1 suffices, one byte less gives ADDR_ERR_BUFFER;
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
