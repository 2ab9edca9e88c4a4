/*
 * fuzz_rcpt - rcpt_decode() on arbitrary bytes; whatever decodes must re-encode to exactly
 * the same bytes, point inside the input, and equal itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/rcpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char out[RCPT_MAX];
    struct rcpt r;
    int rc, n;

    rc = rcpt_decode(&r, data, size);
    if (rc != 0) {
        if (rc != RCPT_ERR_SHORT && rc != RCPT_ERR_VERSION && rc != RCPT_ERR_FIELD &&
            rc != RCPT_ERR_LENGTH)
            abort();
        return 0;
    }
    if (r.primary < (const char *)data || r.primary + r.primary_len > (const char *)data + size ||
        r.entry < (const char *)data || r.entry + r.entry_len > (const char *)data + size)
        abort();
    if (!rcpt_equal(&r, &r))
        abort();
    n = rcpt_encode(out, sizeof(out), &r);
    if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0) {
        fprintf(stderr, "fuzz_rcpt: decoded record re-encodes differently (%d of %zu bytes)\n", n,
                size);
        abort();
    }
    /* and the re-encoded bytes decode to an equal record */
    {
        struct rcpt r2;
        if (rcpt_decode(&r2, out, (size_t)n) != 0 || !rcpt_equal(&r, &r2))
            abort();
    }
    return 0;
}
