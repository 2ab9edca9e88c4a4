/*
 * test_page - the status page's parts: the escaper against hostile strings, the verdict
 * rules, the SVG charts against golden files (tests/data/page/), the whole page with
 * hostile store text, and the answers-per-minute ring (stats_tick, stats_minutes).
 *
 * `test_page --demo` prints the page of the fixed night instead (page_fixture.h): the
 * source of docs/status-page.png.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "lookupd/page.h"
#include "lookupd/stats.h"
#include "lookupd/svg.h"
#include "tests/unit/page_fixture.h"

/* esc - svg_esc() of len bytes into a static buffer */
static const char *esc(const char *s, size_t len)
{
    static char *buf;
    static size_t cap;
    FILE *fp;

    free(buf);
    buf = NULL;
    fp = open_memstream(&buf, &cap);
    assert_non_null(fp);
    svg_esc(fp, s, len);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_escape(void **state)
{
    (void)state;
    assert_string_equal(ESC("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_string_equal(ESC("\" onload=\"x' y='z"), "&quot; onload=&quot;x&#39; y=&#39;z");
    assert_string_equal(ESC("a&amp;b"), "a&amp;amp;b");
    assert_string_equal(ESC("]]><![CDATA[<svg onload=1>"),
                        "]]&gt;&lt;![CDATA[&lt;svg onload=1&gt;");
    /* NUL, escape, DEL, carriage return: replaced; tab and newline kept */
    assert_string_equal(ESC("a\0b\x1b[31mc\x7f\r\n\td"),
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd[31mc\xef\xbf\xbd\xef\xbf\xbd\n\td");
    /* not UTF-8: a lone byte, a cut sequence, an over-long '/', a surrogate, beyond U+10FFFF */
    assert_string_equal(ESC("\xff"), "\xef\xbf\xbd");
    assert_string_equal(ESC("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(ESC("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(ESC("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(ESC("\xf4\x90\x80\x80"),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* an over-long '<' must not come back as '<' */
    assert_null(strchr(ESC("\xc0\xbcscript\xc0\xbe"), '<'));
    /* UTF-8 kept: é, €, U+1F600 */
    assert_string_equal(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_string_equal(ESC(""), "");
}

static void test_verdict(void **state)
{
    struct lk_status s;
    char r[2048];

    (void)state;
    page_fixture_fill(&s);
    assert_int_equal(status_verdict_of(&s, r, sizeof(r)), STATUS_HEALTHY);
    assert_non_null(strstr(r, "5 min ago"));
    snprintf(s.info.last_result, sizeof(s.info.last_result), "refused");
    snprintf(s.info.last_error, sizeof(s.info.last_error), "refused: too many removals");
    assert_int_equal(status_verdict_of(&s, r, sizeof(r)), STATUS_FAILED);
    assert_non_null(strstr(r, "was refused: refused: too many removals"));
    s.fresh = LOOKUP_STALE;
    assert_int_equal(status_verdict_of(&s, r, sizeof(r)), STATUS_STALE);
    assert_non_null(strstr(r, "more than max_age (1 h)"));
    s.fresh = LOOKUP_NEVER;
    assert_int_equal(status_verdict_of(&s, r, sizeof(r)), STATUS_STALE);
    assert_non_null(strstr(r, "no sync has succeeded yet"));
    s.fresh = LOOKUP_UNREADABLE;
    snprintf(s.store_error, sizeof(s.store_error), "not an rcptdir store");
    assert_int_equal(status_verdict_of(&s, r, sizeof(r)), STATUS_UNAVAILABLE);
    assert_string_equal(status_verdict_name(STATUS_UNAVAILABLE), "store unavailable");
    assert_non_null(strstr(r, "not an rcptdir store"));
    page_fixture_free(&s);
    status_age_text(r, sizeof(r), 59);
    assert_string_equal(r, "59 s");
    status_age_text(r, sizeof(r), 7260);
    assert_string_equal(r, "2 h 1 min");
    status_age_text(r, sizeof(r), 86400 * 2 + 3600);
    assert_string_equal(r, "2 d 1 h");
}

/* golden - compare text with tests/data/page/NAME (written when missing: then fail) */
static void golden(const char *name, const char *text, size_t len)
{
    const char *top = getenv("TOP");
    char path[4096], *ref;
    FILE *fp;
    long n;

    snprintf(path, sizeof(path), "%s/tests/data/page/%s", top != NULL && *top ? top : ".", name);
    if ((fp = fopen(path, "rb")) == NULL) {
        fp = fopen(path, "wb");
        if (fp == NULL || fwrite(text, 1, len, fp) != len || fclose(fp) != 0)
            fail_msg("%s is missing and cannot be written", path);
        fail_msg("%s was missing: written now; look at it and keep it, then run again", path);
    }
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    ref = malloc((size_t)n + 1);
    assert_non_null(ref);
    assert_int_equal(fread(ref, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    if ((size_t)n != len || memcmp(ref, text, len) != 0) {
        size_t i = 0;
        while (i < len && i < (size_t)n && ref[i] == text[i])
            i++;
        fail_msg("%s: the output (%zu bytes) differs from byte %zu on: %.60s", path, len, i,
                 text + i);
    }
    free(ref);
}

static void draw_syncs(FILE *fp, const struct lk_status *s)
{
    svg_syncs(fp, s->syncs, s->nsyncs);
}

static void draw_answers(FILE *fp, const struct lk_status *s)
{
    svg_answers(fp, s->minutes, s->nminutes);
}

/* fixture_chart - what draw writes for the fixed night, compared with its golden file;
 * returned for more checks (the caller frees it) */
static char *fixture_chart(const char *name, void (*draw)(FILE *, const struct lk_status *))
{
    struct lk_status s;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    assert_non_null(fp);
    page_fixture_fill(&s);
    draw(fp, &s);
    assert_int_equal(fclose(fp), 0);
    page_fixture_free(&s);
    golden(name, text, len);
    return text;
}

/* count - occurrences of needle in text */
static size_t count(const char *text, const char *needle)
{
    size_t n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_svg_syncs_golden(void **state)
{
    char *text = fixture_chart("syncs.svg", draw_syncs);

    (void)state;
    /* 48 bars: four refused and one failed, each with its tinted column */
    assert_int_equal(count(text, "<g class="), 48);
    assert_int_equal(count(text, "<g class=\"refused\">"), 4);
    assert_int_equal(count(text, "<g class=\"failed\">"), 1);
    assert_int_equal(count(text, "class=\"bad\""), 5);
    free(text);
}

static void test_svg_answers_golden(void **state)
{
    char *text = fixture_chart("answers.svg", draw_answers);

    (void)state;
    assert_non_null(strstr(text, "<polyline class=\"k-unknown\""));
    assert_non_null(strstr(text, ">03:00 </text>"));
    assert_null(strstr(text, "no answers counted yet"));
    assert_int_equal(count(text, "class=\"nodata\""), 1); /* the 4 h before the start */
    free(text);
}

static void test_svg_empty(void **state)
{
    struct stats_minute m[30] = {{0}};
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    (void)state;
    svg_syncs(fp, NULL, 0);
    svg_answers(fp, m, 30);
    assert_int_equal(fclose(fp), 0);
    assert_non_null(strstr(text, "no sync recorded yet"));
    assert_non_null(strstr(text, "no answers counted yet"));
    free(text);
}

/* the age gauge: green to half of max_age, amber to max_age, red beyond, capped */
static void test_svg_age(void **state)
{
    static const struct {
        long long age, max;
        const char *cls, *width;
    } cases[] = {
        {0, 3600, "age-ok", "width=\"2\""},       {1800, 3600, "age-ok", "width=\"40\""},
        {1801, 3600, "age-warn", "width=\"40\""}, {3600, 3600, "age-warn", "width=\"80\""},
        {3601, 3600, "age-bad", "width=\"80\""},  {99999, 3600, "age-bad", "width=\"160\""},
        {5, 0, "age-bad", "width=\"160\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = NULL, want[64];
        size_t len = 0;
        FILE *fp = open_memstream(&text, &len);
        svg_age(fp, cases[i].age, cases[i].max);
        assert_int_equal(fclose(fp), 0);
        snprintf(want, sizeof(want), "class=\"%s\" x=\"0\" y=\"0\" %s", cases[i].cls,
                 cases[i].width);
        if (strstr(text, want) == NULL)
            fail_msg("age %lld of %lld: no %s in %s", cases[i].age, cases[i].max, want, text);
        free(text);
    }
}

/* the whole page: hostile text from the store escaped everywhere, under 100 kB */
static void test_page_hostile(void **state)
{
    static const char evil[] = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    struct lk_status s;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    (void)state;
    page_fixture_fill(&s);
    snprintf(s.info.last_result, sizeof(s.info.last_result), "failed");
    snprintf(s.info.last_error, sizeof(s.info.last_error), "ldap: %s", evil);
    snprintf(s.info.source, sizeof(s.info.source), "%s", evil);
    snprintf(s.syncs[0].error, sizeof(s.syncs[0].error), "%s", evil);
    snprintf(s.domains[1], sizeof(s.domains[1]), "%s", evil);
    json_object_set_new(json_array_get(json_object_get(s.harvest, "offenders"), 0), "client",
                        json_string(evil));
    s.version = evil;
    s.verdict = status_verdict_of(&s, s.reason, sizeof(s.reason));
    page_render(fp, &s);
    assert_int_equal(fclose(fp), 0);
    assert_true(len < 100000);
    assert_null(strstr(text, "<script"));
    assert_null(strstr(text, "<img"));
    assert_null(strstr(text, "onerror=alert(2)>"));
    assert_non_null(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(text, "<h1 id=\"verdict\">last sync failed</h1>"));
    assert_non_null(strstr(text, "<pre id=\"last-error\">ldap: &lt;script&gt;"));
    /* the stylesheet is the one the CSP names by hash */
    assert_non_null(strstr(page_csp(), "default-src 'none'; style-src 'sha256-"));
    assert_non_null(strstr(text, "<meta http-equiv=\"refresh\" content=\"30\">"));
    free(text);
    page_fixture_free(&s);
}

/* answers per minute: a minute closes on the first tick after it; the ring keeps 24 h */
static void test_minutes(void **state)
{
    struct lk_stats *a = stats_new(), *b = stats_new();
    static struct stats_minute m[STATS_MINUTES];
    time_t t0 = 1796630400; /* a minute boundary */

    (void)state;
    stats_tick(t0);
    for (int i = 0; i < 3; i++)
        stats_lookup(a, STATS_RCPT, LOOKUP_VALID, 20000); /* 20 us: the 25 us bucket */
    stats_lookup(b, STATS_HTTP, LOOKUP_UNKNOWN, 20000);
    stats_lookup(b, STATS_POLICY, LOOKUP_UNKNOWN, 3000000); /* 3 ms: the 5 ms bucket */
    stats_lookup(a, STATS_RCPT, LOOKUP_TEMPFAIL, 20000);
    stats_lookup(a, STATS_RCPT, LOOKUP_FOREIGN, 20000); /* not a kind on the page */
    stats_tick(t0 + 30);                                /* same minute: nothing closes */
    assert_int_equal(stats_minutes(m, 2, t0 + 30), 2);
    assert_false(m[1].known);
    stats_tick(t0 + 61);
    stats_lookup(a, STATS_RCPT, LOOKUP_DISABLED, 20000);
    assert_int_equal(stats_minutes(m, 2, t0 + 65), 2);
    assert_true(m[1].known && m[1].minute == (uint64_t)t0 / 60);
    assert_int_equal(m[1].n[STATS_K_VALID], 3);
    assert_int_equal(m[1].n[STATS_K_UNKNOWN], 2);
    assert_int_equal(m[1].n[STATS_K_DISABLED], 0);
    assert_int_equal(m[1].n[STATS_K_TEMPFAIL], 1);
    assert_int_equal(m[1].p50_us, 25);
    assert_int_equal(m[1].p99_us, 5000);
    assert_false(m[0].known);
    /* a day and a half of minutes: the ring keeps the last 24 h, oldest first */
    for (time_t t = t0 + 120; t <= t0 + 60 * 2160; t += 60)
        stats_tick(t);
    assert_int_equal(stats_minutes(m, STATS_MINUTES, t0 + 60 * 2160 + 1), STATS_MINUTES);
    for (size_t i = 0; i < STATS_MINUTES; i++) {
        assert_true(m[i].known);
        assert_true(m[i].minute == (uint64_t)(t0 / 60 + 2160 - STATS_MINUTES + i));
    }
    assert_int_equal(m[0].n[STATS_K_DISABLED], 0);
    stats_free_all();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),           cmocka_unit_test(test_verdict),
        cmocka_unit_test(test_svg_syncs_golden), cmocka_unit_test(test_svg_answers_golden),
        cmocka_unit_test(test_svg_empty),        cmocka_unit_test(test_svg_age),
        cmocka_unit_test(test_page_hostile),     cmocka_unit_test(test_minutes),
    };

    if (argc > 1 && strcmp(argv[1], "--demo") == 0) {
        struct lk_status s;
        page_fixture_fill(&s);
        page_render(stdout, &s);
        page_fixture_free(&s);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    return cmocka_run_group_tests_name("page", tests, NULL, NULL);
}
