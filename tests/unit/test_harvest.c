/*
 * test_harvest - the harvest defence's table (lookupd/harvest.c) on a fake clock, and the
 * address helpers under it (common/cidr.c): threshold and penalty, the sliding window, a
 * penalty ending, IPv4 /24 and IPv6 /64 prefixes counted together, prefix counting off,
 * exempt networks, the table capped under a spray of a million IPv6 addresses with a running
 * penalty kept, idle entries reused, and the offenders list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/cidr.h"
#include "lookupd/harvest.h"

/* addr - parse or fail the test */
static struct cidr_addr addr(const char *s)
{
    struct cidr_addr a;

    assert_int_equal(cidr_addr_parse(s, strlen(s), &a), 0);
    return a;
}

static struct harvest_params params(void)
{
    struct harvest_params p = {.threshold = 5,
                               .prefix_threshold = 20,
                               .window = 800,
                               .penalty = 300,
                               .max_entries = 1000,
                               .prefix4 = 24,
                               .prefix6 = 64};
    return p;
}

/* unknowns - n unknown recipients from s at now; returns the last one's result */
static int unknowns(struct harvest *h, const char *s, int n, int64_t now, struct harvest_verdict *v)
{
    struct cidr_addr a = addr(s);
    int rc = 0;

    for (int i = 0; i < n; i++)
        rc = harvest_unknown(h, &a, now, v);
    return rc;
}

/* unknowns_from - each unknowns(h, ip, per, now) for ip in ips[0..n); the last's result */
static int unknowns_from(struct harvest *h, char (*ips)[64], int n, int per, int64_t now,
                         struct harvest_verdict *v)
{
    int rc = 0;

    for (int i = 0; i < n; i++)
        rc = unknowns(h, ips[i], per, now, v);
    return rc;
}

/* clients - unknowns_from() the addresses FMT % i for i in [from, from + n), n <= 128 */
#define clients(h, fmt, from, n, per, now, v)                                                      \
    __extension__({                                                                                \
        static char ips_[128][64];                                                                 \
        for (int i_ = 0; i_ < (n); i_++)                                                           \
            snprintf(ips_[i_], sizeof(ips_[i_]), fmt, (from) + i_);                                \
        unknowns_from(h, ips_, n, per, now, v);                                                    \
    })

/* penalised - harvest_check() for s at now */
static int penalised(struct harvest *h, const char *s, int64_t now)
{
    struct cidr_addr a = addr(s);
    struct harvest_verdict v;

    return harvest_check(h, &a, now, &v);
}

static void test_cidr(void **state)
{
    static const char *const bad[] = {
        "",         "192.0.2",   "192.0.2.256", "::1::",       "1.2.3.4/33", "2001:db8::/129",
        "1.2.3.4/", "1.2.3.4/x", "[::1]",       "fe80::1%eth0"};
    struct cidr_addr a, b;
    struct cidr_net n;
    char buf[CIDR_TEXT_MAX], err[128];

    (void)state;
    a = addr("192.0.2.7");
    assert_true(cidr_is_v4(&a));
    b = addr("::ffff:192.0.2.7"); /* a dual-stack socket's IPv4 peer is the same client */
    assert_memory_equal(a.b, b.b, 16);
    cidr_format(&a, 128, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.7");
    cidr_mask(&a, 96 + 24, &b);
    cidr_format(&b, 96 + 24, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.0/24");
    a = addr("2001:db8:1:2:3:4:5:6");
    assert_false(cidr_is_v4(&a));
    cidr_mask(&a, 64, &b);
    cidr_format(&b, 64, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8:1:2::/64");

    assert_int_equal(cidr_net_parse("127.0.0.0/8", &n), 0);
    assert_int_equal(n.plen, 104);
    a = addr("127.1.2.3");
    assert_true(cidr_match(&n, &a));
    a = addr("128.0.0.1");
    assert_false(cidr_match(&n, &a));
    assert_int_equal(cidr_net_parse("::1", &n), 0);
    a = addr("::1");
    assert_true(cidr_match(&n, &a));
    a = addr("::2");
    assert_false(cidr_match(&n, &a));
    assert_int_equal(cidr_net_parse("10.1.2.3", &n), 0); /* a host */
    assert_int_equal(n.plen, 128);
    assert_int_equal(cidr_net_parse("0.0.0.0/0", &n), 0);
    a = addr("2001:db8::1");
    assert_false(cidr_match(&n, &a)); /* all of IPv4, not IPv6 */
    assert_int_equal(cidr_net_parse("2001:db8::/32", &n), 0);
    assert_true(cidr_match(&n, &a));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cidr_net_parse(bad[i], &n), -1);
        assert_int_equal(cidr_check(bad[i], err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not an IP address or network"));
    }
    assert_int_equal(cidr_check("192.0.2.0/24", err, sizeof(err)), 0);
}

/* Over the threshold: penalised for every recipient, until the penalty ends. */
static void test_threshold_and_penalty(void **state)
{
    struct harvest_params p = params();
    struct harvest *h = harvest_new(&p, 42);
    struct harvest_verdict v;
    char buf[CIDR_TEXT_MAX];

    (void)state;
    assert_int_equal(unknowns(h, "192.0.2.7", 5, 1000, &v), 0); /* at the threshold: fine */
    assert_int_equal(v.count, 5);
    assert_false(penalised(h, "192.0.2.7", 1000));
    assert_int_equal(unknowns(h, "192.0.2.7", 1, 1001, &v), 1); /* over it */
    assert_true(v.newly);
    assert_false(v.prefix);
    assert_int_equal(v.count, 6);
    assert_int_equal(v.until, 1301);
    cidr_format(&v.who, v.plen, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.7");
    /* refused while it lasts; the next unknown does not start it again */
    assert_true(penalised(h, "192.0.2.7", 1001));
    assert_true(penalised(h, "192.0.2.7", 1300));
    assert_int_equal(unknowns(h, "192.0.2.7", 1, 1002, &v), 1);
    assert_false(v.newly);
    assert_int_equal(v.until, 1301);
    /* a neighbour in the /24 is not (20 per prefix) */
    assert_false(penalised(h, "192.0.2.8", 1100));
    /* over: its next unknown, still in the window, starts a new penalty at once */
    assert_false(penalised(h, "192.0.2.7", 1301));
    assert_int_equal(unknowns(h, "192.0.2.7", 1, 1400, &v), 1);
    assert_true(v.newly);
    assert_int_equal(v.until, 1700);
    harvest_free(h);
}

/* The window slides: unknowns older than the window stop counting. */
static void test_window_slides(void **state)
{
    struct harvest_params p = params(); /* window 800 s: eight slots of 100 s */
    struct harvest *h = harvest_new(&p, 1);
    struct harvest_verdict v;

    (void)state;
    /* one unknown every 200 s: never more than 4 in any 800 s */
    for (int64_t t = 0; t < 20000; t += 200)
        assert_int_equal(unknowns(h, "198.51.100.1", 1, t, &v), 0);
    assert_true(v.count <= 5);
    /* 5 now, then 5 more after the first five left the window: no penalty */
    assert_int_equal(unknowns(h, "198.51.100.2", 5, 30000, &v), 0);
    assert_int_equal(unknowns(h, "198.51.100.2", 5, 30000 + 800, &v), 0);
    assert_int_equal(v.count, 5);
    /* 5 more within the window of the second five: over */
    assert_int_equal(unknowns(h, "198.51.100.2", 1, 30000 + 1400, &v), 1);
    assert_int_equal(v.count, 6);
    /* a burst spread over a session or ten: the same count */
    for (int s = 0; s < 10; s++)
        unknowns(h, "203.0.113.9", 1, 40000 + s * 30, &v);
    assert_true(v.penalised);
    assert_int_equal(v.count, 10);
    harvest_free(h);
}

/* Addresses of one IPv4 /24 or one IPv6 /64 are counted together too. */
static void test_prefixes(void **state)
{
    struct harvest_params p = params();
    struct harvest *h = harvest_new(&p, 7);
    struct harvest_verdict v;
    char ip[64], buf[CIDR_TEXT_MAX];

    (void)state;
    /* 21 IPv6 addresses of one /64, one unknown each: the /64 is over 20 */
    for (int i = 1; i <= 21; i++) {
        snprintf(ip, sizeof(ip), "2001:db8:0:7::%x", i * 977);
        assert_int_equal(unknowns(h, ip, 1, 500, &v), i == 21);
    }
    assert_true(v.prefix);
    assert_true(v.newly);
    assert_int_equal(v.count, 21);
    cidr_format(&v.who, v.plen, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8:0:7::/64");
    /* any address of the /64 is refused, also one never seen; the next /64 is not */
    assert_true(penalised(h, "2001:db8:0:7:ffff:1:2:3", 501));
    assert_false(penalised(h, "2001:db8:0:8::1", 501));
    /* IPv4: 21 addresses of one /24 */
    assert_int_equal(clients(h, "203.0.113.%d", 1, 21, 1, 600, &v), 1);
    cidr_format(&v.who, v.plen, buf, sizeof(buf));
    assert_string_equal(buf, "203.0.113.0/24");
    assert_true(penalised(h, "203.0.113.250", 601));
    assert_false(penalised(h, "203.0.114.1", 601));
    harvest_free(h);

    /* prefix counting off: the same spray penalises nobody */
    p.prefix_threshold = 0;
    h = harvest_new(&p, 7);
    for (int i = 1; i <= 100; i++) {
        snprintf(ip, sizeof(ip), "2001:db8:0:7::%x", i);
        assert_int_equal(unknowns(h, ip, 1, 500, &v), 0);
    }
    harvest_free(h);
    /* other prefix lengths: /48 and /16 */
    p = params();
    p.prefix4 = 16;
    p.prefix6 = 48;
    h = harvest_new(&p, 7);
    clients(h, "2001:db8:0:%x::1", 1, 21, 1, 500, &v);
    cidr_format(&v.who, v.plen, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8::/48");
    clients(h, "10.9.%d.1", 1, 21, 1, 500, &v);
    cidr_format(&v.who, v.plen, buf, sizeof(buf));
    assert_string_equal(buf, "10.9.0.0/16");
    harvest_free(h);
}

static void test_exempt(void **state)
{
    struct cidr_net nets[2];
    struct harvest_params p = params();
    struct harvest *h;
    struct cidr_addr a;

    (void)state;
    assert_int_equal(cidr_net_parse("127.0.0.0/8", &nets[0]), 0);
    assert_int_equal(cidr_net_parse("2001:db8:feed::/48", &nets[1]), 0);
    p.exempt = nets;
    p.nexempt = 2;
    h = harvest_new(&p, 3);
    memset(nets, 0, sizeof(nets)); /* harvest keeps its own copy */
    a = addr("127.0.0.1");
    assert_true(harvest_exempt(h, &a));
    a = addr("::ffff:127.0.0.2");
    assert_true(harvest_exempt(h, &a));
    a = addr("2001:db8:feed:1::9");
    assert_true(harvest_exempt(h, &a));
    a = addr("2001:db8:fee0::9");
    assert_false(harvest_exempt(h, &a));
    a = addr("192.0.2.1");
    assert_false(harvest_exempt(h, &a));
    harvest_free(h);
}

/* A million IPv6 addresses, each from its own /64: the table stays at its cap, and a penalty
 * that started before the spray survives it. */
static void test_spray_capped(void **state)
{
    struct harvest_params p = params();
    struct harvest *h;
    struct harvest_verdict v;
    struct harvest_info info[4];
    struct cidr_addr a = addr("2001:db8::");
    size_t tracked, pen;

    (void)state;
    p.max_entries = 1000;
    h = harvest_new(&p, 99);
    unknowns(h, "192.0.2.66", 6, 10, &v);
    assert_true(v.penalised);
    for (uint32_t i = 0; i < 1000000; i++) {
        a.b[4] = (uint8_t)(i >> 24);
        a.b[5] = (uint8_t)(i >> 16);
        a.b[6] = (uint8_t)(i >> 8);
        a.b[7] = (uint8_t)i;
        a.b[15] = 1;
        harvest_unknown(h, &a, 20, &v);
    }
    harvest_counts(h, 20, &tracked, &pen);
    assert_int_equal(tracked, 1000);
    assert_int_equal(pen, 1);
    assert_true(harvest_evictions(h) >= 1999000 - 1000);
    assert_true(penalised(h, "192.0.2.66", 20));
    assert_int_equal(harvest_list(h, 20, info, 4), 1);
    harvest_free(h);
}

/* Entries that count nothing any more are reused before anything is evicted. */
static void test_idle_reused(void **state)
{
    struct harvest_params p = params();
    struct harvest *h;
    struct harvest_verdict v;
    size_t tracked, pen;

    (void)state;
    p.max_entries = 16;
    p.prefix_threshold = 0;
    h = harvest_new(&p, 5);
    clients(h, "10.0.0.%d", 0, 16, 1, 100, &v);
    harvest_counts(h, 100, &tracked, &pen);
    assert_int_equal(tracked, 16);
    /* a window later they count nothing: new clients take their places without evictions */
    clients(h, "10.0.1.%d", 0, 16, 1, 2000, &v);
    assert_int_equal(harvest_evictions(h), 0);
    harvest_counts(h, 2000, &tracked, &pen);
    assert_int_equal(tracked, 16);
    /* a full table of live entries: the oldest goes */
    unknowns(h, "10.0.2.1", 1, 2001, &v);
    assert_int_equal(harvest_evictions(h), 1);
    harvest_free(h);
}

/* Penalised entries pass over the eviction; when the table is all penalties, the oldest
 * penalty goes. */
static void test_eviction_spares_penalties(void **state)
{
    struct harvest_params p = params();
    struct harvest *h;
    struct harvest_verdict v;
    size_t tracked, pen;

    (void)state;
    p.max_entries = 16;
    p.prefix_threshold = 0;
    p.threshold = 1;
    h = harvest_new(&p, 5);
    clients(h, "10.0.0.%d", 0, 8, 2, 100, &v); /* 8 penalised, the oldest entries */
    harvest_counts(h, 100, &tracked, &pen);
    assert_int_equal(pen, 8);
    clients(h, "10.1.%d.1", 0, 100, 1, 110, &v); /* a spray of one unknown each */
    harvest_counts(h, 110, &tracked, &pen);
    assert_int_equal(tracked, 16);
    assert_int_equal(pen, 8);
    assert_true(penalised(h, "10.0.0.0", 110));
    /* all penalties: the oldest goes */
    clients(h, "10.2.%d.1", 0, 16, 2, 120, &v);
    harvest_counts(h, 120, &tracked, &pen);
    assert_int_equal(tracked, 16);
    assert_int_equal(pen, 16);
    assert_false(penalised(h, "10.0.0.0", 120));
    harvest_free(h);
}

static void test_list(void **state)
{
    struct harvest_params p = params();
    struct harvest *h;
    struct harvest_verdict v;
    struct harvest_info info[2];
    char buf[CIDR_TEXT_MAX];

    (void)state;
    p.prefix_threshold = 0;
    h = harvest_new(&p, 11);
    unknowns(h, "192.0.2.1", 6, 100, &v);
    unknowns(h, "192.0.2.3", 8, 150, &v);
    unknowns(h, "192.0.2.4", 2, 150, &v); /* not penalised */
    unknowns(h, "192.0.2.2", 7, 200, &v);
    assert_int_equal(harvest_list(h, 210, info, 2), 2);
    cidr_format(&info[0].who, info[0].plen, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.2"); /* the longest penalty first */
    assert_int_equal(info[0].until, 500);
    assert_int_equal(info[0].count, 7);
    cidr_format(&info[1].who, info[1].plen, buf, sizeof(buf));
    assert_string_equal(buf, "192.0.2.3");
    assert_int_equal(harvest_list(h, 420, info, 2), 2); /* 192.0.2.1 ended at 400 */
    assert_int_equal(harvest_list(h, 460, info, 2), 1);
    harvest_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr),          cmocka_unit_test(test_threshold_and_penalty),
        cmocka_unit_test(test_window_slides), cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_exempt),        cmocka_unit_test(test_spray_capped),
        cmocka_unit_test(test_idle_reused),   cmocka_unit_test(test_eviction_spares_penalties),
        cmocka_unit_test(test_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
