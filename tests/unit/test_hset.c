/*
 * test_hset - the hash set syncd uses to remember seen addresses and entries: add/has,
 * duplicates, growth far past the first table, clustered hashes (linear probing across
 * growth), hset_hash never 0 and different for similar keys, free and reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hset.h"

/* key_hash - the hash of "<prefix><i>@example.org" */
static uint64_t key_hash(const char *prefix, unsigned i)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%s%u@example.org", prefix, i);

    return hset_hash(buf, (size_t)n);
}

static void test_empty(void **state)
{
    struct hset s = {0};

    (void)state;
    assert_int_equal(hset_has(&s, 1), 0);
    assert_int_equal(hset_has(&s, hset_hash("x", 1)), 0);
    assert_int_equal(s.n, 0);
    hset_free(&s); /* free of an empty set is harmless */
    assert_null(s.slot);
}

static void test_add_has_duplicates(void **state)
{
    struct hset s = {0};
    uint64_t a = hset_hash("alice@example.org", 17), b = hset_hash("bob@example.org", 15);

    (void)state;
    assert_int_equal(hset_add(&s, a), 1);
    assert_int_equal(hset_add(&s, a), 0);
    assert_int_equal(hset_add(&s, a), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(hset_has(&s, a), 1);
    assert_int_equal(hset_has(&s, b), 0);
    assert_int_equal(hset_add(&s, b), 1);
    assert_int_equal(hset_has(&s, b), 1);
    assert_int_equal(s.n, 2);
    assert_true(s.cap > 0 && (s.cap & (s.cap - 1)) == 0); /* power of two */
    hset_free(&s);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.cap, 0);
    /* reusable after free */
    assert_int_equal(hset_has(&s, a), 0);
    assert_int_equal(hset_add(&s, a), 1);
    assert_int_equal(hset_has(&s, a), 1);
    hset_free(&s);
}

static void test_growth(void **state)
{
    enum { N = 200000 };
    struct hset s = {0};

    (void)state;
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(hset_add(&s, key_hash("user", i)), 1);
    assert_int_equal(s.n, N);
    assert_true(s.cap >= 2 * (size_t)N); /* load factor at most 1/2 */
    assert_true((s.cap & (s.cap - 1)) == 0);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(hset_has(&s, key_hash("user", i)), 1);
        assert_int_equal(hset_add(&s, key_hash("user", i)), 0);
    }
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(hset_has(&s, key_hash("other", i)), 0);
    assert_int_equal(s.n, N);
    hset_free(&s);
}

/* hashes that all fall into the same slot of every table size up to 2^20 */
static void test_clustered(void **state)
{
    enum { N = 5000 };
    struct hset s = {0};

    (void)state;
    for (uint64_t i = 1; i <= N; i++)
        assert_int_equal(hset_add(&s, (i << 20) | 7), 1);
    assert_int_equal(s.n, N);
    for (uint64_t i = 1; i <= N; i++) {
        assert_int_equal(hset_has(&s, (i << 20) | 7), 1);
        assert_int_equal(hset_add(&s, (i << 20) | 7), 0);
    }
    assert_int_equal(hset_has(&s, ((uint64_t)(N + 1) << 20) | 7), 0);
    assert_int_equal(hset_has(&s, 7), 0);
    hset_free(&s);
}

static void test_hash_never_zero(void **state)
{
    char buf[8];

    (void)state;
    assert_true(hset_hash("", 0) != 0);
    assert_true(hset_hash(NULL, 0) != 0);
    for (unsigned i = 0; i < 300000; i++) {
        memcpy(buf, &i, sizeof(i));
        assert_true(hset_hash(buf, sizeof(i)) != 0);
        assert_true(hset_hash(buf, 1 + i % 4) != 0);
    }
}

static void test_hash_distinct(void **state)
{
    static const struct {
        const char *s;
        size_t len;
    } keys[] = {
        {"", 0},
        {"\0", 1},
        {"\0\0", 2},
        {"a", 1},
        {"b", 1},
        {"A", 1},
        {"ab", 2},
        {"ba", 2},
        {"a\0", 2},
        {"user@example.org", 16},
        {"User@example.org", 16},
        {"user@example.org\0", 17},
        {"usr@example.org", 15},
        {"user@example.com", 16},
        {"user1@example.org", 17},
        {"user2@example.org", 17},
        {"user10@example.org", 18},
        {"user01@example.org", 18},
        {"@example.org", 12},
        {"example.org", 11},
    };
    size_t n = sizeof(keys) / sizeof(keys[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hset_hash(keys[i].s, keys[i].len);
        assert_true(h != 0);
        assert_true(h == hset_hash(keys[i].s, keys[i].len)); /* deterministic */
        for (size_t j = i + 1; j < n; j++)
            if (h == hset_hash(keys[j].s, keys[j].len))
                fail_msg("hset_hash collides for keys %zu and %zu", i, j);
    }
}

/* 100k similar keys: no two share a 64-bit hash (a collision would keep an address) */
static void test_hash_no_collisions(void **state)
{
    enum { N = 100000 };
    struct hset s = {0};

    (void)state;
    for (unsigned i = 0; i < N; i++)
        if (!hset_add(&s, key_hash("u", i)))
            fail_msg("hash collision at u%u@example.org", i);
    hset_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_add_has_duplicates),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_clustered),
        cmocka_unit_test(test_hash_never_zero),
        cmocka_unit_test(test_hash_distinct),
        cmocka_unit_test(test_hash_no_collisions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
