/*
 * test_peer - the per-client tables of lookupd's hostile-client limits: peer keys (IPv4,
 * IPv4-mapped IPv6 as IPv4, IPv6, uid), the per-peer connection table (limit per peer,
 * capacity, release, deletion inside a probe run), and the token-bucket rate limiter
 * (burst, refill, Retry-After, eviction of the client seen longest ago).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "lookupd/peer.h"
#include "lookupd/ratelimit.h"

static struct peer_key v4(const char *text)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct peer_key k;

    assert_int_equal(inet_pton(AF_INET, text, &sin.sin_addr), 1);
    assert_int_equal(peer_from_sockaddr(&k, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return k;
}

static struct peer_key v6(const char *text)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct peer_key k;

    assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
    assert_int_equal(peer_from_sockaddr(&k, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
    return k;
}

static void test_keys(void **state)
{
    struct peer_key a = v4("192.0.2.1"), b = v6("::ffff:192.0.2.1"), c = v6("2001:db8::1"), u;
    struct sockaddr sa = {.sa_family = AF_UNIX};
    char buf[64];

    (void)state;
    assert_memory_equal(&a, &b, sizeof(a)); /* mapped IPv4 is the same client */
    assert_memory_not_equal(&a, &c, sizeof(a));
    peer_format(&a, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.1");
    peer_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8::1");
    peer_from_uid(&u, 107);
    peer_format(&u, buf, sizeof(buf));
    assert_string_equal(buf, "uid 107");
    assert_int_equal(peer_from_sockaddr(&u, &sa, sizeof(sa)), -1);
}

static void test_table_limit(void **state)
{
    struct peertab *t = peertab_new(8);
    struct peer_key a = v4("127.0.0.2"), b = v4("127.0.0.3");

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(peertab_acquire(t, &a, 3), 1);
    assert_int_equal(peertab_acquire(t, &a, 3), 0); /* a's fourth is refused */
    assert_int_equal(peertab_acquire(t, &b, 3), 1); /* b is not a */
    assert_int_equal(peertab_count(t, &a), 3);
    assert_int_equal(peertab_peers(t), 2);
    peertab_release(t, &a);
    assert_int_equal(peertab_acquire(t, &a, 3), 1); /* room again */
    for (int i = 0; i < 3; i++)
        peertab_release(t, &a);
    peertab_release(t, &b);
    assert_int_equal(peertab_peers(t), 0);
    assert_int_equal(peertab_count(t, &a), 0);
    peertab_free(t);
}

/* many peers in a small table: capacity, then every one released finds its entry */
static void test_table_many(void **state)
{
    enum { N = 500 };
    struct peertab *t = peertab_new(N);
    struct peer_key k[N + 1];
    char ip[32];

    (void)state;
    for (int i = 0; i <= N; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
        k[i] = v4(ip);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(peertab_acquire(t, &k[i], 1), 1);
    assert_int_equal(peertab_acquire(t, &k[N], 1), 0); /* made for N connections */
    /* release every other one (holes in probe runs), then check the rest are still found */
    for (int i = 0; i < N; i += 2)
        peertab_release(t, &k[i]);
    for (int i = 1; i < N; i += 2)
        assert_int_equal(peertab_count(t, &k[i]), 1);
    for (int i = 0; i < N; i += 2)
        assert_int_equal(peertab_count(t, &k[i]), 0);
    for (int i = 1; i < N; i += 2)
        peertab_release(t, &k[i]);
    assert_int_equal(peertab_peers(t), 0);
    peertab_free(t);
}

/* random acquires and releases against a plain array of counts: the table never loses one */
static void test_table_model(void **state)
{
    enum { PEERS = 300, CONNS = 200, STEPS = 20000 };
    struct peertab *t = peertab_new(CONNS);
    struct peer_key k[PEERS];
    unsigned model[PEERS] = {0}, total = 0, seed = 12345;
    char ip[32];

    (void)state;
    for (int i = 0; i < PEERS; i++) {
        snprintf(ip, sizeof(ip), "10.9.%d.%d", i / 256, i % 256);
        k[i] = v4(ip);
    }
    for (int step = 0; step < STEPS; step++) {
        int i;
        seed = seed * 1103515245u + 12345u;
        i = (int)((seed >> 8) % PEERS);
        if ((seed >> 20) & 1) {
            size_t peers = 0;
            for (int j = 0; j < PEERS; j++)
                peers += model[j] > 0;
            int want = model[i] < 3 && (model[i] > 0 || peers < CONNS);
            assert_int_equal(peertab_acquire(t, &k[i], 3), want);
            model[i] += (unsigned)want;
            total += (unsigned)want;
        } else if (model[i] > 0) {
            peertab_release(t, &k[i]);
            model[i]--;
            total--;
        }
        if (step % 997 == 0)
            for (int j = 0; j < PEERS; j++)
                assert_int_equal(peertab_count(t, &k[j]), model[j]);
    }
    for (int j = 0; j < PEERS; j++)
        assert_int_equal(peertab_count(t, &k[j]), model[j]);
    (void)total;
    peertab_free(t);
}

static void test_rate_burst_refill(void **state)
{
    struct ratelimit *rl = ratelimit_new(64, 10, 20); /* 10/s, 20 saved */
    struct peer_key a = v4("127.0.0.2"), b = v4("127.0.0.3");
    unsigned retry;
    uint64_t t = 1000000;

    (void)state;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ratelimit_allow(rl, &a, t, &retry), 1);
        ratelimit_spend(rl, &a, t);
    }
    assert_int_equal(ratelimit_allow(rl, &a, t, &retry), 0);
    assert_int_equal(retry, 1);
    assert_int_equal(ratelimit_allow(rl, &b, t, &retry), 1); /* another client is not limited */
    assert_int_equal(ratelimit_allow(rl, &a, t + 50, &retry), 0);
    assert_int_equal(ratelimit_allow(rl, &a, t + 100, &retry), 1); /* one token in 100 ms */
    ratelimit_spend(rl, &a, t + 100);
    assert_int_equal(ratelimit_allow(rl, &a, t + 100, &retry), 0);
    /* a long pause refills to the burst, not beyond */
    t += 3600 * 1000;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ratelimit_allow(rl, &a, t, &retry), 1);
        ratelimit_spend(rl, &a, t);
    }
    assert_int_equal(ratelimit_allow(rl, &a, t, &retry), 0);
    ratelimit_free(rl);
}

/* a slow rate: Retry-After says the seconds until a token */
static void test_rate_retry_after(void **state)
{
    struct ratelimit *rl = ratelimit_new(4, 1, 1);
    struct peer_key a = v4("127.0.0.2");
    unsigned retry;

    (void)state;
    ratelimit_spend(rl, &a, 5000);
    assert_int_equal(ratelimit_allow(rl, &a, 5000, &retry), 0);
    assert_int_equal(retry, 1);
    assert_int_equal(ratelimit_allow(rl, &a, 6000, &retry), 1);
    ratelimit_free(rl);
}

/* the table stays bounded: more clients than slots evict the one seen longest ago */
static void test_rate_bounded(void **state)
{
    struct ratelimit *rl = ratelimit_new(RATELIMIT_WAYS, 1, 1); /* one set */
    struct peer_key k[RATELIMIT_WAYS + 1];
    char ip[32];
    unsigned retry;

    (void)state;
    for (int i = 0; i <= RATELIMIT_WAYS; i++) {
        snprintf(ip, sizeof(ip), "127.0.1.%d", i + 1);
        k[i] = v4(ip);
    }
    for (int i = 0; i < RATELIMIT_WAYS; i++)
        ratelimit_spend(rl, &k[i], 1000 + (uint64_t)i);
    for (int i = 0; i < RATELIMIT_WAYS; i++)
        assert_int_equal(ratelimit_allow(rl, &k[i], 1000 + RATELIMIT_WAYS, &retry), 0);
    /* a new client takes the slot of k[0], seen longest ago; k[0] then starts afresh */
    assert_int_equal(ratelimit_allow(rl, &k[RATELIMIT_WAYS], 1010, &retry), 1);
    assert_int_equal(ratelimit_allow(rl, &k[0], 1011, &retry), 1);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_table_limit),
        cmocka_unit_test(test_table_many),
        cmocka_unit_test(test_table_model),
        cmocka_unit_test(test_rate_burst_refill),
        cmocka_unit_test(test_rate_retry_after),
        cmocka_unit_test(test_rate_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
