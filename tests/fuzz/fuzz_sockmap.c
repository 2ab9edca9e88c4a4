/*
 * fuzz_sockmap - libFuzzer target for the socketmap request parser (lookupd/sockmap_proto.c).
 *
 * The input is a byte stream as a client would send it. It is parsed the way the server
 * does, request after request, and also only up to a cut the input chooses (what the server
 * holds after a short read). Each request's key gets every kind of reply written for it.
 * Invariants: nothing is read beyond the bytes given, a request's key lies inside its
 * netstring and is never longer than SOCKMAP_MAX_QUERY, consumed bytes always advance, and
 * every reply fits SOCKMAP_MAX_REPLY.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookupd/sockmap_proto.h"

/* fuzz_run - parse buf as the server would; returns a digest of what was parsed */
static uint64_t fuzz_run(const char *buf, size_t len)
{
    uint64_t digest = 1469598103934665603u;
    size_t pos = 0;

    while (pos < len) {
        struct sockmap_req req;
        const char *reason = NULL;
        size_t used = 0;
        enum sockmap_status st = sockmap_parse(buf + pos, len - pos, &req, &used, &reason);

        if (st == SOCKMAP_MORE)
            break;
        if (st == SOCKMAP_PERM) {
            if (reason == NULL)
                abort();
            digest = digest * 1099511628211u ^ strlen(reason);
            break;
        }
        if (used == 0 || used > len - pos || req.keylen > SOCKMAP_MAX_QUERY ||
            req.key < buf + pos || req.key + req.keylen > buf + pos + used)
            abort();
        for (size_t i = 0; i < req.keylen; i++)
            digest = digest * 1099511628211u ^ (unsigned char)req.key[i];
        digest = digest * 1099511628211u ^ (uint64_t)req.map ^ ((uint64_t)req.badkey << 8);
        {
            struct lookup_answer a;
            char out[SOCKMAP_MAX_REPLY];
            size_t n = req.keylen < sizeof(a.primary) - 1 ? req.keylen : sizeof(a.primary) - 1;

            memset(&a, 0, sizeof(a));
            memcpy(a.primary, req.key, n);
            a.primary[n] = '\0';
            a.reason = LOOKUP_REASON_ERROR;
            for (int r = 0; r < LOOKUP_NRESULTS; r++) {
                a.result = (enum lookup_result)r;
                if (sockmap_reply(req.map, &a, out, sizeof(out)) == 0)
                    abort();
            }
        }
        pos += used;
    }
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes, so ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    size_t cut = size ? data[0] % (size + 1) : 0;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    (void)fuzz_run(buf, size);
    /* a prefix: the bytes after the cut are out of bounds as far as the parser knows */
    if (cut < size) {
        char *part = malloc(cut ? cut : 1);
        if (part != NULL) {
            memcpy(part, buf, cut);
            (void)fuzz_run(part, cut);
            free(part);
        }
    }
    free(buf);
    return 0;
}
