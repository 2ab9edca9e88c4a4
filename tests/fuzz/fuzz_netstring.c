/*
 * fuzz_netstring - ns_decode() over a buffer of netstrings, as lookupd reads a connection.
 *
 * Invariants checked (abort() on violation): NS_OK consumes within the buffer and the
 * payload lies inside what it consumed; the payload re-encodes to a netstring that decodes
 * to the same payload; every proper prefix of a decoded netstring is NS_MORE; errors are
 * one of the named ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netstring.h"

#define FUZZ_LIMIT 1000

static void fuzz_fail(const char *what, size_t off)
{
    fprintf(stderr, "fuzz_netstring: %s at offset %zu\n", what, off);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char enc[FUZZ_LIMIT + 32];
    const char *buf = (const char *)data;
    size_t pos = 0;

    while (pos <= size) {
        const char *payload = NULL, *p2 = NULL;
        size_t plen = 0, consumed = 0, l2 = 0, c2 = 0, n;
        enum ns_status st =
            ns_decode(buf + pos, size - pos, FUZZ_LIMIT, &payload, &plen, &consumed);

        if (st == NS_MORE || st == NS_ERR_NODIGIT || st == NS_ERR_BADCHAR || st == NS_ERR_TOOLONG ||
            st == NS_ERR_NOCOMMA)
            break;
        if (st != NS_OK)
            fuzz_fail("unknown status", pos);
        if (consumed < 3 || consumed > size - pos)
            fuzz_fail("consumed out of bounds", pos);
        if (plen > FUZZ_LIMIT || payload < buf + pos || payload + plen + 1 != buf + pos + consumed)
            fuzz_fail("payload out of place", pos);
        if (consumed < ns_encoded_len(plen))
            fuzz_fail("consumed less than the shortest encoding", pos);
        if (buf[pos + consumed - 1] != ',')
            fuzz_fail("no comma at the end", pos);

        /* every proper prefix asks for more */
        for (size_t k = 0; k < consumed; k++)
            if (ns_decode(buf + pos, k, FUZZ_LIMIT, &p2, &l2, &c2) != NS_MORE)
                fuzz_fail("a prefix of a valid netstring is not NS_MORE", pos);

        /* round trip */
        n = ns_encode(enc, sizeof(enc), payload, plen);
        if (n != ns_encoded_len(plen))
            fuzz_fail("ns_encode length", pos);
        if (ns_encode(enc, n - 1, payload, plen) != 0)
            fuzz_fail("ns_encode into a short buffer", pos);
        if (ns_decode(enc, n, FUZZ_LIMIT, &p2, &l2, &c2) != NS_OK || c2 != n || l2 != plen ||
            memcmp(p2, payload, plen) != 0)
            fuzz_fail("re-encoded payload does not decode to itself", pos);
        pos += consumed;
        if (pos == size)
            break;
    }
    return 0;
}
