/*
 * test_policy_proto - the policy delegation parser and replies (lookupd/policy_proto.c):
 * a Postfix-shaped request split at every byte, several in one buffer, the kept attributes
 * (first one wins, over-long flagged), CR LF, each malformation with its reason (no empty
 * line at end of input, 100 kB attribute, 10,000 attributes, binary bytes, request size),
 * and the actions, which must be the access map's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookupd/policy_proto.h"
#include "lookupd/sockmap_proto.h"

/* A request as Postfix 3.7 sends it at RCPT time (about 30 attributes). */
static const char postfix_req[] = "request=smtpd_access_policy\n"
                                  "protocol_state=RCPT\n"
                                  "protocol_name=ESMTP\n"
                                  "helo_name=client.example\n"
                                  "queue_id=\n"
                                  "sender=sender@foreign.test\n"
                                  "recipient=Alice+tag@Example.org\n"
                                  "recipient_count=0\n"
                                  "client_address=192.0.2.7\n"
                                  "client_name=unknown\n"
                                  "reverse_client_name=unknown\n"
                                  "instance=8a3.6573d5a1.4b6f2.0\n"
                                  "sasl_method=\n"
                                  "sasl_username=\n"
                                  "sasl_sender=\n"
                                  "size=0\n"
                                  "ccert_subject=\n"
                                  "ccert_issuer=\n"
                                  "ccert_fingerprint=\n"
                                  "ccert_pubkey_fingerprint=\n"
                                  "encryption_protocol=\n"
                                  "encryption_cipher=\n"
                                  "encryption_keysize=0\n"
                                  "etrn_domain=\n"
                                  "stress=\n"
                                  "client_port=41234\n"
                                  "policy_context=\n"
                                  "server_address=127.0.0.1\n"
                                  "server_port=25\n"
                                  "compatibility_level=3.6\n"
                                  "mail_version=3.7.11\n"
                                  "\n";

/* parse_all - the whole of s in one call */
static enum policy_status parse_all(struct policy_parser *p, const char *s, size_t len,
                                    size_t *used)
{
    policy_parser_init(p);
    return policy_parse(p, s, len, used);
}

static void check_postfix_req(const struct policy_req *r)
{
    assert_string_equal(r->request, "smtpd_access_policy");
    assert_string_equal(r->state, "RCPT");
    assert_string_equal(r->recipient, "Alice+tag@Example.org");
    assert_int_equal(r->recipient_len, 21);
    assert_string_equal(r->client_address, "192.0.2.7");
    assert_false(r->sasl);
    assert_int_equal(r->toolong, 0);
    assert_int_equal(r->nattrs, 31);
    assert_int_equal(r->size, sizeof(postfix_req) - 1);
}

static void test_postfix_request(void **state)
{
    struct policy_parser p;
    size_t used;

    (void)state;
    assert_int_equal(parse_all(&p, postfix_req, sizeof(postfix_req) - 1, &used), POLICY_REQ);
    assert_int_equal(used, sizeof(postfix_req) - 1);
    check_postfix_req(&p.req);
    assert_null(policy_parse_eof(&p));
}

/* Every split into two pieces, and byte by byte, gives the same request. */
static void test_split_everywhere(void **state)
{
    size_t len = sizeof(postfix_req) - 1;
    struct policy_parser p;
    size_t used;

    (void)state;
    for (size_t cut = 0; cut < len; cut++) {
        policy_parser_init(&p);
        assert_int_equal(policy_parse(&p, postfix_req, cut, &used), POLICY_MORE);
        assert_int_equal(used, cut);
        if (cut > 0)
            assert_non_null(policy_parse_eof(&p));
        assert_int_equal(policy_parse(&p, postfix_req + cut, len - cut, &used), POLICY_REQ);
        assert_int_equal(used, len - cut);
        check_postfix_req(&p.req);
    }
    policy_parser_init(&p);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(policy_parse(&p, postfix_req + i, 1, &used),
                         i + 1 < len ? POLICY_MORE : POLICY_REQ);
    check_postfix_req(&p.req);
}

/* Two requests in one buffer: the first stops at its empty line, the next starts afresh. */
static void test_two_in_one(void **state)
{
    const char two[] = "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=a@b.c\n"
                       "client_address=2001:db8::1\n\n"
                       "request=smtpd_access_policy\nprotocol_state=DATA\n\n";
    struct policy_parser p;
    size_t used, first;

    (void)state;
    assert_int_equal(parse_all(&p, two, sizeof(two) - 1, &used), POLICY_REQ);
    first = used;
    assert_string_equal(p.req.client_address, "2001:db8::1");
    assert_string_equal(p.req.recipient, "a@b.c");
    assert_int_equal(policy_parse(&p, two + first, sizeof(two) - 1 - first, &used), POLICY_REQ);
    assert_int_equal(first + used, sizeof(two) - 1);
    assert_string_equal(p.req.state, "DATA");
    assert_false(p.req.seen & POLICY_F_RECIPIENT);
    assert_string_equal(p.req.recipient, "");
    assert_int_equal(p.req.nattrs, 2);
}

static void test_kept_values(void **state)
{
    /* the first of repeated attributes counts; unknown ones are skipped; CR LF is fine */
    const char req[] = "recipient=first@x.org\r\nrecipient=second@x.org\nx-new.attr=1\n"
                       "sasl_username=joe\nclient_address=198.51.100.1\r\n\r\n";
    char big[3000];
    struct policy_parser p;
    size_t used;

    (void)state;
    assert_int_equal(parse_all(&p, req, sizeof(req) - 1, &used), POLICY_REQ);
    assert_string_equal(p.req.recipient, "first@x.org");
    assert_string_equal(p.req.client_address, "198.51.100.1");
    assert_true(p.req.sasl);
    assert_int_equal(p.req.nattrs, 5);

    /* an over-long kept value is flagged, not cut silently */
    snprintf(big, sizeof(big), "protocol_state=RCPT\nrecipient=%01500d@x.org\n\n", 7);
    assert_int_equal(parse_all(&p, big, strlen(big), &used), POLICY_REQ);
    assert_true(p.req.toolong & POLICY_F_RECIPIENT);
    assert_string_equal(p.req.state, "RCPT");
    snprintf(big, sizeof(big), "protocol_state=RCPT-AND-MORE-THAN-16\n\n");
    assert_int_equal(parse_all(&p, big, strlen(big), &used), POLICY_REQ);
    assert_true(p.req.toolong & POLICY_F_STATE);
    /* an empty value is a value */
    assert_int_equal(parse_all(&p, "recipient=\n\n", 12, &used), POLICY_REQ);
    assert_true(p.req.seen & POLICY_F_RECIPIENT);
    assert_int_equal(p.req.recipient_len, 0);
}

/* expect_error - s (all of it, then byte by byte) fails with reason */
static void expect_error(const char *s, size_t len, const char *reason)
{
    struct policy_parser p;
    enum policy_status st = POLICY_MORE;
    size_t used;

    assert_int_equal(parse_all(&p, s, len, &used), POLICY_ERR);
    assert_string_equal(p.reason, reason);
    assert_true(used <= len);
    /* the parser stays failed */
    assert_int_equal(policy_parse(&p, "a=b\n\n", 5, &used), POLICY_ERR);
    assert_null(policy_parse_eof(&p));
    policy_parser_init(&p);
    for (size_t i = 0; i < len && st == POLICY_MORE; i++)
        st = policy_parse(&p, s + i, 1, &used);
    assert_int_equal(st, POLICY_ERR);
    assert_string_equal(p.reason, reason);
}

static void test_errors(void **state)
{
    static const struct {
        const char *in, *reason;
    } cases[] = {
        {"\n", "empty request"},
        {"\r\n", "empty request"},
        {"request\n\n", "line without '='"},
        {"=value\n\n", "empty attribute name"},
        {"recip ient=a\n\n", "malformed attribute name"},
        {"r\xc3\xa9quest=a\n\n", "malformed attribute name"},
        {"a=b\r\rc=d\n\n", NULL}, /* CR inside a value is a value byte */
        {"a=b\n\rc=d\n\n", "carriage return inside a line"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].reason != NULL) {
            expect_error(cases[i].in, strlen(cases[i].in), cases[i].reason);
        } else {
            struct policy_parser p;
            size_t used;
            assert_int_equal(parse_all(&p, cases[i].in, strlen(cases[i].in), &used), POLICY_REQ);
        }
    }
    expect_error("a=b\0c\n\n", 7, "NUL byte in a value");
    expect_error("a\0=b\n\n", 6, "NUL byte in a name");
    expect_error("\x01\x02\x03\xff\xfe", 5, "malformed attribute name");
}

static void test_limits(void **state)
{
    size_t n = 100 * 1024;
    char *buf = malloc(200000);
    char name[POLICY_MAX_NAME + 4];
    size_t len = 0;

    (void)state;
    assert_non_null(buf);
    /* a 100 kB attribute */
    memcpy(buf, "ccert_subject=", 14);
    memset(buf + 14, 'x', n);
    memcpy(buf + 14 + n, "\n\n", 2);
    expect_error(buf, n + 16, "attribute too long");
    /* exactly the longest line is fine */
    memcpy(buf, "a=", 2);
    memset(buf + 2, 'x', POLICY_MAX_LINE - 2);
    memcpy(buf + POLICY_MAX_LINE, "\n\n", 2);
    {
        struct policy_parser p;
        size_t used;
        assert_int_equal(parse_all(&p, buf, POLICY_MAX_LINE + 2, &used), POLICY_REQ);
        buf[POLICY_MAX_LINE] = 'x';
        assert_int_equal(parse_all(&p, buf, POLICY_MAX_LINE + 2, &used), POLICY_ERR);
    }
    /* 10,000 attributes */
    for (int i = 0; i < 10000; i++) {
        memcpy(buf + len, "a=1\n", 4);
        len += 4;
    }
    buf[len++] = '\n';
    expect_error(buf, len, "too many attributes");
    /* a name over POLICY_MAX_NAME */
    memset(name, 'n', sizeof(name));
    name[sizeof(name) - 1] = '=';
    expect_error(name, sizeof(name), "attribute name too long");
    /* many attributes under every other limit, but a request over POLICY_MAX_REQUEST */
    len = 0;
    for (int i = 0; i < POLICY_MAX_ATTRS; i++) {
        memcpy(buf + len, "a=", 2);
        memset(buf + len + 2, 'v', 300);
        buf[len + 302] = '\n';
        len += 303;
    }
    buf[len++] = '\n';
    assert_true(len > POLICY_MAX_REQUEST);
    expect_error(buf, len, "request too long");
    free(buf);
}

static void test_eof(void **state)
{
    struct policy_parser p;
    size_t used;

    (void)state;
    policy_parser_init(&p);
    assert_null(policy_parse_eof(&p));
    /* no empty line */
    assert_int_equal(policy_parse(&p, "request=smtpd_access_policy\n", 28, &used), POLICY_MORE);
    assert_string_equal(policy_parse_eof(&p), "request truncated by end of input");
    /* inside a name, a value, after a CR */
    assert_int_equal(parse_all(&p, "req", 3, &used), POLICY_MORE);
    assert_non_null(policy_parse_eof(&p));
    assert_int_equal(parse_all(&p, "a=b", 3, &used), POLICY_MORE);
    assert_non_null(policy_parse_eof(&p));
    assert_int_equal(parse_all(&p, "a=b\n\r", 5, &used), POLICY_MORE);
    assert_non_null(policy_parse_eof(&p));
    /* after a whole request: a clean end */
    assert_int_equal(parse_all(&p, "a=b\n\n", 5, &used), POLICY_REQ);
    assert_null(policy_parse_eof(&p));
}

static void test_reply(void **state)
{
    char buf[POLICY_MAX_REPLY];

    (void)state;
    assert_int_equal(policy_reply("DUNNO", buf, sizeof(buf)), 14);
    assert_string_equal(buf, "action=DUNNO\n\n");
    assert_int_equal(policy_reply("DUNNO", buf, 14), 0);
    assert_int_equal(policy_reply("DUNNO", buf, 15), 14);
}

/* The actions are the access map's answers, for every result. */
static void test_access_actions(void **state)
{
    static const struct {
        enum lookup_result r;
        const char *reason, *action;
    } cases[] = {
        {LOOKUP_VALID, NULL, "DUNNO"},
        {LOOKUP_UNKNOWN, NULL, "550 5.1.1 User unknown"},
        {LOOKUP_DISABLED, NULL, "550 5.2.1 Mailbox disabled"},
        {LOOKUP_FOREIGN, NULL, "DUNNO"},
        {LOOKUP_INVALID, NULL, "DUNNO"},
        {LOOKUP_TEMPFAIL, LOOKUP_REASON_STALE, "451 4.3.5 Temporary failure: store stale"},
        {LOOKUP_TEMPFAIL, LOOKUP_REASON_NEVER, "451 4.3.5 Temporary failure: store never synced"},
    };
    struct lookup_answer ans;
    char act[POLICY_MAX_REPLY], text[SOCKMAP_MAX_REPLY];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&ans, 0, sizeof(ans));
        ans.result = cases[i].r;
        ans.reason = cases[i].reason;
        strcpy(ans.primary, "alice@example.org");
        assert_int_equal(policy_access_action(&ans, act, sizeof(act)), strlen(cases[i].action));
        assert_string_equal(act, cases[i].action);
        /* and the socketmap's access map says the same after its "OK " */
        sockmap_answer_text(SOCKMAP_ACCESS, &ans, text, sizeof(text));
        if (strncmp(text, "OK ", 3) == 0)
            assert_string_equal(text + 3, act);
        assert_int_equal(policy_access_action(&ans, act, 5), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_request),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_two_in_one),
        cmocka_unit_test(test_kept_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_access_actions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
