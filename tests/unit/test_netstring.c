/*
 * test_netstring - the bounded incremental decoder and the encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/netstring.h"

#define LIMIT 10000

struct dcase {
    const char *in;
    size_t len;
    size_t maxlen;
    enum ns_status want;
    const char *payload; /* for NS_OK */
    size_t plen, consumed;
};

#define D(s, max, st)                                                                              \
    {                                                                                              \
        s, sizeof(s) - 1, max, st, NULL, 0, 0                                                      \
    }
#define DOK(s, max, p, plen, cons)                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1, max, NS_OK, p, plen, cons                                                \
    }

static const struct dcase dcases[] = {
    DOK("5:hello,", LIMIT, "hello", 5, 8),
    DOK("0:,", LIMIT, "", 0, 3),
    DOK("5:hello,6:world!,", LIMIT, "hello", 5, 8),
    DOK("05:hello,", LIMIT, "hello", 5, 9),
    DOK("000:,", LIMIT, "", 0, 5),
    DOK("000000000000000005:hello,", LIMIT, "hello", 5, 25), /* 18 digits */
    DOK("3:a,b,", LIMIT, "a,b", 3, 6),
    DOK("3:1:,,", LIMIT, "1:,", 3, 6),
    DOK("3:a\0b,", LIMIT, "a\0b", 3, 6),
    DOK("5:hello,", 5, "hello", 5, 8), /* exactly the limit */
    DOK("5:hell,,", LIMIT, "hell,", 5, 8),
    DOK("10:0123456789,", LIMIT, "0123456789", 10, 14),
    D("", LIMIT, NS_MORE),
    D("5", LIMIT, NS_MORE),
    D("5:", LIMIT, NS_MORE),
    D("5:hell", LIMIT, NS_MORE),
    D("5:hell,", LIMIT, NS_MORE), /* the ',' may be payload: wait for byte 8 */
    D("10000", LIMIT, NS_MORE),
    D("x5:hello,", LIMIT, NS_ERR_NODIGIT),
    D(":hello,", LIMIT, NS_ERR_NODIGIT),
    D(",", LIMIT, NS_ERR_NODIGIT),
    D(" 5:hello,", LIMIT, NS_ERR_NODIGIT),
    D("-5:hello,", LIMIT, NS_ERR_NODIGIT),
    D("+5:hello,", LIMIT, NS_ERR_NODIGIT),
    D("\0", LIMIT, NS_ERR_NODIGIT),
    D("5x", LIMIT, NS_ERR_BADCHAR),
    D("5a:hello,", LIMIT, NS_ERR_BADCHAR),
    D("1e3:x,", LIMIT, NS_ERR_BADCHAR),
    D("5 :hello,", LIMIT, NS_ERR_BADCHAR),
    D("5;hello,", LIMIT, NS_ERR_BADCHAR),
    D("5\0", LIMIT, NS_ERR_BADCHAR),
    D("5:hello!", LIMIT, NS_ERR_NOCOMMA),
    D("3:hello,", LIMIT, NS_ERR_NOCOMMA),
    D("5:hell,x", LIMIT, NS_ERR_NOCOMMA),
    D("0:x,", LIMIT, NS_ERR_NOCOMMA),
    D("0::", LIMIT, NS_ERR_NOCOMMA),
    D("5:hello,", 4, NS_ERR_TOOLONG),
    D("5:hello,", 0, NS_ERR_TOOLONG),
    D("0:,", 0, NS_OK),
    D("10001", LIMIT, NS_ERR_TOOLONG),
    D("100000", LIMIT, NS_ERR_TOOLONG),
    D("100000000:", LIMIT, NS_ERR_TOOLONG),
    D("100000000", LIMIT, NS_ERR_TOOLONG),
    D("99999", LIMIT, NS_ERR_TOOLONG),
    D("123456789012345678901234567890:", LIMIT, NS_ERR_TOOLONG),
    D("123456789012345678901234567890:", 999999999999999999ULL, NS_ERR_TOOLONG),
    D("999999999999999999999999999999", 999999999999999999ULL, NS_ERR_TOOLONG),
    D("0000000000000000000005:hello,", LIMIT, NS_ERR_TOOLONG), /* 22 digits */
};

static void test_decode_table(void **state)
{
    size_t bad = 0, n = sizeof(dcases) / sizeof(dcases[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        const struct dcase *c = &dcases[i];
        const char *payload = NULL;
        size_t plen = 12345, consumed = 12345;
        /* a heap copy of exactly len bytes, so ASan sees any read past the end */
        char *buf = malloc(c->len ? c->len : 1);
        enum ns_status st;

        assert_non_null(buf);
        memcpy(buf, c->in, c->len);
        st = ns_decode(buf, c->len, c->maxlen, &payload, &plen, &consumed);
        if (st != c->want) {
            print_error("case %zu '%.*s' (limit %zu): expected %d (%s), got %d (%s)\n", i,
                        (int)c->len, c->in, c->maxlen, c->want, ns_strerror(c->want), st,
                        ns_strerror(st));
            bad++;
        } else if (st == NS_OK && c->payload != NULL &&
                   (plen != c->plen || consumed != c->consumed ||
                    payload != buf + (c->consumed - c->plen - 1) ||
                    memcmp(payload, c->payload, plen) != 0)) {
            print_error("case %zu '%.*s': payload length %zu consumed %zu\n", i, (int)c->len, c->in,
                        plen, consumed);
            bad++;
        } else if (st != NS_OK && (plen != 12345 || consumed != 12345)) {
            print_error("case %zu: outputs written on status %d\n", i, st);
            bad++;
        }
        free(buf);
    }
    if (bad > 0)
        fail_msg("%zu of %zu decode cases failed", bad, n);
}

/* every proper prefix of a valid netstring asks for more */
static void test_decode_every_prefix(void **state)
{
    static const char *const valid[] = {"5:hello,", "0:,", "12:hello, world,", "05:hello,",
                                        "3:,,,,"};

    (void)state;
    for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
        size_t full = strlen(valid[v]);
        for (size_t len = 0; len <= full; len++) {
            const char *payload;
            size_t plen, consumed;
            char *buf = malloc(len ? len : 1);
            enum ns_status st;
            assert_non_null(buf);
            memcpy(buf, valid[v], len);
            st = ns_decode(buf, len, LIMIT, &payload, &plen, &consumed);
            if (len < full && st != NS_MORE)
                fail_msg("'%s' cut at %zu: expected NS_MORE, got %d", valid[v], len, st);
            if (len == full) {
                assert_int_equal(st, NS_OK);
                assert_int_equal(consumed, full);
            }
            free(buf);
        }
    }
}

/* several netstrings in one buffer, decoded one after the other */
static void test_decode_back_to_back(void **state)
{
    static const char stream[] = "5:hello,0:,3:a:b,11:socketmap x,";
    static const char *const want[] = {"hello", "", "a:b", "socketmap x"};
    size_t pos = 0, len = sizeof(stream) - 1, k = 0;

    (void)state;
    while (pos < len) {
        const char *payload;
        size_t plen, consumed;
        assert_int_equal(ns_decode(stream + pos, len - pos, LIMIT, &payload, &plen, &consumed),
                         NS_OK);
        assert_true(k < 4);
        assert_int_equal(plen, strlen(want[k]));
        assert_memory_equal(payload, want[k], plen);
        pos += consumed;
        k++;
    }
    assert_int_equal(k, 4);
    assert_int_equal(pos, len);
}

/* a huge claimed length is refused as soon as it passes the limit, not after the payload */
static void test_decode_limit_early(void **state)
{
    static const char claim[] = "100000000:";
    const char *payload;
    size_t plen, consumed;

    (void)state;
    for (size_t len = 1; len <= sizeof(claim) - 1; len++) {
        enum ns_status st = ns_decode(claim, len, LIMIT, &payload, &plen, &consumed);
        /* "1", "10", ... "10000" are within the limit; "100000" is not */
        if (len <= 5)
            assert_int_equal(st, NS_MORE);
        else
            assert_int_equal(st, NS_ERR_TOOLONG);
    }
    /* a limit just below the maximum still stops at the digit count */
    for (size_t len = 1; len <= 30; len++) {
        char digits[31];
        memset(digits, '9', len);
        enum ns_status st =
            ns_decode(digits, len, 999999999999999999ULL, &payload, &plen, &consumed);
        assert_int_equal(st, len <= 18 ? NS_MORE : NS_ERR_TOOLONG);
    }
}

static void test_strerror(void **state)
{
    static const enum ns_status all[] = {NS_OK,          NS_MORE,        NS_ERR_NODIGIT,
                                         NS_ERR_BADCHAR, NS_ERR_TOOLONG, NS_ERR_NOCOMMA};

    (void)state;
    for (size_t i = 0; i < 6; i++) {
        assert_non_null(ns_strerror(all[i]));
        assert_string_not_equal(ns_strerror(all[i]), "unknown netstring error");
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(ns_strerror(all[i]), ns_strerror(all[k]));
    }
    assert_string_equal(ns_strerror((enum ns_status) - 42), "unknown netstring error");
}

static void test_encoded_len(void **state)
{
    static const struct {
        size_t plen, want;
    } cases[] = {{0, 3},     {1, 4},      {9, 12},      {10, 14},       {99, 103},
                 {100, 105}, {999, 1004}, {1000, 1006}, {65535, 65542}, {1000000, 1000009}};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(ns_encoded_len(cases[i].plen), cases[i].want);
}

static void test_encode(void **state)
{
    char dst[64];

    (void)state;
    memset(dst, '#', sizeof(dst));
    assert_int_equal(ns_encode(dst, sizeof(dst), "hello", 5), 8);
    assert_memory_equal(dst, "5:hello,", 8);
    assert_int_equal(dst[8], '#'); /* no NUL added */

    memset(dst, '#', sizeof(dst));
    assert_int_equal(ns_encode(dst, 3, "", 0), 3);
    assert_memory_equal(dst, "0:,#", 4);

    /* too small: 0 and nothing written past dstlen */
    for (size_t cap = 0; cap < 8; cap++) {
        memset(dst, '#', sizeof(dst));
        assert_int_equal(ns_encode(dst, cap, "hello", 5), 0);
        for (size_t k = cap; k < sizeof(dst); k++)
            assert_int_equal(dst[k], '#');
    }
    memset(dst, '#', sizeof(dst));
    assert_int_equal(ns_encode(dst, 8, "hello", 5), 8);
    assert_memory_equal(dst, "5:hello,#", 9);

    /* binary payload */
    assert_int_equal(ns_encode(dst, sizeof(dst), "a\0,:b", 5), 8);
    assert_memory_equal(dst, "5:a\0,:b,", 8);
    assert_int_equal(ns_encode(dst, sizeof(dst), "0123456789", 10), 14);
    assert_memory_equal(dst, "10:0123456789,", 14);
}

/* xorshift64*: deterministic */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void test_round_trip(void **state)
{
    char payload[2000], enc[2100];

    (void)state;
    for (int iter = 0; iter < 2000; iter++) {
        size_t plen = (size_t)(rng() % sizeof(payload)), n, consumed, got_len;
        const char *got;
        for (size_t k = 0; k < plen; k++)
            payload[k] = (char)rng();
        n = ns_encode(enc, sizeof(enc), payload, plen);
        assert_int_equal(n, ns_encoded_len(plen));
        assert_int_equal(ns_decode(enc, n, sizeof(payload), &got, &got_len, &consumed), NS_OK);
        assert_int_equal(consumed, n);
        assert_int_equal(got_len, plen);
        assert_memory_equal(got, payload, plen);
        /* and one byte short asks for more */
        assert_int_equal(ns_decode(enc, n - 1, sizeof(payload), &got, &got_len, &consumed),
                         NS_MORE);
        /* a limit one below the length refuses it */
        if (plen > 0)
            assert_int_equal(ns_decode(enc, n, plen - 1, &got, &got_len, &consumed),
                             NS_ERR_TOOLONG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_every_prefix),
        cmocka_unit_test(test_decode_back_to_back),
        cmocka_unit_test(test_decode_limit_early),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_encoded_len),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests_name("netstring", tests, NULL, NULL);
}
