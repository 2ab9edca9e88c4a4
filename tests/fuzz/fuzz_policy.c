/*
 * fuzz_policy - libFuzzer target for the policy delegation request parser
 * (lookupd/policy_proto.c).
 *
 * The input is a byte stream as a client would send it, fed to the parser the way the
 * server does: in pieces whose sizes the input's first byte chooses (1 to 256 bytes), and
 * once more in one piece. Each request's kept values get an action and a reply written.
 * Invariants: nothing is read beyond the bytes given, *used never exceeds the piece and the
 * parser takes every byte unless it finished a request or failed, kept strings are
 * NUL-terminated within their fields, limits hold (attributes, request size), a failure has
 * a reason and sticks, and both feeding ways see the same requests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookupd/policy_proto.h"

/* fuzz_check_req - the invariants of a parsed request; returns a digest of it */
static uint64_t fuzz_check_req(const struct policy_req *r)
{
    uint64_t d = 1469598103934665603u;
    char act[POLICY_MAX_REPLY], out[POLICY_MAX_REPLY];
    struct lookup_answer a;

    if (memchr(r->request, '\0', sizeof(r->request)) == NULL ||
        memchr(r->state, '\0', sizeof(r->state)) == NULL ||
        memchr(r->client_address, '\0', sizeof(r->client_address)) == NULL ||
        r->recipient_len >= sizeof(r->recipient) || r->recipient[r->recipient_len] != '\0' ||
        r->nattrs == 0 || r->nattrs > POLICY_MAX_ATTRS || r->size > POLICY_MAX_REQUEST)
        abort();
    for (size_t i = 0; i < r->recipient_len; i++)
        d = d * 1099511628211u ^ (unsigned char)r->recipient[i];
    d = d * 1099511628211u ^ r->nattrs ^ (uint64_t)r->seen << 20 ^ (uint64_t)r->toolong << 28;
    memset(&a, 0, sizeof(a));
    a.reason = LOOKUP_REASON_STALE;
    for (int res = 0; res < LOOKUP_NRESULTS; res++) {
        a.result = (enum lookup_result)res;
        if (policy_access_action(&a, act, sizeof(act)) == 0 ||
            policy_reply(act, out, sizeof(out)) == 0)
            abort();
    }
    return d;
}

/* fuzz_run - feed buf in pieces of step bytes; returns a digest of the requests */
static uint64_t fuzz_run(const char *buf, size_t len, size_t step)
{
    struct policy_parser p;
    uint64_t digest = 0;
    size_t pos = 0;

    policy_parser_init(&p);
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step, used = (size_t)-1;
        /* a copy of exactly the piece, so ASan sees any read past it */
        char *piece = malloc(n);
        enum policy_status st;

        if (piece == NULL)
            return digest;
        memcpy(piece, buf + pos, n);
        st = policy_parse(&p, piece, n, &used);
        free(piece);
        if (used > n || (st == POLICY_MORE && used != n))
            abort();
        pos += used;
        if (st == POLICY_ERR) {
            if (p.reason == NULL || policy_parse(&p, "a=b\n\n", 5, &used) != POLICY_ERR)
                abort();
            return digest * 31 + strlen(p.reason);
        }
        if (st == POLICY_REQ)
            digest = digest * 1099511628211u ^ fuzz_check_req(&p.req);
    }
    (void)policy_parse_eof(&p);
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t step = size ? (size_t)data[0] + 1 : 1;
    uint64_t a = fuzz_run((const char *)data, size, step);
    uint64_t b = fuzz_run((const char *)data, size, size ? size : 1);

    if (a != b) /* the same stream in other pieces: the same requests and outcome */
        abort();
    return 0;
}
