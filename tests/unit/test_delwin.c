/*
 * test_delwin - the sliding delete window's buckets (syncd/delwin.h), at times the tests
 * choose:
 *   - a removal counts for at least delete_window seconds and at most one bucket's span more,
 *     whatever its place in its bucket;
 *   - removals leave bucket by bucket, and at most DELWIN_MAX buckets are kept;
 *   - the base: the oldest bucket's, or the new sync's count when larger;
 *   - the text form: round trip, the previous release's "START BASE REMOVED", values that
 *     are not windows, the length bound (oldest buckets merged, counts kept);
 *   - a window made shorter or longer between syncs; sums that saturate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "syncd/delwin.h"

#define HOUR 3600
#define T0   1800000000ULL /* a multiple of 225 s, the span of an hour */

/* counted - 1 when a removal at t still counts at now */
static int counted(uint64_t window, uint64_t t, uint64_t now)
{
    struct delwin w = {.n = 0};

    delwin_add(&w, window, t, 1, 100);
    delwin_expire(&w, window, now);
    return delwin_removed(&w) == 1;
}

/* roundtrip - w through its text form; returns the text */
static const char *roundtrip(const struct delwin *w, uint64_t window)
{
    static char buf[DELWIN_TEXT];
    struct delwin back;

    assert_int_equal(delwin_format(w, buf, sizeof(buf)), 0);
    assert_true(strlen(buf) < DELWIN_TEXT);
    assert_int_equal(delwin_parse(&back, buf, window), 0);
    assert_int_equal(back.n, w->n);
    assert_memory_equal(back.b, w->b, w->n * sizeof(w->b[0]));
    return buf;
}

static void test_span(void **state)
{
    (void)state;
    assert_int_equal(DELWIN_SPAN(HOUR), 225);
    assert_int_equal(DELWIN_SPAN(1), 1);
    assert_int_equal(DELWIN_SPAN(15), 1);
    assert_int_equal(DELWIN_SPAN(17), 2);
    assert_int_equal(DELWIN_SPAN(31536000), 1971000);
}

/* the boundary: at least window seconds, less than window + span, for every offset */
static void test_boundary(void **state)
{
    const uint64_t windows[] = {1, 7, 16, 100, HOUR, 86400};

    (void)state;
    for (size_t k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
        uint64_t win = windows[k], span = DELWIN_SPAN(win);
        for (uint64_t off = 0; off < span + 3; off++) {
            uint64_t t = T0 + off;
            assert_true(counted(win, t, t));
            assert_true(counted(win, t, t + win - 1));
            assert_false(counted(win, t, t + win + span));
        }
    }
    /* the bucket [T0, T0 + 225) ends at T0 + 225: it counts until T0 + 225 + 3600 */
    assert_true(counted(HOUR, T0 + 10, T0 + 225 + HOUR - 1));
    assert_false(counted(HOUR, T0 + 10, T0 + 225 + HOUR));
    assert_false(counted(HOUR, T0 + 224, T0 + 225 + HOUR));
}

/* one removal a span for two windows: at most 17 buckets, the oldest leaving one by one */
static void test_slides(void **state)
{
    struct delwin w = {.n = 0};
    uint64_t now = T0;

    (void)state;
    for (unsigned k = 0; k < 2 * DELWIN_BUCKETS; k++, now += 225) {
        delwin_expire(&w, HOUR, now);
        delwin_add(&w, HOUR, now, k + 1, 1000 - k);
        assert_true(w.n <= DELWIN_MAX);
        if (k >= DELWIN_BUCKETS) {
            /* removals k-16 .. k count: 17 buckets, the base is the one k-16 found */
            assert_int_equal(w.n, DELWIN_MAX);
            assert_int_equal(delwin_removed(&w), 17 * (k + 1) - 136);
            assert_int_equal(delwin_base(&w, 0), 1000 - (k - 16));
        }
    }
    /* a quiet spell: they leave one bucket at a time, not all at once */
    for (size_t left = DELWIN_MAX - 1;; left--, now += 225) {
        delwin_expire(&w, HOUR, now);
        assert_int_equal(w.n, left);
        if (left == 0)
            break;
    }
    assert_int_equal(delwin_removed(&w), 0);
}

/* syncs within one span share its bucket; a new span opens a new one */
static void test_add(void **state)
{
    struct delwin w = {.n = 0};

    (void)state;
    delwin_add(&w, HOUR, T0 + 5, 2, 100);
    delwin_add(&w, HOUR, T0 + 200, 3, 98);
    delwin_add(&w, HOUR, T0 + 224, 0, 95); /* removes nothing: no change */
    assert_int_equal(w.n, 1);
    assert_int_equal(w.b[0].end, T0 + 225);
    assert_int_equal(w.b[0].base, 100);
    assert_int_equal(w.b[0].removed, 5);
    delwin_add(&w, HOUR, T0 + 225, 1, 95);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.b[1].end, T0 + 450);
    assert_int_equal(w.b[1].base, 95);
    assert_int_equal(delwin_removed(&w), 6);
    assert_string_equal(roundtrip(&w, HOUR), "v2 1800000225 100 5 1800000450 95 1");
}

/* the base: deletes cannot lower it, adds can raise it */
static void test_base(void **state)
{
    struct delwin w = {.n = 0};

    (void)state;
    assert_int_equal(delwin_base(&w, 50), 50); /* empty: the sync's own count */
    delwin_add(&w, HOUR, T0, 10, 100);
    delwin_add(&w, HOUR, T0 + 300, 5, 90);
    assert_int_equal(delwin_base(&w, 85), 100);  /* removals do not shrink it */
    assert_int_equal(delwin_base(&w, 500), 500); /* adds since raise it */
    delwin_expire(&w, HOUR, T0 + 225 + HOUR);    /* the first bucket left */
    assert_int_equal(w.n, 1);
    assert_int_equal(delwin_base(&w, 85), 90);
}

/* the window made shorter or longer between syncs: buckets keep their ends, at most 17 */
static void test_window_changed(void **state)
{
    struct delwin w = {.n = 0};
    uint64_t now = T0;

    (void)state;
    for (unsigned k = 0; k < 10; k++, now += 225)
        delwin_add(&w, HOUR, now, 1, 100);
    /* a 160 s window: spans of 10 s; the hour's buckets that end in the future stay */
    for (unsigned k = 0; k < 40; k++, now += 10) {
        delwin_expire(&w, 160, now);
        delwin_add(&w, 160, now, 1, 100);
        assert_true(w.n <= DELWIN_MAX);
        for (size_t i = 1; i < w.n; i++)
            assert_true(w.b[i - 1].end < w.b[i].end);
    }
    delwin_expire(&w, 160, now);
    assert_true(delwin_removed(&w) >= 16); /* the last 160 s */
    /* back to an hour: a span-aligned end between two stored ones */
    w.n = 0;
    delwin_add(&w, 10, T0 + 1, 1, 100);
    delwin_add(&w, 10, T0 + 1000, 1, 100);
    delwin_add(&w, HOUR, T0 + 2, 1, 100); /* ends at T0 + 225: between them */
    assert_int_equal(w.n, 3);
    assert_int_equal(w.b[1].end, T0 + 225);
    /* all 17 taken: the two oldest become one, nothing is lost */
    w.n = 0;
    for (unsigned k = 0; k < DELWIN_MAX; k++)
        delwin_add(&w, 10, T0 + 10 * k, k + 1, 200 - k);
    delwin_add(&w, HOUR, T0 + 5, 1000, 0); /* ends at T0 + 225, after the 17 */
    assert_int_equal(w.n, DELWIN_MAX);
    assert_int_equal(w.b[0].end, T0 + 11);
    assert_int_equal(w.b[0].base, 200);
    assert_int_equal(w.b[0].removed, 3);
    assert_int_equal(delwin_removed(&w), 153 + 1000);
    assert_int_equal(w.b[DELWIN_MAX - 1].end, T0 + 225);
}

/* the clock went back: buckets from later become the bucket now is in, their removals kept */
static void test_clock_back(void **state)
{
    struct delwin w = {.n = 0};
    uint64_t span = DELWIN_SPAN(HOUR);

    (void)state;
    delwin_add(&w, HOUR, T0 + 2 * HOUR, 1, 100);
    delwin_add(&w, HOUR, T0 + 2 * HOUR + 600, 2, 100);
    assert_int_equal(w.n, 2);
    delwin_expire(&w, HOUR, T0);
    assert_int_equal(w.n, 1); /* both from later: one bucket, the one T0 is in */
    assert_int_equal(w.b[0].end, (T0 / span + 1) * span);
    assert_int_equal(w.b[0].base, 100);
    assert_int_equal(delwin_removed(&w), 3);
    delwin_expire(&w, HOUR, T0 + HOUR - 1); /* still counted a window after T0 */
    assert_int_equal(delwin_removed(&w), 3);
    delwin_expire(&w, HOUR, T0 + HOUR + span);
    assert_int_equal(w.n, 0);
}

/* the previous release's fixed window: one bucket ending at its end */
static void test_old_format(void **state)
{
    struct delwin w;

    (void)state;
    assert_int_equal(delwin_parse(&w, "1800000000 11 2", HOUR), 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.b[0].end, T0 + HOUR);
    assert_int_equal(w.b[0].base, 11);
    assert_int_equal(w.b[0].removed, 2);
    delwin_expire(&w, HOUR, T0 + 2 * HOUR - 1);
    assert_int_equal(w.n, 1);
    delwin_expire(&w, HOUR, T0 + 2 * HOUR);
    assert_int_equal(w.n, 0);
    assert_int_equal(delwin_parse(&w, " 1 8 100 ", 60), 0);
    assert_int_equal(w.b[0].end, 61);
    /* empty values are empty windows */
    assert_int_equal(delwin_parse(&w, "", HOUR), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(delwin_parse(&w, NULL, HOUR), 0);
    assert_int_equal(delwin_parse(&w, "v2", HOUR), 0);
    assert_int_equal(w.n, 0);
}

/* values that are not windows: -1 and an empty window */
static void test_junk(void **state)
{
    const char *junk[] = {
        "junk",
        "v2 1 2",
        "v2 x 1 1",
        "v2 1 1 1x",
        "v2 5 1 1 5 1 1", /* ends not increasing */
        "v2 6 1 1 5 1 1",
        "v2 0 1 1",
        "v3 1 1 1",
        "v21 1 1",
        "1 2",
        "1 2 3 4",
        "-1 2 3",
        "+1 2 3",
        "1\t2 3",
        "18446744073709551616 1 1", /* 2^64 */
        "v2 1 18446744073709551616 1",
        "18446744073709551615 1 1", /* START + window overflows */
        "1 2 3\n",
    };
    char many[1024];
    size_t len = (size_t)snprintf(many, sizeof(many), "v2");
    struct delwin w;

    (void)state;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        w.n = 5;
        assert_int_equal(delwin_parse(&w, junk[i], HOUR), -1);
        assert_int_equal(w.n, 0);
    }
    for (unsigned i = 0; i < DELWIN_MAX; i++)
        len += (size_t)snprintf(many + len, sizeof(many) - len, " %u 1 1", i + 1);
    assert_int_equal(delwin_parse(&w, many, HOUR), 0);
    assert_int_equal(w.n, DELWIN_MAX);
    snprintf(many + len, sizeof(many) - len, " 99 1 1"); /* one bucket too many */
    assert_int_equal(delwin_parse(&w, many, HOUR), -1);
    assert_int_equal(w.n, 0);
    /* the largest numbers are numbers */
    assert_int_equal(delwin_parse(&w, "v2 18446744073709551615 18446744073709551615 1", HOUR), 0);
}

/* the text stays within DELWIN_TEXT: the oldest buckets are merged, the sums kept */
static void test_length(void **state)
{
    struct delwin w = {.n = 0}, back;
    char buf[DELWIN_TEXT], small[DELWIN_TEXT - 1];

    (void)state;
    assert_int_equal(delwin_format(&w, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    for (unsigned k = 0; k < DELWIN_MAX; k++)
        w.b[w.n++] = (struct delwin_bucket){10000000000ULL + k, UINT64_MAX - k, UINT64_MAX / 32};
    assert_int_equal(delwin_format(&w, small, sizeof(small)), -1);
    assert_int_equal(delwin_format(&w, buf, sizeof(buf)), 0);
    assert_true(strlen(buf) < DELWIN_TEXT);
    assert_int_equal(delwin_parse(&back, buf, HOUR), 0);
    assert_true(back.n < DELWIN_MAX);
    assert_int_equal(back.b[0].base, UINT64_MAX); /* the oldest one's */
    assert_int_equal(back.b[back.n - 1].end, 10000000016ULL);
    assert_int_equal(delwin_removed(&back), delwin_removed(&w));
    /* 100 million addresses: all 17 buckets fit */
    w.n = 0;
    for (unsigned k = 0; k < DELWIN_MAX; k++)
        w.b[w.n++] = (struct delwin_bucket){T0 + 225 * k, 99999999, 9999999};
    assert_true(strlen(roundtrip(&w, HOUR)) < DELWIN_TEXT);
    /* sums saturate */
    w.n = 0;
    delwin_add(&w, HOUR, T0, UINT64_MAX - 1, 5);
    delwin_add(&w, HOUR, T0, 5, 5);
    assert_int_equal(w.b[0].removed, UINT64_MAX);
    delwin_add(&w, HOUR, T0 + 300, 5, 5);
    assert_int_equal(delwin_removed(&w), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span),       cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_slides),     cmocka_unit_test(test_add),
        cmocka_unit_test(test_base),       cmocka_unit_test(test_window_changed),
        cmocka_unit_test(test_clock_back), cmocka_unit_test(test_old_format),
        cmocka_unit_test(test_junk),       cmocka_unit_test(test_length),
    };

    return cmocka_run_group_tests_name("delwin", tests, NULL, NULL);
}
