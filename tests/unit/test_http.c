/*
 * test_http - the pieces of lookupd/http.c that need no server: percent-decoding of the
 * address in /v1/recipients/{address} (bad escapes, %00, %2F, limits) and the JSON and
 * status of each lookup answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* the units under test and what they need; unit tests link the library only */
#include "lookupd/db.h"
#include "lookupd/http.h"
#include "lookupd/lookup.h"
#include "lookupd/stats.h"

static void test_decode(void **state)
{
    static const struct {
        const char *in;
        long rc;
        const char *out;
    } cases[] = {
        {"alice@example.org", 17, "alice@example.org"},
        {"alice%40example.org", 17, "alice@example.org"},
        {"a%2Fb@x.org", 9, "a/b@x.org"},
        {"a%2fb@x.org", 9, "a/b@x.org"},
        {"a+b@x.org", 9, "a+b@x.org"}, /* '+' is not a space in a path */
        {"%41", 1, "A"},
        {"%C3%A9", 2, "\xc3\xa9"},
        {"", 0, ""},
        {"%", -1, NULL},
        {"%4", -1, NULL},
        {"a%4", -1, NULL},
        {"%zz", -1, NULL},
        {"%g0", -1, NULL},
        {"%00", -1, NULL},
        {"a%00b", -1, NULL},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long rc = http_percent_decode(buf, sizeof(buf), cases[i].in, strlen(cases[i].in));
        print_message("# %s\n", cases[i].in);
        assert_int_equal(rc, cases[i].rc);
        if (rc >= 0)
            assert_string_equal(buf, cases[i].out);
    }
    /* the output limit: cap - 1 bytes and the NUL */
    assert_int_equal(http_percent_decode(buf, 4, "abc", 3), 3);
    assert_int_equal(http_percent_decode(buf, 4, "abcd", 4), -1);
    assert_int_equal(http_percent_decode(buf, 4, "ab%41", 5), 3);
    assert_int_equal(http_percent_decode(buf, 1, "a", 1), -1);
}

/* json - the compact, sorted JSON of an answer */
static char *json(const char *addr, const struct lookup_answer *a)
{
    json_t *v = http_answer_json(addr, strlen(addr), a);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

    json_decref(v);
    return s;
}

static void test_json(void **state)
{
    struct lookup_answer a;
    char *s;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.result = LOOKUP_VALID;
    a.kind = RCPT_GROUP;
    a.generation = 9;
    strcpy(a.key, "staff+x@example.org");
    strcpy(a.primary, "staff@example.org");
    s = json("Staff+x@example.org", &a);
    assert_string_equal(s, "{\"address\":\"Staff+x@example.org\",\"generation\":9,\"key\":"
                           "\"staff+x@example.org\",\"kind\":\"group\",\"primary\":"
                           "\"staff@example.org\",\"result\":\"valid\"}");
    free(s);
    assert_int_equal(http_answer_status(&a), 200);

    a.result = LOOKUP_UNKNOWN;
    s = json("x@example.org", &a);
    assert_non_null(strstr(s, "\"kind\":null,\"primary\":null,\"result\":\"unknown\""));
    free(s);
    assert_int_equal(http_answer_status(&a), 200);

    a.result = LOOKUP_FOREIGN;
    assert_int_equal(http_answer_status(&a), 200);
    a.result = LOOKUP_DISABLED;
    assert_int_equal(http_answer_status(&a), 200);

    a.result = LOOKUP_TEMPFAIL;
    a.reason = LOOKUP_REASON_STALE;
    s = json("x@example.org", &a);
    assert_non_null(strstr(s, "\"reason\":\"store stale\",\"result\":\"tempfail\""));
    free(s);
    assert_int_equal(http_answer_status(&a), 503);

    a.result = LOOKUP_INVALID;
    a.addr_err = ADDR_ERR_NOAT;
    s = json("nope", &a);
    assert_non_null(strstr(s, "\"error\":\"malformed address\""));
    assert_null(strstr(s, "\"key\""));
    free(s);
    assert_int_equal(http_answer_status(&a), 400);

    /* an address that is not UTF-8 cannot be a JSON string: null */
    s = json("\xff@x.org", &a);
    assert_non_null(strstr(s, "\"address\":null"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
