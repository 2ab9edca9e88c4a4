/*
 * test_sockmap_proto - the socketmap request parser and reply writer (lookupd/sockmap_proto.c):
 * requests split at every byte and several in one buffer, each malformation a PERM with
 * its reason, keys holding NUL/CR/LF flagged, and the exact reply of each map for each
 * result (design.md's table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookupd/sockmap_proto.h"

/* parse - parse a C string */
static enum sockmap_status parse(const char *s, size_t len, struct sockmap_req *req, size_t *used,
                                 const char **reason)
{
    return sockmap_parse(s, len, req, used, reason);
}

static void test_one(void **state)
{
    struct sockmap_req req;
    const char *reason = NULL;
    size_t used = 0;

    (void)state;
    assert_int_equal(parse("22:rcpt alice@example.org,", 26, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(used, 26);
    assert_int_equal(req.map, SOCKMAP_RCPT);
    assert_int_equal(req.keylen, 17);
    assert_memory_equal(req.key, "alice@example.org", 17);
    assert_false(req.badkey);
    assert_int_equal(parse("13:access a@b.cd,", 17, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(req.map, SOCKMAP_ACCESS);
    assert_int_equal(parse("18:domain example.org,", 22, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(req.map, SOCKMAP_DOMAIN);
    assert_memory_equal(req.key, "example.org", 11);
    /* the key may hold spaces; only the first one ends the map name */
    assert_int_equal(parse("10:rcpt a b c,", 14, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(req.keylen, 5);
    /* an empty key is a request (answered NOTFOUND by the lookup) */
    assert_int_equal(parse("5:rcpt ,", 8, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(req.keylen, 0);
}

static void test_split_everywhere(void **state)
{
    const char *two = "22:rcpt alice@example.org,18:domain example.org,";
    size_t len = strlen(two);
    struct sockmap_req req;
    const char *reason;
    size_t used;

    (void)state;
    for (size_t cut = 0; cut < 26; cut++)
        assert_int_equal(parse(two, cut, &req, &used, &reason), SOCKMAP_MORE);
    for (size_t cut = 26; cut <= len; cut++) {
        assert_int_equal(parse(two, cut, &req, &used, &reason), SOCKMAP_REQ);
        assert_int_equal(used, 26);
    }
    for (size_t cut = 26; cut < len; cut++)
        assert_int_equal(parse(two + 26, cut - 26, &req, &used, &reason), SOCKMAP_MORE);
    assert_int_equal(parse(two + 26, len - 26, &req, &used, &reason), SOCKMAP_REQ);
    assert_int_equal(req.map, SOCKMAP_DOMAIN);
}

static void test_perm(void **state)
{
    static const struct {
        const char *in, *reason;
    } cases[] = {
        {"x:rcpt a,", "netstring length is not a number"},
        {":rcpt a,", "netstring length is not a number"},
        {" 5:rcpt ,", "netstring length is not a number"},
        {"99999999999999999999:", "request too long"},
        {"10001:", "request too long"},
        {"100000000:rcpt ", "request too long"},
        {"0000000000000000000000001:", "request too long"},
        {"5;rcpt ,", "netstring length not followed by a colon"},
        {"5:rcpt a", "netstring length and data disagree"},
        {"3:rcpt a,", "netstring length and data disagree"},
        {"0:,", "empty request"},
        {"4:rcpt,", "malformed request: no space after the map name"},
        {"8:RCPT a@b,", "unknown map name"},
        {"8:virtual ,", "unknown map name"},
        {"3: ab,", "unknown map name"},
    };
    struct sockmap_req req;
    size_t used;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *reason = NULL;
        print_message("# %s\n", cases[i].in);
        assert_int_equal(parse(cases[i].in, strlen(cases[i].in), &req, &used, &reason),
                         SOCKMAP_PERM);
        assert_string_equal(reason, cases[i].reason);
    }
    /* 10000 bytes is the limit: allowed, and awaited */
    {
        const char *reason;
        assert_int_equal(parse("10000:rcpt ", 11, &req, &used, &reason), SOCKMAP_MORE);
    }
}

static void test_badkey(void **state)
{
    struct sockmap_req req;
    const char *reason;
    size_t used;

    (void)state;
    assert_int_equal(parse("8:rcpt a\0b,", 11, &req, &used, &reason), SOCKMAP_REQ);
    assert_true(req.badkey);
    assert_int_equal(parse("8:rcpt a\rb,", 11, &req, &used, &reason), SOCKMAP_REQ);
    assert_true(req.badkey);
    assert_int_equal(parse("8:rcpt a\nb,", 11, &req, &used, &reason), SOCKMAP_REQ);
    assert_true(req.badkey);
    assert_int_equal(parse("8:rcpt a\tb,", 11, &req, &used, &reason), SOCKMAP_REQ);
    assert_false(req.badkey);
}

/* answer - an answer with a result, primary and reason */
static struct lookup_answer answer(enum lookup_result r, const char *primary, const char *reason)
{
    struct lookup_answer a;

    memset(&a, 0, sizeof(a));
    a.result = r;
    a.reason = reason;
    snprintf(a.primary, sizeof(a.primary), "%s", primary);
    return a;
}

static void test_replies(void **state)
{
    static const struct {
        enum sockmap_map map;
        enum lookup_result r;
        const char *want;
    } cases[] = {
        {SOCKMAP_RCPT, LOOKUP_VALID, "OK alice@example.org"},
        {SOCKMAP_RCPT, LOOKUP_DISABLED, "NOTFOUND "},
        {SOCKMAP_RCPT, LOOKUP_UNKNOWN, "NOTFOUND "},
        {SOCKMAP_RCPT, LOOKUP_FOREIGN, "NOTFOUND "},
        {SOCKMAP_RCPT, LOOKUP_INVALID, "NOTFOUND "},
        {SOCKMAP_RCPT, LOOKUP_TEMPFAIL, "TEMP store stale"},
        {SOCKMAP_ACCESS, LOOKUP_VALID, "OK DUNNO"},
        {SOCKMAP_ACCESS, LOOKUP_DISABLED, "OK 550 5.2.1 Mailbox disabled"},
        {SOCKMAP_ACCESS, LOOKUP_UNKNOWN, "OK 550 5.1.1 User unknown"},
        {SOCKMAP_ACCESS, LOOKUP_FOREIGN, "NOTFOUND "},
        {SOCKMAP_ACCESS, LOOKUP_INVALID, "NOTFOUND "},
        {SOCKMAP_ACCESS, LOOKUP_TEMPFAIL, "TEMP store stale"},
        {SOCKMAP_DOMAIN, LOOKUP_VALID, "OK alice@example.org"},
        {SOCKMAP_DOMAIN, LOOKUP_FOREIGN, "NOTFOUND "},
        {SOCKMAP_DOMAIN, LOOKUP_INVALID, "NOTFOUND "},
        {SOCKMAP_DOMAIN, LOOKUP_TEMPFAIL, "TEMP store stale"},
    };
    char text[SOCKMAP_MAX_REPLY], ns[SOCKMAP_MAX_REPLY], want[SOCKMAP_MAX_REPLY];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lookup_answer a = answer(cases[i].r, "alice@example.org", LOOKUP_REASON_STALE);
        size_t n = sockmap_answer_text(cases[i].map, &a, text, sizeof(text));

        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(text, cases[i].want);
        n = sockmap_reply(cases[i].map, &a, ns, sizeof(ns));
        snprintf(want, sizeof(want), "%zu:%s,", strlen(cases[i].want), cases[i].want);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(ns, want, n);
    }
}

static void test_reply_limits(void **state)
{
    char big[ADDR_KEY_SIZE], out[SOCKMAP_MAX_REPLY];
    struct lookup_answer a;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    a = answer(LOOKUP_VALID, big, NULL);
    /* the longest reply fits SOCKMAP_MAX_REPLY */
    assert_true(sockmap_reply(SOCKMAP_RCPT, &a, out, sizeof(out)) > 0);
    /* a buffer too small gives 0, not a cut reply */
    assert_int_equal(sockmap_reply(SOCKMAP_RCPT, &a, out, 100), 0);
    assert_int_equal(sockmap_answer_text(SOCKMAP_RCPT, &a, out, 10), 0);
    a = answer(LOOKUP_TEMPFAIL, "", NULL);
    assert_true(sockmap_answer_text(SOCKMAP_RCPT, &a, out, sizeof(out)) > 0);
    assert_string_equal(out, "TEMP lookup failed");
    assert_int_equal(sockmap_reply_text("PERM x", out, sizeof(out)), 9);
    assert_memory_equal(out, "6:PERM x,", 9);
    assert_string_equal(sockmap_map_name(SOCKMAP_ACCESS), "access");
    assert_string_equal(sockmap_map_name(SOCKMAP_NMAPS), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one),     cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_perm),    cmocka_unit_test(test_badkey),
        cmocka_unit_test(test_replies), cmocka_unit_test(test_reply_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
