/*
 * test_filter - the local LDAP filter evaluator of the LDIF source: parse errors and their
 * messages, bounds (length, nesting), and matching (equality, presence, substrings, >=,
 * <=, ~=, &, |, !, escapes, the AD bitwise rules, attribute names with options).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "syncd/attrs.h"
#include "syncd/filter.h"

struct kv {
    const char *name, *val;
};

/* fill - attrs from a NULL-terminated table of name/value pairs (borrowed) */
static void fill(struct attrs *a, const struct kv *kv)
{
    attrs_clear(a);
    for (size_t i = 0; kv[i].name != NULL; i++)
        attrs_add(a, kv[i].name, strlen(kv[i].name), kv[i].val, strlen(kv[i].val));
}

/* parse_ok - parse text or fail the test with the parser's message */
static struct filter *parse_ok(const char *text)
{
    struct filter *f = NULL;
    char err[256];

    if (filter_parse(text, &f, err, sizeof(err)) != 0)
        fail_msg("filter_parse(\"%.200s\") failed: %s", text, err);
    assert_non_null(f);
    return f;
}

/* match - parse text and match it against one entry */
static int match(const char *text, const struct kv *kv)
{
    struct attrs a = {0};
    struct filter *f = parse_ok(text);
    int r;

    fill(&a, kv);
    r = filter_match(f, &a);
    filter_free(f);
    attrs_free(&a);
    return r;
}

/* ---- parse errors ------------------------------------------------------------------- */

static void test_parse_errors(void **state)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "expected '('"},
        {"cn=x", "expected '('"},
        {"(cn=x", "missing ')'"},
        {"(&(cn=x)", "missing ')'"},
        {"(&(cn=x)(sn=y)", "missing ')'"},
        {"(|(cn=x)", "missing ')'"},
        {"(&)", "empty & or |"},
        {"(|)", "empty & or |"},
        {"(&cn=x)", "empty & or |"},
        {"(!(cn=x)(sn=y))", "! takes exactly one filter"},
        {"(cn=a\\2)", "truncated escape"},
        {"(cn=a\\)", "truncated escape"},
        {"(cn=a\\zz)", "bad escape"},
        {"(cn=a\\2g)", "bad escape"},
        {"(cn=a*\\x1*b)", "bad escape"},
        {"(cn:1.2.3.4:=x)", "unsupported extensible match"},
        {"(cn:caseExactMatch:=x)", "unsupported extensible match"},
        {"(cn:dn:1.2.840.113556.1.4.803:=2)", "unsupported extensible match"},
        {"(cn:=x)", "unsupported extensible match"},
        {"(userAccountControl:1.2.840.113556.1.4.803:=two)", "decimal number"},
        {"(userAccountControl:1.2.840.113556.1.4.804:=)", "decimal number"},
        {"(userAccountControl:1.2.840.113556.1.4.803:=2x)", "decimal number"},
        {"(cn)", "expected attr=value"},
        {"(=x)", "expected attr=value"},
        {"()", "expected attr=value"},
        {"(>=x)", "empty attribute name"},
        {"(c n=x)", "bad character in attribute name"},
        {"(c_n=x)", "bad character in attribute name"},
        {"(cn=a(b)", "unescaped '('"},
        {"(cn=x)(sn=y)", "text after the filter"},
        {"(cn=x) ", "text after the filter"},
        {"(cn=x)x", "text after the filter"},
        {"(cn=x))", "text after the filter"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct filter *f = (struct filter *)&f; /* must be reset to NULL */
        char err[256] = "";
        int rc = filter_parse(cases[i].text, &f, err, sizeof(err));
        if (rc != -1 || f != NULL)
            fail_msg("\"%s\": expected an error, got rc %d", cases[i].text, rc);
        if (strncmp(err, "LDAP filter: ", 13) != 0 || strstr(err, cases[i].msg) == NULL)
            fail_msg("\"%s\": expected a message with \"%s\", got \"%s\"", cases[i].text,
                     cases[i].msg, err);
    }
}

/* the message says where: "at offset N" */
static void test_parse_error_offset(void **state)
{
    struct filter *f;
    char err[256];

    (void)state;
    assert_int_equal(filter_parse("(cn=x)(sn=y)", &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at offset 6"));
    assert_int_equal(filter_parse("(&(cn=x)(sn=y)", &f, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at offset 14"));
}

/* nest - depth levels of (! around a leaf: "(!(!...(cn=x)...))" */
static char *nest(int depth, char op)
{
    size_t len = (size_t)depth * 8 + 16;
    char *s = malloc(len), *p = s;

    assert_non_null(s);
    for (int i = 0; i < depth; i++) {
        *p++ = '(';
        *p++ = op;
        if (op != '!' && i % 2 == 0) { /* give & and | a sibling now and then */
            memcpy(p, "(o=1)", 5);
            p += 5;
        }
    }
    memcpy(p, "(cn=x)", 6);
    p += 6;
    for (int i = 0; i < depth; i++)
        *p++ = ')';
    *p = '\0';
    return s;
}

static void test_nesting(void **state)
{
    static const char ops[] = {'!', '&', '|'};
    struct kv kv[] = {{"cn", "x"}, {"o", "1"}, {NULL, NULL}};

    (void)state;
    for (size_t k = 0; k < sizeof(ops); k++) {
        struct filter *f;
        char err[256];
        char *s = nest(FILTER_MAX_DEPTH, ops[k]);
        /* FILTER_MAX_DEPTH levels around the leaf still parse and evaluate */
        assert_int_equal(filter_parse(s, &f, err, sizeof(err)), 0);
        assert_non_null(f);
        {
            struct attrs a = {0};
            fill(&a, kv);
            /* an even number of ! keeps the leaf's result */
            assert_int_equal(filter_match(f, &a), 1);
            attrs_free(&a);
        }
        filter_free(f);
        free(s);

        s = nest(FILTER_MAX_DEPTH + 1, ops[k]);
        assert_int_equal(filter_parse(s, &f, err, sizeof(err)), -1);
        assert_null(f);
        assert_non_null(strstr(err, "nested too deeply"));
        free(s);

        s = nest(1000, ops[k]);
        assert_int_equal(filter_parse(s, &f, err, sizeof(err)), -1);
        assert_null(f);
        assert_non_null(strstr(err, "nested too deeply"));
        free(s);
    }
}

static void test_too_long(void **state)
{
    char *s = malloc(FILTER_MAX_LEN + 16);
    struct filter *f;
    char err[256];
    size_t n;

    (void)state;
    assert_non_null(s);
    /* exactly FILTER_MAX_LEN bytes: accepted */
    memcpy(s, "(cn=", 4);
    n = FILTER_MAX_LEN - 5;
    memset(s + 4, 'a', n);
    memcpy(s + 4 + n, ")", 2);
    assert_int_equal(strlen(s), FILTER_MAX_LEN);
    assert_int_equal(filter_parse(s, &f, err, sizeof(err)), 0);
    filter_free(f);
    /* one more: refused */
    memset(s + 4, 'a', n + 1);
    memcpy(s + 4 + n + 1, ")", 2);
    assert_int_equal(filter_parse(s, &f, err, sizeof(err)), -1);
    assert_null(f);
    assert_non_null(strstr(err, "too long"));
    free(s);
}

/* a small err buffer is truncated, never overrun */
static void test_small_err_buffer(void **state)
{
    struct filter *f;
    char err[8];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(filter_parse("(cn=x", &f, err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* ---- matching ------------------------------------------------------------------------ */

static const struct kv person[] = {
    {"objectClass", "top"},
    {"objectClass", "inetOrgPerson"},
    {"cn", "John Smith"},
    {"sn", "Smith"},
    {"uid", "jsmith"},
    {"mail", "John.Smith@Example.org"},
    {"employeeNumber", "42"},
    {"description", "a*b (x) back\\slash"},
    {"title", "aaa"},
    {"l", "aaaa"},
    {NULL, NULL},
};

static void test_match_table(void **state)
{
    static const struct {
        const char *filter;
        int want;
    } cases[] = {
        /* equality, case-insensitive values and names */
        {"(mail=john.smith@example.org)", 1},
        {"(MAIL=JOHN.SMITH@EXAMPLE.ORG)", 1},
        {"(Mail=John.Smith@Example.org)", 1},
        {"(mail=john.smith@example.or)", 0},
        {"(mail=john.smith@example.orgx)", 0},
        {"(cn=John)", 0},
        {"(objectClass=inetorgperson)", 1},
        {"(objectClass=top)", 1},
        {"(objectClass=person)", 0},
        {"(nosuch=x)", 0},
        {"(cn=)", 0},
        /* presence */
        {"(mail=*)", 1},
        {"(MAIL=*)", 1},
        {"(pager=*)", 0},
        /* substrings */
        {"(cn=John*)", 1},
        {"(cn=john*)", 1},
        {"(cn=*Smith)", 1},
        {"(cn=*smith)", 1},
        {"(cn=*ohn S*)", 1},
        {"(cn=J*n*S*h)", 1},
        {"(cn=j*o*h*n* *s*m*i*t*h)", 1},
        {"(cn=J*x*h)", 0},
        {"(cn=*Smythe)", 0},
        {"(cn=Smith*)", 0},
        {"(cn=**)", 1},
        {"(cn=*n*)", 1},
        {"(cn=*q*)", 0},
        {"(mail=*.*@*.*)", 1},
        {"(mail=*@*@*)", 0},
        /* initial and final may not overlap; anys may not overlap either */
        {"(cn=John*hn Smith)", 0},
        {"(cn=John* Smith)", 1},
        {"(cn=John*Smith)", 1},
        {"(title=aa*aa)", 0},
        {"(l=aa*aa)", 1},
        {"(title=*aa*aa*)", 0},
        {"(l=*aa*aa*)", 1},
        {"(title=a*a*a)", 1},
        {"(title=a*a*a*a)", 0},
        {"(uid=js*s*)", 0},
        {"(uid=j*s*)", 1},
        /* ordering (ASCII, case-insensitive) */
        {"(employeeNumber>=42)", 1},
        {"(employeeNumber>=41)", 1},
        {"(employeeNumber>=43)", 0},
        {"(employeeNumber<=42)", 1},
        {"(employeeNumber<=43)", 1},
        {"(employeeNumber<=41)", 0},
        {"(sn>=smith)", 1},
        {"(sn<=SMITH)", 1},
        {"(sn>=smiti)", 0},
        {"(sn<=smitg)", 0},
        {"(sn>=smit)", 1},
        {"(sn<=smithx)", 1},
        /* approximate is taken as equality */
        {"(cn~=john smith)", 1},
        {"(cn~=john)", 0},
        /* boolean */
        {"(&(objectClass=inetOrgPerson)(mail=*))", 1},
        {"(&(objectClass=inetOrgPerson)(pager=*))", 0},
        {"(|(pager=*)(uid=jsmith))", 1},
        {"(|(pager=*)(uid=other))", 0},
        {"(!(pager=*))", 1},
        {"(!(uid=jsmith))", 0},
        {"(!(!(uid=jsmith)))", 1},
        {"(&(|(objectClass=groupOfNames)(objectClass=inetOrgPerson))(!(description=disabled)))", 1},
        {"(&(objectClass=inetOrgPerson))", 1},
        {"(|(uid=jsmith))", 1},
        /* escapes: \2a * \28 ( \29 ) \5c backslash, hex in either case */
        {"(description=a\\2ab \\28x\\29 back\\5cslash)", 1},
        {"(description=A\\2Ab \\28X\\29 BACK\\5Cslash)", 1},
        {"(description=a\\2a*)", 1},
        {"(description=a\\2ab*)", 1},
        {"(description=*\\28x\\29*)", 1},
        {"(description=*\\5cslash)", 1},
        {"(description=*\\5c)", 0},
        {"(description=a\\2ac*)", 0},
        {"(description=a\\2a)", 0},
        {"(cn=John\\20Smith)", 1},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        int got = match(cases[i].filter, person);
        if (got != cases[i].want)
            fail_msg("%s: expected %d, got %d", cases[i].filter, cases[i].want, got);
    }
}

/* AD userAccountControl: 512 normal, 514 normal+disabled, 66050 (0x10202) dont-expire+disabled */
static void test_match_bitwise(void **state)
{
    static const char *const uac[] = {"512", "514", "66050"};
    static const struct {
        const char *filter;
        int want[3];
    } cases[] = {
        {"(userAccountControl:1.2.840.113556.1.4.803:=2)", {0, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.803:=512)", {1, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.803:=514)", {0, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.803:=66048)", {0, 0, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.803:=66050)", {0, 0, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.803:=1)", {0, 0, 0}},
        {"(userAccountControl:1.2.840.113556.1.4.804:=2)", {0, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.804:=65538)", {0, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.804:=65536)", {0, 0, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.804:=513)", {1, 1, 1}},
        {"(userAccountControl:1.2.840.113556.1.4.804:=1)", {0, 0, 0}},
        {"(USERACCOUNTCONTROL:1.2.840.113556.1.4.803:=2)", {0, 1, 1}},
        {"(!(userAccountControl:1.2.840.113556.1.4.803:=2))", {1, 0, 0}},
        {"(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", {1, 0, 0}},
        {"(pwdLastSet:1.2.840.113556.1.4.803:=2)", {0, 0, 0}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t j = 0; j < 3; j++) {
            struct kv kv[] = {
                {"objectClass", "user"}, {"userAccountControl", uac[j]}, {NULL, NULL}};
            int got = match(cases[i].filter, kv);
            if (got != cases[i].want[j])
                fail_msg("%s on userAccountControl %s: expected %d, got %d", cases[i].filter,
                         uac[j], cases[i].want[j], got);
        }
    }
}

/* values that are not numbers never match a bitwise rule */
static void test_match_bitwise_not_numbers(void **state)
{
    static const char *const vals[] = {"", "abc", "2x", "0x2", "99999999999999999999999999999999"};

    (void)state;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct kv kv[] = {{"userAccountControl", vals[i]}, {NULL, NULL}};
        if (match("(userAccountControl:1.2.840.113556.1.4.804:=2)", kv) != 0)
            fail_msg("bitwise rule matched \"%s\"", vals[i]);
    }
}

/* several values of one attribute: any of them may match */
static void test_match_multivalued(void **state)
{
    struct kv kv[] = {
        {"mail", "a@example.org"},
        {"mail", "b@example.org"},
        {"userAccountControl", "512"},
        {"userAccountControl", "2"},
        {NULL, NULL},
    };

    (void)state;
    assert_int_equal(match("(mail=b@example.org)", kv), 1);
    assert_int_equal(match("(mail=a@*)", kv), 1);
    assert_int_equal(match("(mail=c@*)", kv), 0);
    assert_int_equal(match("(userAccountControl:1.2.840.113556.1.4.803:=2)", kv), 1);
    assert_int_equal(match("(!(mail=a@example.org))", kv), 0);
}

/* attribute names in the entry carry ";options" (mail;lang-en): the filter still matches */
static void test_match_options(void **state)
{
    struct kv kv[] = {
        {"Mail;lang-en", "john@example.org"},
        {"CN;x-foo;lang-de", "Johann"},
        {"objectclass", "inetOrgPerson"},
        {NULL, NULL},
    };

    (void)state;
    assert_int_equal(match("(mail=john@example.org)", kv), 1);
    assert_int_equal(match("(MAIL=*)", kv), 1);
    assert_int_equal(match("(cn=joh*)", kv), 1);
    assert_int_equal(match("(objectClass=INETORGPERSON)", kv), 1);
    /* the option is not part of the name */
    assert_int_equal(match("(mai=*)", kv), 0);
    assert_int_equal(match("(mailx=*)", kv), 0);
    assert_int_equal(match("(lang-en=*)", kv), 0);
}

/*
 * values are byte strings with a length: an embedded NUL is a byte like any other
 * (binary attributes such as objectGUID reach the filter from base64 LDIF values)
 */
static void test_match_binary_values(void **state)
{
    static const char guid[] = {0x01, 0x00, 0x02};
    static const struct {
        const char *filter;
        int want;
    } cases[] = {
        {"(objectGUID=\\01\\00\\02)", 1},
        {"(objectGUID=\\01\\00\\03)", 0}, /* differs after the NUL */
        {"(objectGUID=\\01\\00\\02\\00)", 0},
        {"(objectGUID=\\01*\\03)", 0},
        {"(objectGUID=\\01\\00\\03*)", 0},
        {"(objectGUID=*\\00\\03)", 0},
        {"(objectGUID=*\\00\\02)", 1},
    };
    struct attrs a = {0};
    char bad[512] = "";

    (void)state;
    attrs_add(&a, "objectGUID", 10, guid, sizeof(guid));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct filter *f = parse_ok(cases[i].filter);
        int got = filter_match(f, &a);
        filter_free(f);
        if (got != cases[i].want && bad[0] == '\0')
            snprintf(bad, sizeof(bad), "%s on the 3 bytes 01 00 02: expected %d, got %d",
                     cases[i].filter, cases[i].want, got);
    }
    attrs_free(&a);
    if (bad[0] != '\0')
        fail_msg("%s", bad);
}

/* an empty entry: only ! of something matches */
static void test_match_empty_entry(void **state)
{
    struct kv kv[] = {{NULL, NULL}};

    (void)state;
    assert_int_equal(match("(mail=*)", kv), 0);
    assert_int_equal(match("(!(mail=*))", kv), 1);
    assert_int_equal(match("(|(mail=*)(cn=x))", kv), 0);
    assert_int_equal(match("(&(!(mail=*))(!(cn=x)))", kv), 1);
}

/* a parsed filter is reusable and independent of its text */
static void test_reuse(void **state)
{
    char text[] = "(|(cn=a*)(uid=b))";
    struct filter *f = parse_ok(text);
    struct attrs a = {0};
    struct kv k1[] = {{"cn", "alpha"}, {NULL, NULL}}, k2[] = {{"uid", "B"}, {NULL, NULL}},
              k3[] = {{"cn", "beta"}, {NULL, NULL}};

    (void)state;
    memset(text, 'x', sizeof(text) - 1);
    fill(&a, k1);
    assert_int_equal(filter_match(f, &a), 1);
    fill(&a, k2);
    assert_int_equal(filter_match(f, &a), 1);
    fill(&a, k3);
    assert_int_equal(filter_match(f, &a), 0);
    filter_free(f);
    filter_free(NULL);
    attrs_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_offset),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_bitwise),
        cmocka_unit_test(test_match_bitwise_not_numbers),
        cmocka_unit_test(test_match_multivalued),
        cmocka_unit_test(test_match_options),
        cmocka_unit_test(test_match_binary_values),
        cmocka_unit_test(test_match_empty_entry),
        cmocka_unit_test(test_reuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
