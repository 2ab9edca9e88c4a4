/*
 * test_httpneg - the Accept-Encoding and If-None-Match parsers the feed routes negotiate with
 * (lookupd/httpneg.h): weights, x-gzip, "*", identity preferred, malformed elements ignored,
 * several fields as one list; entity-tag lists, W/, "*", malformed lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lookupd/httpneg.h"

/* gzip_for - httpneg_accept_gzip() after the fields (NULL-terminated; none: no field) */
static int gzip_for(const char *const *fields)
{
    struct httpneg_accept a;

    httpneg_accept_init(&a);
    for (size_t i = 0; fields[i] != NULL; i++)
        httpneg_accept_parse(&a, fields[i]);
    return httpneg_accept_gzip(&a);
}

static void test_accept(void **state)
{
    static const struct {
        const char *fields[3];
        int gzip;
    } cases[] = {
        {{NULL}, 0},                             /* no field: identity */
        {{"", NULL}, 0},                         /* empty: identity only */
        {{"gzip", NULL}, 1},                     /* */
        {{"GZip", NULL}, 1},                     /* any case */
        {{"deflate, gzip, br, zstd", NULL}, 1},  /* libcurl's */
        {{"gzip;q=0", NULL}, 0},                 /* refused */
        {{"gzip ; Q=0.000", NULL}, 0},           /* refused, spaces, upper-case q */
        {{"x-gzip", NULL}, 1},                   /* the old name */
        {{"*", NULL}, 1},                        /* any coding */
        {{"*;q=0", NULL}, 0},                    /* none but identity */
        {{"gzip;q=0.5, identity;q=1", NULL}, 0}, /* identity preferred */
        {{"gzip;q=1, identity;q=0.5", NULL}, 1}, /* gzip preferred */
        {{"gzip;q=0.5, *;q=0.9", NULL}, 0},      /* "*" stands for identity */
        {{"gzip;q=2", NULL}, 0},                 /* bad qvalue: element ignored */
        {{"gzip;q=0.1234", NULL}, 0},            /* too many digits */
        {{"gzip;level=\"a,b\";q=1", NULL}, 1},   /* quoted parameter */
        {{"gzip;=1", NULL}, 0},                  /* bad parameter */
        {{"br", "gzip", NULL}, 1},               /* two fields, one list */
        {{"gzip;q=0", "gzip", NULL}, 0},         /* the first mention wins */
        {{",, ,gzip,", NULL}, 1},                /* empty elements */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (gzip_for(cases[i].fields) != cases[i].gzip)
            fail_msg("case %zu (%s%s%s): expected %d", i,
                     cases[i].fields[0] ? cases[i].fields[0] : "(no field)",
                     cases[i].fields[1] ? " | " : "", cases[i].fields[1] ? cases[i].fields[1] : "",
                     cases[i].gzip);
    }
}

static void test_etag(void **state)
{
    static const struct {
        const char *value;
        int listed;
    } cases[] = {
        {"\"g1\"", 1},             /* */
        {"\"g1-gz\"", 0},          /* another representation */
        {"*", 1},                  /* any */
        {"W/\"g1\"", 1},           /* weak comparison */
        {"\"g0\", \"g1\"", 1},     /* a list */
        {" \"g0\" ,W/\"g1\" ", 1}, /* spaces */
        {"\"g0\"", 0},             /* */
        {"g1", 0},                 /* not quoted */
        {"\"g1", 0},               /* unterminated */
        {"\"g0\" x, \"g1\"", 0},   /* malformed element ends the list */
        {"\"g1\", garbage", 1},    /* a match before it stands */
        {"", 0},                   /* empty */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (httpneg_etag_listed(cases[i].value, "\"g1\"") != cases[i].listed)
            fail_msg("If-None-Match: %s: expected %d", cases[i].value, cases[i].listed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_etag),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
