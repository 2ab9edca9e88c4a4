/*
 * test_rcpt - the address record codec: round trips, truncation, every malformation,
 * and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/rcpt.h"

static struct rcpt make(enum rcpt_kind kind, enum rcpt_state state, unsigned flags,
                        const char *primary, const char *entry)
{
    struct rcpt r;

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.state = state;
    r.flags = flags;
    r.primary = primary;
    r.primary_len = strlen(primary);
    r.entry = entry;
    r.entry_len = strlen(entry);
    return r;
}

/* decode_copy - decode from an exact-size heap copy, so ASan sees reads past the end */
static int decode_copy(struct rcpt *r, const unsigned char *src, size_t len, unsigned char **keep)
{
    unsigned char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, src, len);
    *keep = copy;
    return rcpt_decode(r, copy, len);
}

static void test_round_trip_kinds_states(void **state)
{
    static const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_GROUP, RCPT_ALIAS};
    static const enum rcpt_state states[] = {RCPT_ACTIVE, RCPT_DISABLED};
    unsigned char buf[RCPT_MAX];

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        for (size_t s = 0; s < 2; s++) {
            for (unsigned flags = 0; flags <= RCPT_FLAG_CATCHALL; flags++) {
                struct rcpt in = make(kinds[k], states[s], flags, "john.doe@example.org",
                                      "3f1c6a9e-0d1b-4b7e-9a0c-2f5d8e7b6a10");
                struct rcpt out;
                unsigned char *copy;
                int n = rcpt_encode(buf, sizeof(buf), &in);
                assert_int_equal(n, RCPT_HEADER + 20 + 36);
                assert_int_equal(buf[0], RCPT_VERSION);
                assert_int_equal(buf[1], kinds[k]);
                assert_int_equal(buf[2], states[s]);
                assert_int_equal(buf[3], flags);
                assert_int_equal(buf[4], 20);
                assert_int_equal(buf[5], 0);
                assert_int_equal(buf[6], 36);
                assert_int_equal(buf[7], 0);
                assert_int_equal(decode_copy(&out, buf, (size_t)n, &copy), 0);
                assert_int_equal(out.kind, kinds[k]);
                assert_int_equal(out.state, states[s]);
                assert_int_equal(out.flags, flags);
                assert_ptr_equal(out.primary, (const char *)copy + RCPT_HEADER);
                assert_int_equal(out.primary_len, 20);
                assert_memory_equal(out.primary, "john.doe@example.org", 20);
                assert_ptr_equal(out.entry, (const char *)copy + RCPT_HEADER + 20);
                assert_int_equal(out.entry_len, 36);
                assert_true(rcpt_equal(&in, &out));
                free(copy);
            }
        }
    }
}

/* lengths at their limits, little-endian, binary bytes in the entry id */
static void test_round_trip_limits(void **state)
{
    static const size_t plens[] = {1, 255 - 1, ADDR_MAX};
    static const size_t elens[] = {1, 255, 256, 300, RCPT_ENTRY_MAX};
    char primary[ADDR_MAX], entry[RCPT_ENTRY_MAX];
    unsigned char buf[RCPT_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(primary); i++)
        primary[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof(entry); i++)
        entry[i] = (char)(i * 7);
    for (size_t p = 0; p < 3; p++) {
        for (size_t e = 0; e < 5; e++) {
            struct rcpt in = {RCPT_ALIAS, RCPT_DISABLED, 0, primary, plens[p], entry, elens[e]};
            struct rcpt out;
            unsigned char *copy;
            int n = rcpt_encode(buf, sizeof(buf), &in);
            assert_int_equal(n, (int)(RCPT_HEADER + plens[p] + elens[e]));
            assert_int_equal(buf[4] | buf[5] << 8, plens[p]);
            assert_int_equal(buf[6] | buf[7] << 8, elens[e]);
            assert_int_equal(decode_copy(&out, buf, (size_t)n, &copy), 0);
            assert_true(rcpt_equal(&in, &out));
            free(copy);
        }
    }
    /* the largest record fits RCPT_MAX exactly; one byte less is refused */
    {
        struct rcpt in = {RCPT_USER, RCPT_ACTIVE, 0, primary, ADDR_MAX, entry, RCPT_ENTRY_MAX};
        assert_int_equal(rcpt_encode(buf, RCPT_MAX, &in), RCPT_MAX);
        assert_int_equal(rcpt_encode(buf, RCPT_MAX - 1, &in), -1);
    }
}

/* encoding refuses what decoding would refuse */
static void test_encode_refuses(void **state)
{
    char primary[ADDR_MAX + 1], entry[RCPT_ENTRY_MAX + 1];
    unsigned char buf[RCPT_MAX + 16];
    struct rcpt r;

    (void)state;
    memset(primary, 'p', sizeof(primary));
    memset(entry, 'e', sizeof(entry));
    r = (struct rcpt){RCPT_USER, RCPT_ACTIVE, 0, primary, 0, entry, 4};
    assert_int_equal(rcpt_encode(buf, sizeof(buf), &r), -1);
    r.primary_len = ADDR_MAX + 1;
    assert_int_equal(rcpt_encode(buf, sizeof(buf), &r), -1);
    r.primary_len = 4;
    r.entry_len = 0;
    assert_int_equal(rcpt_encode(buf, sizeof(buf), &r), -1);
    r.entry_len = RCPT_ENTRY_MAX + 1;
    assert_int_equal(rcpt_encode(buf, sizeof(buf), &r), -1);
    r.entry_len = 4;
    /* dst exactly the record, and one byte short */
    assert_int_equal(rcpt_encode(buf, RCPT_HEADER + 8, &r), RCPT_HEADER + 8);
    assert_int_equal(rcpt_encode(buf, RCPT_HEADER + 7, &r), -1);
    assert_int_equal(rcpt_encode(buf, 0, &r), -1);
}

/* a record rcpt_decode() would call corrupt must not be written in the first place */
static void test_encode_refuses_fields(void **state)
{
    static const struct {
        int kind, state;
        unsigned flags;
    } bad[] = {{0, 1, 0}, {4, 1, 0}, {1, 0, 0}, {1, 3, 0}, {1, 1, 2}, {1, 1, 0x80}, {255, 1, 0}};
    unsigned char buf[RCPT_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct rcpt r = make((enum rcpt_kind)bad[i].kind, (enum rcpt_state)bad[i].state,
                             bad[i].flags, "a@b.org", "id");
        int n = rcpt_encode(buf, sizeof(buf), &r);
        if (n >= 0) {
            struct rcpt back;
            fail_msg("rcpt_encode accepted kind %d state %d flags 0x%x (%d bytes) that "
                     "rcpt_decode refuses with %d",
                     bad[i].kind, bad[i].state, bad[i].flags, n,
                     rcpt_decode(&back, buf, (size_t)n));
        }
    }
}

static int encode_sample(unsigned char *buf, size_t cap)
{
    struct rcpt r = make(RCPT_GROUP, RCPT_ACTIVE, RCPT_FLAG_CATCHALL, "@example.org",
                         "cn=staff,ou=groups,dc=example,dc=org");
    return rcpt_encode(buf, cap, &r);
}

/* every prefix of a valid record is refused as truncated */
static void test_truncation(void **state)
{
    unsigned char buf[RCPT_MAX];
    int n;

    (void)state;
    n = encode_sample(buf, sizeof(buf));
    assert_true(n > RCPT_HEADER);
    for (size_t len = 0; len < (size_t)n; len++) {
        struct rcpt r;
        unsigned char *copy;
        int rc = decode_copy(&r, buf, len, &copy);
        free(copy);
        if (rc != RCPT_ERR_SHORT)
            fail_msg("prefix of %zu of %d bytes: expected RCPT_ERR_SHORT, got %d", len, n, rc);
    }
}

static void test_trailing_garbage(void **state)
{
    unsigned char buf[RCPT_MAX + 8];
    struct rcpt r;
    int n;

    (void)state;
    n = encode_sample(buf, sizeof(buf));
    for (size_t extra = 1; extra <= 8; extra++) {
        unsigned char *copy;
        memset(buf + n, 0, extra);
        assert_int_equal(decode_copy(&r, buf, (size_t)n + extra, &copy), RCPT_ERR_LENGTH);
        free(copy);
    }
}

/* each header byte mutated: the matching error */
static void test_bad_fields(void **state)
{
    static const struct {
        size_t off;
        unsigned char val;
        int want;
    } cases[] = {
        {0, 0, RCPT_ERR_VERSION},
        {0, 2, RCPT_ERR_VERSION},
        {0, 0xff, RCPT_ERR_VERSION},
        {1, 0, RCPT_ERR_FIELD},
        {1, 4, RCPT_ERR_FIELD},
        {1, 0xff, RCPT_ERR_FIELD},
        {2, 0, RCPT_ERR_FIELD},
        {2, 3, RCPT_ERR_FIELD},
        {2, 0x81, RCPT_ERR_FIELD},
        {3, 0x02, RCPT_ERR_FIELD},
        {3, 0x80, RCPT_ERR_FIELD},
        {3, 0x03, RCPT_ERR_FIELD},
        {3, 0x01, 0},
        {3, 0x00, 0},
        {1, 3, 0},
        {2, 2, 0},
        {4, 0, RCPT_ERR_LENGTH}, /* primary length 0 */
        {5, 1, RCPT_ERR_LENGTH}, /* primary length 256 + x > ADDR_MAX */
        {6, 0, RCPT_ERR_LENGTH}, /* entry length 0 */
        {7, 3, RCPT_ERR_LENGTH}, /* entry length > RCPT_ENTRY_MAX */
        {5, 0xff, RCPT_ERR_LENGTH},
        {7, 0xff, RCPT_ERR_LENGTH},
        {4, 11, RCPT_ERR_LENGTH}, /* lengths shifted: bytes left over */
        {4, 13, RCPT_ERR_SHORT},  /* lengths shifted: fewer bytes than claimed */
    };
    unsigned char buf[RCPT_MAX];
    int n;

    (void)state;
    n = encode_sample(buf, sizeof(buf));
    assert_int_equal(buf[4], 12);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char tmp[RCPT_MAX], *copy;
        struct rcpt r;
        int rc;
        memcpy(tmp, buf, (size_t)n);
        tmp[cases[i].off] = cases[i].val;
        rc = decode_copy(&r, tmp, (size_t)n, &copy);
        free(copy);
        if (rc != cases[i].want)
            fail_msg("byte %zu = 0x%02x: expected %d (%s), got %d (%s)", cases[i].off, cases[i].val,
                     cases[i].want, rcpt_strerror(cases[i].want), rc, rcpt_strerror(rc));
    }
}

/* the largest lengths decode only when exactly that many bytes follow */
static void test_max_lengths_decode(void **state)
{
    unsigned char *buf = calloc(1, RCPT_MAX + 1);
    struct rcpt r;

    (void)state;
    assert_non_null(buf);
    buf[0] = 1, buf[1] = 1, buf[2] = 1, buf[3] = 0;
    buf[4] = ADDR_MAX & 0xff, buf[5] = ADDR_MAX >> 8;
    buf[6] = RCPT_ENTRY_MAX & 0xff, buf[7] = RCPT_ENTRY_MAX >> 8;
    assert_int_equal(rcpt_decode(&r, buf, RCPT_MAX), 0);
    assert_int_equal(r.primary_len, ADDR_MAX);
    assert_int_equal(r.entry_len, RCPT_ENTRY_MAX);
    assert_int_equal(rcpt_decode(&r, buf, RCPT_MAX + 1), RCPT_ERR_LENGTH);
    assert_int_equal(rcpt_decode(&r, buf, RCPT_MAX - 1), RCPT_ERR_SHORT);
    buf[4] = (ADDR_MAX + 1) & 0xff;
    assert_int_equal(rcpt_decode(&r, buf, RCPT_MAX + 1), RCPT_ERR_LENGTH);
    buf[4] = ADDR_MAX & 0xff;
    buf[6] = (RCPT_ENTRY_MAX + 1) & 0xff, buf[7] = (RCPT_ENTRY_MAX + 1) >> 8;
    assert_int_equal(rcpt_decode(&r, buf, RCPT_MAX + 1), RCPT_ERR_LENGTH);
    free(buf);
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* random bytes never crash the decoder; whatever decodes re-encodes to the same bytes */
static void test_random_garbage(void **state)
{
    unsigned char tmpl[RCPT_MAX + 16], out[RCPT_MAX];
    size_t ok = 0;

    (void)state;
    for (int iter = 0; iter < 10000; iter++) {
        size_t len = (size_t)(rng() % (sizeof(tmpl) + 1));
        unsigned char *buf;
        struct rcpt r;
        int rc;
        for (size_t i = 0; i < len; i++)
            tmpl[i] = (unsigned char)rng();
        /* half the time, a plausible header so the later checks are reached */
        if ((rng() & 1) && len >= RCPT_HEADER) {
            size_t body = len - RCPT_HEADER, p = body ? 1 + rng() % body : 0;
            if (iter % 4 == 0 && p > ADDR_MAX)
                p = ADDR_MAX;
            tmpl[0] = RCPT_VERSION;
            tmpl[1] = (unsigned char)(rng() % 5);
            tmpl[2] = (unsigned char)(rng() % 4);
            tmpl[3] = (unsigned char)(rng() % 3);
            tmpl[4] = (unsigned char)(p & 0xff);
            tmpl[5] = (unsigned char)(p >> 8);
            if (iter % 3) {
                size_t e = body - p;
                tmpl[6] = (unsigned char)(e & 0xff);
                tmpl[7] = (unsigned char)(e >> 8);
            }
        }
        buf = malloc(len ? len : 1);
        assert_non_null(buf);
        memcpy(buf, tmpl, len);
        memset(&r, 0, sizeof(r));
        rc = rcpt_decode(&r, buf, len);
        assert_true(rc == 0 || rc == RCPT_ERR_SHORT || rc == RCPT_ERR_VERSION ||
                    rc == RCPT_ERR_FIELD || rc == RCPT_ERR_LENGTH);
        if (rc == 0) {
            int n = rcpt_encode(out, sizeof(out), &r);
            ok++;
            assert_int_equal(n, (int)len);
            assert_memory_equal(out, buf, len);
            assert_true(r.primary >= (const char *)buf &&
                        r.primary + r.primary_len <= (const char *)buf + len);
            assert_true(r.entry >= (const char *)buf &&
                        r.entry + r.entry_len <= (const char *)buf + len);
        }
        free(buf);
    }
    /* the plausible headers must have produced some valid records */
    assert_true(ok > 100);
}

static void test_equal(void **state)
{
    struct rcpt a = make(RCPT_USER, RCPT_ACTIVE, 0, "a@example.org", "id-1");
    struct rcpt b;
    char p2[] = "a@example.org", e2[] = "id-1";

    (void)state;
    b = make(RCPT_USER, RCPT_ACTIVE, 0, p2, e2); /* same bytes, other pointers */
    assert_true(rcpt_equal(&a, &b));
    assert_true(rcpt_equal(&b, &a));
    b.kind = RCPT_ALIAS;
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_DISABLED, 0, p2, e2);
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_ACTIVE, RCPT_FLAG_CATCHALL, p2, e2);
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_ACTIVE, 0, "b@example.org", e2);
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_ACTIVE, 0, "a@example.or", e2);
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_ACTIVE, 0, p2, "id-2");
    assert_false(rcpt_equal(&a, &b));
    b = make(RCPT_USER, RCPT_ACTIVE, 0, p2, "id-10");
    assert_false(rcpt_equal(&a, &b));
}

static void test_names(void **state)
{
    static const int errs[] = {RCPT_ERR_SHORT, RCPT_ERR_VERSION, RCPT_ERR_FIELD, RCPT_ERR_LENGTH};

    (void)state;
    assert_string_equal(rcpt_kind_name(RCPT_USER), "user");
    assert_string_equal(rcpt_kind_name(RCPT_GROUP), "group");
    assert_string_equal(rcpt_kind_name(RCPT_ALIAS), "alias");
    assert_string_equal(rcpt_kind_name((enum rcpt_kind)0), "?");
    assert_string_equal(rcpt_state_name(RCPT_ACTIVE), "active");
    assert_string_equal(rcpt_state_name(RCPT_DISABLED), "disabled");
    assert_string_equal(rcpt_strerror(0), "ok");
    assert_string_equal(rcpt_strerror(-77), "unknown record error");
    for (size_t i = 0; i < 4; i++) {
        assert_string_not_equal(rcpt_strerror(errs[i]), "unknown record error");
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(rcpt_strerror(errs[i]), rcpt_strerror(errs[k]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_kinds_states),
        cmocka_unit_test(test_round_trip_limits),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_encode_refuses_fields),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_max_lengths_decode),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests_name("rcpt", tests, NULL, NULL);
}
