/*
 * test_store_rec - the store's record codecs (schema/store_rec.h): for each of log key, log
 * record, entry list, domain value and numeric meta value a round trip, golden bytes (the
 * layout store_rec.h documents, written out by hand), every truncation refused, and the
 * malformed values each decoder must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/rcpt.h"
#include "schema/store.h"
#include "schema/store_rec.h"

/* a small address record for the log tests */
static int mkrec(unsigned char *buf, size_t cap)
{
    struct rcpt r = {RCPT_USER, RCPT_ACTIVE, 0, "a@example.org", 13, "id-a", 4};

    return rcpt_encode(buf, cap, &r);
}

static void test_log_key(void **state)
{
    unsigned char key[STORE_LOG_KEY_SIZE];
    uint64_t g;
    uint32_t s;

    (void)state;
    store_log_key(key, 0x0102030405060708ULL, 0x090a0b0cU);
    assert_memory_equal(key, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
    assert_int_equal(store_log_key_decode(key, sizeof(key), &g, &s), 0);
    assert_true(g == 0x0102030405060708ULL && s == 0x090a0b0cU);
    assert_int_equal(store_log_key_decode(key, sizeof(key), &g, NULL), 0);
    for (size_t n = 0; n < sizeof(key); n++)
        assert_int_equal(store_log_key_decode(key, n, &g, &s), STORE_ERR_CORRUPT);
    assert_int_equal(store_log_key_decode("0123456789abc", 13, &g, &s), STORE_ERR_CORRUPT);
}

static void test_log_golden(void **state)
{
    static const unsigned char del[] = "-\x0d\x00"
                                       "a@example.org";
    unsigned char buf[STORE_LOG_MAX], rec[RCPT_MAX], want[STORE_LOG_MAX];
    struct store_log_rec l = {STORE_OP_REMOVE, "a@example.org", 13, NULL, 0}, d;
    int n, rn = mkrec(rec, sizeof(rec));

    (void)state;
    n = store_log_encode(buf, sizeof(buf), &l);
    assert_int_equal(n, sizeof(del) - 1);
    assert_memory_equal(buf, del, sizeof(del) - 1);
    /* an add: op, length, key, then the record as rcpt_encode writes it */
    l = (struct store_log_rec){STORE_OP_ADD, "a@example.org", 13, rec, (size_t)rn};
    n = store_log_encode(buf, sizeof(buf), &l);
    memcpy(want,
           "+\x0d\x00"
           "a@example.org",
           16);
    memcpy(want + 16, rec, (size_t)rn);
    assert_int_equal(n, 16 + rn);
    assert_memory_equal(buf, want, (size_t)n);
    assert_int_equal(store_log_decode(&d, buf, (size_t)n), 0);
    assert_int_equal(d.op, STORE_OP_ADD);
    assert_int_equal(d.keylen, 13);
    assert_memory_equal(d.key, "a@example.org", 13);
    assert_int_equal(d.reclen, rn);
    assert_memory_equal(d.rec, rec, (size_t)rn);
}

static void test_log_round_trip_truncated(void **state)
{
    static const enum store_op ops[] = {STORE_OP_ADD, STORE_OP_CHANGE, STORE_OP_REMOVE,
                                        STORE_OP_DOMAIN_ADD, STORE_OP_DOMAIN_REMOVE};
    unsigned char buf[STORE_LOG_MAX], rec[RCPT_MAX];
    int rn = mkrec(rec, sizeof(rec));

    (void)state;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        int has = store_op_has_record(ops[i]);
        struct store_log_rec l = {ops[i], "example.org", 11, has ? rec : NULL,
                                  has ? (size_t)rn : 0},
                             d;
        int n = store_log_encode(buf, sizeof(buf), &l);
        assert_true(n > 0);
        assert_int_equal(store_log_decode(&d, buf, (size_t)n), 0);
        assert_int_equal(d.op, ops[i]);
        assert_int_equal(d.keylen, 11);
        assert_int_equal(d.reclen, l.reclen);
        /* every shorter prefix is refused, and so is one byte more */
        for (int k = 0; k < n; k++)
            assert_int_equal(store_log_decode(&d, buf, (size_t)k), STORE_ERR_CORRUPT);
        buf[n] = 0;
        assert_int_equal(store_log_decode(&d, buf, (size_t)n + 1), STORE_ERR_CORRUPT);
        /* a buffer one byte short: nothing written */
        assert_int_equal(store_log_encode(buf, (size_t)n - 1, &l), -1);
    }
}

static void test_log_refused(void **state)
{
    unsigned char buf[STORE_LOG_MAX], rec[RCPT_MAX];
    struct store_log_rec d;
    char key[ADDR_MAX + 1];
    int rn = mkrec(rec, sizeof(rec));

    (void)state;
    memset(key, 'k', sizeof(key));
    /* encoder: unknown op, empty or over-long key, a record missing or where none belongs */
    assert_int_equal(
        store_log_encode(buf, sizeof(buf), &(struct store_log_rec){'?', "k", 1, NULL, 0}), -1);
    assert_int_equal(store_log_encode(buf, sizeof(buf),
                                      &(struct store_log_rec){STORE_OP_REMOVE, "", 0, NULL, 0}),
                     -1);
    assert_int_equal(
        store_log_encode(buf, sizeof(buf),
                         &(struct store_log_rec){STORE_OP_REMOVE, key, ADDR_MAX + 1, NULL, 0}),
        -1);
    assert_int_equal(
        store_log_encode(buf, sizeof(buf), &(struct store_log_rec){STORE_OP_ADD, "k", 1, NULL, 0}),
        -1);
    assert_true(store_log_encode(buf, sizeof(buf),
                                 &(struct store_log_rec){STORE_OP_REMOVE, key, ADDR_MAX, NULL, 0}) >
                0);
    /* decoder */
    assert_int_equal(store_log_decode(&d, "Q\x01\x00k", 4), STORE_ERR_CORRUPT);    /* op */
    assert_int_equal(store_log_decode(&d, "-\x00\x00", 3), STORE_ERR_CORRUPT);     /* no key */
    assert_int_equal(store_log_decode(&d, "-\x01\x00kx", 5), STORE_ERR_CORRUPT);   /* value */
    assert_int_equal(store_log_decode(&d, "+\x01\x00k", 4), STORE_ERR_CORRUPT);    /* no rcpt */
    assert_int_equal(store_log_decode(&d, "~\x01\x00kxyz", 7), STORE_ERR_CORRUPT); /* bad rcpt */
    buf[0] = '-', buf[1] = (ADDR_MAX + 1) & 0xff, buf[2] = (ADDR_MAX + 1) >> 8;
    memcpy(buf + 3, key, ADDR_MAX + 1);
    assert_int_equal(store_log_decode(&d, buf, 3 + ADDR_MAX + 1), STORE_ERR_CORRUPT);
    (void)rn;
}

static void test_entry_golden_round_trip(void **state)
{
    static const unsigned char golden[] = "\xff\xff\x02\x01\x02\x00"
                                          "\x0d\x00"
                                          "a@example.org"
                                          "\x0c\x00"
                                          "@example.net";
    static const char *const keys[] = {"a@example.org", "@example.net"};
    unsigned char buf[64];
    struct store_entry e;
    const char *k;
    size_t off = 0, n = 0, klen;
    int rc;

    (void)state;
    assert_int_equal(store_entry_encode_head(buf, sizeof(buf), RCPT_DISABLED, RCPT_USER, 2),
                     STORE_ENTRY_HEADER);
    n = STORE_ENTRY_HEADER;
    for (size_t i = 0; i < 2; i++) {
        rc = store_entry_encode_key(buf + n, sizeof(buf) - n, keys[i], strlen(keys[i]));
        assert_int_equal(rc, STORE_ENTRY_ITEM(strlen(keys[i])));
        n += (size_t)rc;
    }
    assert_int_equal(n, sizeof(golden) - 1);
    assert_memory_equal(buf, golden, n);
    assert_int_equal(store_entry_decode(&e, buf, n), 0);
    assert_int_equal(e.state, RCPT_DISABLED);
    assert_int_equal(e.kind, RCPT_USER);
    assert_int_equal(e.nkeys, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(store_entry_next(&e, &off, &k, &klen), 1);
        assert_int_equal(klen, strlen(keys[i]));
        assert_memory_equal(k, keys[i], klen);
    }
    assert_int_equal(store_entry_next(&e, &off, &k, &klen), 0);
    /* every truncation is refused (the head alone has no key) */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_entry_decode(&e, buf, i), STORE_ERR_CORRUPT);
    /* no room: nothing written */
    assert_int_equal(store_entry_encode_head(buf, 5, RCPT_ACTIVE, RCPT_USER, 1), -1);
    /* a count that does not match */
    buf[4] = 3;
    assert_int_equal(store_entry_decode(&e, buf, n), STORE_ERR_CORRUPT);
    assert_int_equal(store_entry_encode_key(buf, 14, "a@example.org", 13), -1);
}

/* a value without the mark: the key list alone, state and kind unknown; only a cut inside a
 * key shows (the unmarked list has no count) */
static void test_entry_unmarked(void **state)
{
    static const unsigned char old[] = "\x11\x00staff@example.org\x0c\x00@example.net";
    struct store_entry e;

    (void)state;
    assert_int_equal(store_entry_decode(&e, old, sizeof(old) - 1), 0);
    assert_int_equal(e.state, 0);
    assert_int_equal(e.kind, 0);
    assert_int_equal(e.nkeys, 2);
    for (size_t i = 0; i < sizeof(old) - 1; i++)
        if (i != 19) /* 19: the first key alone, a well-formed list */
            assert_int_equal(store_entry_decode(&e, old, i), STORE_ERR_CORRUPT);
}

static void test_entry_refused(void **state)
{
    static const struct {
        const char *v;
        size_t len;
    } bad[] = {
        {"\xff\xff\x03\x01\x01\x00\x01\x00k", 9}, /* state */
        {"\xff\xff\x01\x03\x01\x00\x01\x00k", 9}, /* kind: an alias is never an entry's */
        {"\xff\xff\x01\x01\x00\x00\x01\x00k", 9}, /* uncounted, yet only one key */
        {"\xff\xff\x01\x01\x01\x00\x00\x00", 8},  /* an empty key */
        {"\x00\x00", 2},                          /* an empty key, unmarked */
        {"\xff\x00k", 3},                         /* 255 claimed */
        {"\x00\x01k", 3},                         /* little-endian: 256 claimed */
    };
    struct store_entry e;
    unsigned char buf[8];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_entry_decode(&e, bad[i].v, bad[i].len), STORE_ERR_CORRUPT);
    assert_int_equal(store_entry_encode_head(buf, sizeof(buf), 0, RCPT_USER, 1), -1);
    assert_int_equal(store_entry_encode_head(buf, sizeof(buf), RCPT_ACTIVE, RCPT_ALIAS, 1), -1);
    assert_int_equal(store_entry_encode_head(buf, sizeof(buf), RCPT_ACTIVE, RCPT_USER, 0), -1);
    assert_int_equal(store_entry_encode_key(buf, sizeof(buf), "", 0), -1);
}

/* more keys than the count holds: counted as 0, and still decoded whole */
static void test_entry_uncounted(void **state)
{
    const size_t nkeys = 65536;
    size_t cap = STORE_ENTRY_HEADER + nkeys * STORE_ENTRY_ITEM(1), n;
    unsigned char *buf = malloc(cap);
    struct store_entry e;

    (void)state;
    assert_non_null(buf);
    assert_int_equal(store_entry_encode_head(buf, cap, RCPT_ACTIVE, RCPT_GROUP, nkeys),
                     STORE_ENTRY_HEADER);
    assert_int_equal(buf[4], 0);
    assert_int_equal(buf[5], 0);
    n = STORE_ENTRY_HEADER;
    for (size_t i = 0; i < nkeys; i++)
        n += (size_t)store_entry_encode_key(buf + n, cap - n, "k", 1);
    assert_int_equal(n, cap);
    assert_int_equal(store_entry_decode(&e, buf, n), 0);
    assert_int_equal(e.nkeys, nkeys);
    free(buf);
}

static void test_domain_value(void **state)
{
    enum store_domain_kind k;

    (void)state;
    assert_int_equal(store_domain_decode("c", 1, &k), 0);
    assert_int_equal(k, STORE_DOMAIN_CONFIGURED);
    assert_int_equal(store_domain_decode("d", 1, &k), 0);
    assert_int_equal(k, STORE_DOMAIN_DERIVED);
    assert_int_equal(store_domain_decode("", 0, &k), STORE_ERR_CORRUPT);
    assert_int_equal(store_domain_decode("x", 1, &k), STORE_ERR_CORRUPT);
    assert_int_equal(store_domain_decode("cd", 2, &k), STORE_ERR_CORRUPT);
}

static void test_meta_u64(void **state)
{
    static const uint64_t vals[] = {0, 1, 9, 10, 4294967296ULL, UINT64_MAX};
    static const char *const bad[] = {"",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1x",
                                      "18446744073709551616",
                                      "99999999999999999999",
                                      "000000000000000000001"};
    char buf[STORE_META_U64_SIZE];
    uint64_t v;

    (void)state;
    assert_int_equal(store_meta_u64_encode(buf, 1234567890), 10);
    assert_string_equal(buf, "1234567890");
    assert_int_equal(store_meta_u64_encode(buf, UINT64_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        int n = store_meta_u64_encode(buf, vals[i]);
        assert_int_equal(store_meta_u64_decode(buf, (size_t)n, &v), 0);
        assert_true(v == vals[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_meta_u64_decode(bad[i], strlen(bad[i]), &v), STORE_ERR_CORRUPT);
    assert_int_equal(store_meta_u64_decode("007", 3, &v), 0);
    assert_true(v == 7);
}

/* the history record: golden bytes, round trip, every truncation refused, cuts at the maxima */
static void test_hist(void **state)
{
    static const unsigned char golden[] = {
        1,    'f', 0x10, 0x32, 0x54, 0x76, 0, 0, 0, 0, /* version, result, time */
        0xe8, 3,   0,    0,                            /* 1000 ms */
        7,    0,   0,    0,    0,    0,    0, 0,       /* generation before */
        7,    0,   0,    0,    0,    0,    0, 0,       /* after */
        1,    0,   0,    0,    0,    0,    0, 0,       /* added */
        2,    0,   0,    0,    0,    0,    0, 0,       /* changed */
        3,    0,   0,    0,    0,    0,    0, 0,       /* removed */
        4,    0,   'l',  'd',  'i',  'f',              /* source */
        3,    0,   'b',  'a',  'd'};                   /* error */
    struct store_hist h = {.time = 0x76543210,
                           .duration_ms = 1000,
                           .result = STORE_HIST_FAILED,
                           .gen_before = 7,
                           .gen_after = 7,
                           .added = 1,
                           .changed = 2,
                           .removed = 3,
                           .source = "ldif",
                           .sourcelen = 4,
                           .error = "bad",
                           .errorlen = 3};
    unsigned char buf[STORE_HIST_MAX], big[2 * STORE_HIST_MAX];
    struct store_hist d;
    char longs[2000];
    int n;

    (void)state;
    n = store_hist_encode(buf, sizeof(buf), &h);
    assert_int_equal(n, sizeof(golden));
    assert_memory_equal(buf, golden, sizeof(golden));
    assert_int_equal(store_hist_decode(&d, buf, (size_t)n), 0);
    assert_true(d.time == h.time && d.duration_ms == 1000 && d.result == STORE_HIST_FAILED);
    assert_true(d.gen_before == 7 && d.gen_after == 7 && d.added == 1 && d.changed == 2 &&
                d.removed == 3);
    assert_int_equal(d.sourcelen, 4);
    assert_memory_equal(d.source, "ldif", 4);
    assert_int_equal(d.errorlen, 3);
    assert_memory_equal(d.error, "bad", 3);
    assert_string_equal(store_hist_result_name(d.result), "failed");
    for (size_t len = 0; len < (size_t)n; len++)
        assert_int_equal(store_hist_decode(&d, buf, len), STORE_ERR_CORRUPT);
    memcpy(big, buf, (size_t)n);
    big[n] = 0;
    assert_int_equal(store_hist_decode(&d, big, (size_t)n + 1), STORE_ERR_CORRUPT);
    buf[0] = 2; /* another version */
    assert_int_equal(store_hist_decode(&d, buf, (size_t)n), STORE_ERR_CORRUPT);
    buf[0] = 1;
    buf[1] = 'x'; /* an unknown result */
    assert_int_equal(store_hist_decode(&d, buf, (size_t)n), STORE_ERR_CORRUPT);
    assert_int_equal(store_hist_encode(buf, sizeof(golden) - 1, &h), -1);
    h.result = (enum store_hist_result)'x';
    assert_int_equal(store_hist_encode(buf, sizeof(buf), &h), -1);
    /* over-long texts are cut, never inside a UTF-8 character */
    memset(longs, 'a', sizeof(longs));
    memcpy(longs + STORE_HIST_ERROR_MAX - 1, "\xc3\xa9", 2); /* é across the limit */
    h.result = STORE_HIST_REFUSED;
    h.error = longs;
    h.errorlen = sizeof(longs);
    h.source = longs;
    h.sourcelen = sizeof(longs);
    n = store_hist_encode(big, sizeof(big), &h);
    assert_true(n > 0 && n <= STORE_HIST_MAX);
    assert_int_equal(store_hist_decode(&d, big, (size_t)n), 0);
    assert_int_equal(d.sourcelen, STORE_HIST_SOURCE_MAX);
    assert_int_equal(d.errorlen, STORE_HIST_ERROR_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_key),
        cmocka_unit_test(test_log_golden),
        cmocka_unit_test(test_log_round_trip_truncated),
        cmocka_unit_test(test_log_refused),
        cmocka_unit_test(test_entry_golden_round_trip),
        cmocka_unit_test(test_entry_unmarked),
        cmocka_unit_test(test_entry_refused),
        cmocka_unit_test(test_entry_uncounted),
        cmocka_unit_test(test_domain_value),
        cmocka_unit_test(test_meta_u64),
        cmocka_unit_test(test_hist),
    };

    return cmocka_run_group_tests_name("store_rec", tests, NULL, NULL);
}
