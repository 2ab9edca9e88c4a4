/*
 * test_ldif - the LDIF source: what the sink receives (DN, group/disabled flags, values)
 * for well-formed input (version lines, comments, folds, base64, CRLF, changetype: add,
 * the ldapsearch -L trailer), what is refused and on which line, the bounds
 * (LDIF_MAX_LINE, LDIF_MAX_ENTRY, LDIF_MAX_VALUES), filters and a sink that stops the read.
 *
 * Each entry the sink receives is written to a transcript:
 *     dn=DN[ group][ disabled]
 *       name=value           (name without ;options; bytes outside printable ASCII as \xx)
 * Files under tests/data/ldif/ are read the same way and compared with NAME.expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "syncd/src_ldif.h"

#define NAME "t.ldif"

struct got {
    char *text; /* the transcript */
    size_t len, cap;
    int calls;
    int stop_at, stop_rc; /* return stop_rc on call stop_at (1-based; 0: never) */
    int quiet;            /* no transcript, only the counters below */
    int bad_names;        /* attributes with an empty or unusable name */
    size_t last_n, last_dnlen, max_vlen, total_vlen;
};

static void put(struct got *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct got *g, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (g->len + (size_t)n + 1 > g->cap) {
        g->cap = (g->len + (size_t)n + 1) * 2;
        g->text = realloc(g->text, g->cap);
        assert_non_null(g->text);
    }
    va_start(ap, fmt);
    vsnprintf(g->text + g->len, g->cap - g->len, fmt, ap);
    va_end(ap);
    g->len += (size_t)n;
}

static void put_bytes(struct got *g, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            put(g, "%c", c);
        else
            put(g, "\\%02x", c);
    }
}

static int sink_entry(void *ctx, const struct attrs *a, const char *dn, size_t dnlen, int is_group,
                      int is_disabled)
{
    struct got *g = ctx;

    g->calls++;
    g->last_n = a->n;
    g->last_dnlen = dnlen;
    assert_true(is_group == 0 || is_group == 1);
    assert_true(is_disabled == 0 || is_disabled == 1);
    for (size_t i = 0; i < a->n; i++) {
        char name[256];
        /* checked where the read has ended (a failed assertion here would leak the reader) */
        if (a->v[i].name_len == 0 || a->v[i].name_len >= sizeof(name)) {
            g->bad_names++;
        } else {
            memcpy(name, a->v[i].name, a->v[i].name_len);
            name[a->v[i].name_len] = '\0';
            if (!attrs_name_is(&a->v[i], name))
                g->bad_names++;
        }
        if (a->v[i].len > g->max_vlen)
            g->max_vlen = a->v[i].len;
        g->total_vlen += a->v[i].len;
    }
    if (!g->quiet) {
        put(g, "dn=");
        put_bytes(g, dn, dnlen);
        put(g, "%s%s\n", is_group ? " group" : "", is_disabled ? " disabled" : "");
        for (size_t i = 0; i < a->n; i++) {
            put(g, "  ");
            put_bytes(g, a->v[i].name, a->v[i].name_len);
            put(g, "=");
            put_bytes(g, a->v[i].val, a->v[i].len);
            put(g, "\n");
        }
    }
    if (g->stop_at != 0 && g->calls == g->stop_at)
        return g->stop_rc;
    return 0;
}

/* read_mem - ldif_read over a copy of text[0..len) */
static int read_mem(const char *text, size_t len, const struct ldif_filters *f, struct got *g,
                    char *err, size_t errlen)
{
    static const struct ldif_filters none = {NULL, NULL, NULL};
    struct source_sink sink = {sink_entry, g};
    char *buf = malloc(len + 1);
    FILE *fp;
    int rc;

    assert_non_null(buf);
    memcpy(buf, text, len);
    fp = fmemopen(buf, len, "r");
    assert_non_null(fp);
    err[0] = '\0';
    rc = src_ldif_read(fp, NAME, f ? f : &none, &sink, err, errlen);
    fclose(fp);
    free(buf);
    if (g->text == NULL)
        put(g, "%s", "");
    return rc;
}

static void got_free(struct got *g)
{
    free(g->text);
    memset(g, 0, sizeof(*g));
}

/* ---- well-formed input -------------------------------------------------------------- */

struct good {
    const char *what, *in, *want;
};

static const struct good good_cases[] = {
    {"two entries", "dn: uid=a,dc=x\nmail: a@x.org\ncn: A\n\ndn: uid=b,dc=x\nmail: b@x.org\n\n",
     "dn=uid=a,dc=x\n  mail=a@x.org\n  cn=A\ndn=uid=b,dc=x\n  mail=b@x.org\n"},
    {"no trailing blank line", "dn: uid=a\nmail: a@x.org\n", "dn=uid=a\n  mail=a@x.org\n"},
    {"no trailing newline", "dn: uid=a\nmail: a@x.org", "dn=uid=a\n  mail=a@x.org\n"},
    {"empty file", "", ""},
    {"only blank lines and comments", "\n\n# nothing here\n\n#\n", ""},
    {"blank lines before, between and after",
     "\n\n\ndn: uid=a\nmail: a@x\n\n\n\ndn: uid=b\nmail: b@x\n\n\n",
     "dn=uid=a\n  mail=a@x\ndn=uid=b\n  mail=b@x\n"},
    {"version line then blank", "version: 1\n\ndn: uid=a\nmail: a@x\n", "dn=uid=a\n  mail=a@x\n"},
    {"version line right before dn", "version: 1\ndn: uid=a\nmail: a@x\n",
     "dn=uid=a\n  mail=a@x\n"},
    {"comments everywhere",
     "# top\ndn: uid=a\n# inside\nmail: a@x\n#last\n\n# between\n\ndn: uid=b\n#\nmail: b@x\n# end",
     "dn=uid=a\n  mail=a@x\ndn=uid=b\n  mail=b@x\n"},
    {"folded comments",
     "# a comment that goes on\n  and on: mail: nope@x\ndn: uid=a\n# folded\n inside: mail: "
     "nope\n no colon here\nmail: a@x\n",
     "dn=uid=a\n  mail=a@x\n"},
    {"fold in the middle of a value", "dn: uid=a\nmail: john.smi\n th@example.org\n",
     "dn=uid=a\n  mail=john.smith@example.org\n"},
    {"fold in a name and in the dn", "dn: uid=a,\n dc=x\ndescr\n iption: folded name\n",
     "dn=uid=a,dc=x\n  description=folded name\n"},
    {"fold before the colon and after it", "dn: uid=a\nmail\n : a@x\nsn:\n  Smith\n",
     "dn=uid=a\n  mail=a@x\n  sn=Smith\n"},
    {"several folds, a space kept", "dn: uid=a\ncn: a\n  b\n c\n \n d\n", "dn=uid=a\n  cn=a bcd\n"},
    {"base64 dn and value",
     "dn:: dWlkPWrDtmhuLGRjPWV4YW1wbGUsZGM9b3Jn\nmail:: am9obkBleGFtcGxlLm9yZw==\n",
     "dn=uid=j\\c3\\b6hn,dc=example,dc=org\n  mail=john@example.org\n"},
    {"base64 binary value", "dn: uid=a\nphoto:: AAH/\nguid:: 4AQlP4lP0xGaDAMF6CwzAQ==\n",
     "dn=uid=a\n  photo=\\00\\01\\ff\n  guid=\\e0\\04%?\\89O\\d3\\11\\9a\\0c\\03\\05\\e8,3\\01\n"},
    {"base64 folded", "dn: uid=a\nmail:: am9obkBleGFt\n cGxlLm9yZw==\n",
     "dn=uid=a\n  mail=john@example.org\n"},
    {"base64 empty and padding forms", "dn: uid=a\ne::\nf:: Zg==\nfo:: Zm8=\nfoo:: Zm9v\n",
     "dn=uid=a\n  e=\n  f=f\n  fo=fo\n  foo=foo\n"},
    {"CRLF line ends",
     "version: 1\r\n\r\ndn: uid=a\r\nmail: a@x\r\n .org\r\n\r\ndn: uid=b\r\nmail: b@x\r\n",
     "dn=uid=a\n  mail=a@x.org\ndn=uid=b\n  mail=b@x\n"},
    {"changetype: add is accepted and dropped",
     "dn: uid=a\nchangetype: add\nmail: a@x\n\ndn: uid=b\nchangeType: ADD\nmail: b@x\n",
     "dn=uid=a\n  mail=a@x\ndn=uid=b\n  mail=b@x\n"},
    {"value spacing", "dn:uid=a\nmail:a@x\ncn:    spaced out\ndescription:\nsn: trailing  \n",
     "dn=uid=a\n  mail=a@x\n  cn=spaced out\n  description=\n  sn=trailing  \n"},
    {"attribute options", "dn: uid=a\nmail;lang-en: a@x\ncn;x-a;x-b: A\n",
     "dn=uid=a\n  mail=a@x\n  cn=A\n"},
    {"dn only", "dn: cn=empty\n\ndn: cn=other\nmail: o@x\n",
     "dn=cn=empty\ndn=cn=other\n  mail=o@x\n"},
    {"names with digits, dots and dashes", "dn: uid=a\nx-attr.2-b: v\n2.5.4.3: oid\n",
     "dn=uid=a\n  x-attr.2-b=v\n  2.5.4.3=oid\n"},
    {"ldapsearch -L trailer",
     "version: 1\n\n# a, x\ndn: uid=a\nmail: a@x\n\n# search result\nsearch: 2\nresult: 0 "
     "Success\n\n# numResponses: 2\n# numEntries: 1\n",
     "dn=uid=a\n  mail=a@x\n"},
    {"trailer without comments, then nothing",
     "dn: uid=a\nmail: a@x\n\nsearch: 3\nresult: 0 Success\n", "dn=uid=a\n  mail=a@x\n"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const struct good *c = &good_cases[i];
        struct got g = {0};
        char err[512];
        int rc = read_mem(c->in, strlen(c->in), NULL, &g, err, sizeof(err));
        if (rc != 0)
            fail_msg("%s: expected success, got %d: %s", c->what, rc, err);
        if (strcmp(g.text, c->want) != 0)
            fail_msg("%s: expected\n%s\ngot\n%s", c->what, c->want, g.text);
        if (g.bad_names != 0)
            fail_msg("%s: %d attributes without a usable name", c->what, g.bad_names);
        got_free(&g);
    }
}

/* ---- refused input ------------------------------------------------------------------ */

struct bad {
    const char *what, *in;
    const char *msg;  /* the whole message: "t.ldif:LINE: text" (a prefix of it) */
    const char *want; /* what the sink received before */
};

static const struct bad bad_cases[] = {
    {"changetype: modify",
     "dn: uid=a\nmail: a@x\n\ndn: uid=b\nchangetype: modify\nreplace: mail\nmail: b@x\n-\n",
     NAME ":5: change records are not supported", "dn=uid=a\n  mail=a@x\n"},
    {"changetype: delete", "dn: uid=a\nchangetype: delete\n", NAME ":2: change records", ""},
    {"changetype: modrdn", "dn: uid=a\nchangetype: modrdn\nnewrdn: uid=b\n",
     NAME ":2: change records", ""},
    {"'-' line", "dn: uid=a\nmail: a@x\n-\n", NAME ":3: change records are not supported", ""},
    {"control line", "dn: uid=a\ncontrol: 1.2.840.113556.1.4.805 true\n",
     NAME ":2: control lines are not supported", ""},
    {"URL value", "dn: uid=a\njpegPhoto:< file:///etc/passwd\n",
     NAME ":2: URL values (attr:< url) are not supported", ""},
    {"line without ':'", "dn: uid=a\nmail a@x\n", NAME ":2: expected 'attribute: value'", ""},
    {"line starting with ':'", "dn: uid=a\n: a@x\n", NAME ":2: expected 'attribute: value'", ""},
    {"space in a name", "dn: uid=a\nma il: a@x\n", NAME ":2: bad character in attribute name", ""},
    {"underscore in a name", "dn: uid=a\nmail_x: a@x\n", NAME ":2: bad character in attribute name",
     ""},
    {"UTF-8 in a name", "dn: uid=a\nm\xc3\xa4il: a@x\n", NAME ":2: bad character in attribute name",
     ""},
    {"base64: bad character", "dn: uid=a\nmail:: am9o!G4=\n", NAME ":2: malformed base64 value",
     ""},
    {"base64: space inside", "dn: uid=a\nmail:: am9o bg==\n", NAME ":2: malformed base64 value",
     ""},
    {"base64: missing padding", "dn: uid=a\nmail:: am9obg\n", NAME ":2: malformed base64 value",
     ""},
    {"base64: padding in the middle", "dn: uid=a\nmail:: am9=bg==\n",
     NAME ":2: malformed base64 value", ""},
    {"base64: three pad characters", "dn: uid=a\nmail:: Z===\n", NAME ":2: malformed base64 value",
     ""},
    {"base64: only padding", "dn: uid=a\nmail:: ====\n", NAME ":2: malformed base64 value", ""},
    {"base64: too much padding", "dn: uid=a\nmail:: Zg===\n", NAME ":2: malformed base64 value",
     ""},
    {"base64 dn", "dn:: !!!!\nmail: a@x\n", NAME ":1: malformed base64 value", ""},
    {"record without dn", "mail: a@x\n", NAME ":1: record does not start with 'dn:'", ""},
    {"second record without dn", "dn: uid=a\nmail: a@x\n\n\nmail: b@x\n",
     NAME ":5: record does not start with 'dn:'", "dn=uid=a\n  mail=a@x\n"},
    {"dn with options", "dn;x: uid=a\n", NAME ":1: record does not start with 'dn:'", ""},
    {"line numbers count folded and CRLF lines",
     "dn: uid=a\r\n ,dc=x\r\nmail: a\r\n @x\r\n# c\r\n c\r\nbad line\r\n",
     NAME ":7: expected 'attribute: value'", ""},
    {"error on a folded line: its first line", "dn: uid=a\nmail: a@x\nbad\n line\n",
     NAME ":3: expected 'attribute: value'", ""},
    {"continuation at the start of the file", " mail: a@x\n", NAME ":1:", ""},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad *c = &bad_cases[i];
        struct got g = {0};
        char err[512];
        int rc = read_mem(c->in, strlen(c->in), NULL, &g, err, sizeof(err));
        if (rc != SOURCE_ERR)
            fail_msg("%s: expected SOURCE_ERR, got %d (%s)", c->what, rc, err);
        if (strncmp(err, c->msg, strlen(c->msg)) != 0)
            fail_msg("%s: expected \"%s...\", got \"%s\"", c->what, c->msg, err);
        if (strcmp(g.text, c->want) != 0)
            fail_msg("%s: sink expected\n%s\ngot\n%s", c->what, c->want, g.text);
        got_free(&g);
    }
}

/*
 * records are separated by blank lines (RFC 2849); a second dn: line is not an attribute:
 * taking it as one merges two entries, and gives the second one's addresses the first
 * one's id and state (a disabled first entry makes the second one's mail bounce)
 */
static void test_dn_inside_record(void **state)
{
    static const char in[] = "dn: uid=a\nmail: a@x\ndn: uid=b\nmail: b@x\n";
    struct got g = {0};
    char err[512];
    int rc;

    (void)state;
    rc = read_mem(in, strlen(in), NULL, &g, err, sizeof(err));
    if (rc != SOURCE_ERR) {
        char got[512];
        snprintf(got, sizeof(got), "%s", g.text);
        got_free(&g);
        fail_msg("expected SOURCE_ERR at " NAME ":3, got %d; the sink received\n%s", rc, got);
    }
    assert_memory_equal(err, NAME ":3: ", strlen(NAME ":3: "));
    got_free(&g);
}

/*
 * an attribute description is a type and options (RFC 2849, 4512): ";lang-en" alone has
 * no type and must be refused like any other bad name, not handed on as an attribute
 * with an empty name (found by fuzz_ldif: tests/fuzz/seeds/ldif/crash-empty-attr-name)
 */
static void test_options_without_name(void **state)
{
    static const char in[] = "dn: uid=a\n;lang-en: x\nmail: a@x\n";
    struct got g = {0};
    char err[512];
    int rc;

    (void)state;
    rc = read_mem(in, strlen(in), NULL, &g, err, sizeof(err));
    if (rc != SOURCE_ERR) {
        char got[512];
        snprintf(got, sizeof(got), "%s", g.text);
        got_free(&g);
        fail_msg("expected SOURCE_ERR at " NAME ":2, got %d; the sink received\n%s", rc, got);
    }
    assert_memory_equal(err, NAME ":2: ", strlen(NAME ":2: "));
    got_free(&g);
}

/* ---- filters ------------------------------------------------------------------------ */

static const char directory[] = "dn: uid=alice,ou=people,dc=x\n"
                                "objectClass: inetOrgPerson\n"
                                "mail: alice@x.org\n"
                                "\n"
                                "dn: uid=bob,ou=people,dc=x\n"
                                "objectClass: inetOrgPerson\n"
                                "description: Disabled\n"
                                "mail: bob@x.org\n"
                                "\n"
                                "dn: cn=staff,ou=groups,dc=x\n"
                                "objectClass: groupOfNames\n"
                                "mail: staff@x.org\n"
                                "\n"
                                "dn: cn=printer,dc=x\n"
                                "objectClass: device\n"
                                "mail: printer@x.org\n"
                                "\n"
                                "dn: cn=ad,dc=x\n"
                                "objectClass: user\n"
                                "userAccountControl: 514\n"
                                "mail: ad@x.org\n"
                                "\n"
                                "dn: cn=adgroup,dc=x\n"
                                "objectClass: group\n"
                                "objectClass: user\n"
                                "userAccountControl: 66050\n"
                                "mail: adgroup@x.org\n";

static struct filter *compile(const char *text)
{
    struct filter *f;
    char err[256];

    if (filter_parse(text, &f, err, sizeof(err)) != 0)
        fail_msg("%s: %s", text, err);
    return f;
}

static void test_filters(void **state)
{
    struct filter *sel = compile("(|(objectClass=inetOrgPerson)(objectClass=groupOfNames)"
                                 "(objectClass=user))");
    struct filter *grp = compile("(|(objectClass=groupOfNames)(objectClass=group))");
    struct filter *dis =
        compile("(|(description=disabled)(userAccountControl:1.2.840.113556.1.4.803:=2))");
    struct ldif_filters f = {sel, grp, dis};
    struct got g = {0};
    char err[256];

    (void)state;
    assert_int_equal(read_mem(directory, strlen(directory), &f, &g, err, sizeof(err)), 0);
    assert_string_equal(g.text, "dn=uid=alice,ou=people,dc=x\n"
                                "  objectClass=inetOrgPerson\n"
                                "  mail=alice@x.org\n"
                                "dn=uid=bob,ou=people,dc=x disabled\n"
                                "  objectClass=inetOrgPerson\n"
                                "  description=Disabled\n"
                                "  mail=bob@x.org\n"
                                "dn=cn=staff,ou=groups,dc=x group\n"
                                "  objectClass=groupOfNames\n"
                                "  mail=staff@x.org\n"
                                "dn=cn=ad,dc=x disabled\n"
                                "  objectClass=user\n"
                                "  userAccountControl=514\n"
                                "  mail=ad@x.org\n"
                                "dn=cn=adgroup,dc=x group disabled\n"
                                "  objectClass=group\n"
                                "  objectClass=user\n"
                                "  userAccountControl=66050\n"
                                "  mail=adgroup@x.org\n");
    assert_int_equal(g.calls, 5);
    got_free(&g);

    /* no filters: every entry, none a group, none disabled */
    assert_int_equal(read_mem(directory, strlen(directory), NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.calls, 6);
    assert_null(strstr(g.text, " group"));
    assert_null(strstr(g.text, " disabled"));
    assert_non_null(strstr(g.text, "dn=cn=printer,dc=x\n"));
    got_free(&g);

    /* a select filter that matches nothing */
    {
        struct filter *nothing = compile("(objectClass=nosuch)");
        struct ldif_filters f2 = {nothing, grp, dis};
        assert_int_equal(read_mem(directory, strlen(directory), &f2, &g, err, sizeof(err)), 0);
        assert_int_equal(g.calls, 0);
        got_free(&g);
        filter_free(nothing);
    }
    filter_free(sel);
    filter_free(grp);
    filter_free(dis);
}

/* a non-zero sink return stops the read and is returned as it is */
static void test_sink_stops(void **state)
{
    struct got g = {0};
    char err[256];
    static const char bad_after[] = "dn: a\nmail: a@x\n\ndn: b\nmail: b@x\n\nthis is not ldif\n";

    (void)state;
    g.stop_at = 2;
    g.stop_rc = 42;
    assert_int_equal(read_mem(directory, strlen(directory), NULL, &g, err, sizeof(err)), 42);
    assert_int_equal(g.calls, 2);
    got_free(&g);

    /* the last entry, emitted at end of file */
    g.stop_at = 6;
    g.stop_rc = -7;
    assert_int_equal(read_mem(directory, strlen(directory), NULL, &g, err, sizeof(err)), -7);
    assert_int_equal(g.calls, 6);
    got_free(&g);

    /* stopping before a malformed part never reaches it */
    g.stop_at = 2;
    g.stop_rc = SOURCE_ERR;
    assert_int_equal(read_mem(bad_after, strlen(bad_after), NULL, &g, err, sizeof(err)),
                     SOURCE_ERR);
    assert_int_equal(g.calls, 2);
    assert_string_equal(err, "");
    got_free(&g);
}

/* ---- bounds ------------------------------------------------------------------------- */

/* big - a growing text buffer */
struct big {
    char *p;
    size_t len, cap;
};

static void big_add(struct big *b, const char *s, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void big_str(struct big *b, const char *s)
{
    big_add(b, s, strlen(s));
}

static void big_fill(struct big *b, char c, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memset(b->p + b->len, c, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void test_long_line(void **state)
{
    static const char pre[] = "description: ";
    size_t fit = LDIF_MAX_LINE - 1 - (sizeof(pre) - 1); /* value of the longest line */
    struct big b = {0};
    struct got g = {0};
    char err[256];

    (void)state;
    /* the longest line that fits: LDIF_MAX_LINE - 1 bytes */
    big_str(&b, "dn: uid=a\n");
    big_str(&b, pre);
    big_fill(&b, 'v', fit);
    big_str(&b, "\nmail: a@x\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.max_vlen, fit);
    got_free(&g);

    /* one byte more: refused with its line number */
    b.len = 0;
    big_str(&b, "dn: uid=a\n");
    big_str(&b, pre);
    big_fill(&b, 'v', fit + 1);
    big_str(&b, "\nmail: a@x\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_string_equal(err, NAME ":2: line too long");
    assert_int_equal(g.calls, 0);
    got_free(&g);

    /* much longer, without any newline at all */
    b.len = 0;
    big_str(&b, "dn: uid=a\n");
    big_fill(&b, 'x', 3 * (size_t)LDIF_MAX_LINE);
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_string_equal(err, NAME ":2: line too long");
    got_free(&g);
    free(b.p);
}

static void test_long_folded_line(void **state)
{
    static const char pre[] = "description: ";
    size_t fit = LDIF_MAX_LINE - 1 - (sizeof(pre) - 1), left;
    struct big b = {0};
    struct got g = {0};
    char err[256];

    (void)state;
    /* a logical line of LDIF_MAX_LINE - 1 bytes made of 1000-byte pieces: fits */
    big_str(&b, "dn: uid=a\nmail: a@x\n");
    big_str(&b, pre);
    for (left = fit; left > 0;) {
        size_t n = left < 1000 ? left : 1000;
        big_fill(&b, 'f', n);
        left -= n;
        big_str(&b, left ? "\n " : "\n");
    }
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.max_vlen, fit);
    got_free(&g);

    /* one more continuation byte: refused, at the line where the logical line starts */
    b.len--; /* the final newline */
    big_str(&b, "\n f\nsn: x\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_string_equal(err, NAME ":3: folded line too long");
    assert_int_equal(g.calls, 0);
    got_free(&g);
    free(b.p);
}

static void test_entry_too_big(void **state)
{
    enum { VAL = 1000000 };
    struct big b = {0};
    struct got g = {0};
    char err[256];
    int lines = 0;

    (void)state;
    big_str(&b, "dn: uid=small\nmail: s@x\n\ndn: uid=big\n"); /* the big entry starts on line 4 */
    /* 16 values of 1 MB fit in LDIF_MAX_ENTRY (16 MiB) */
    for (; lines < 16; lines++) {
        big_str(&b, "description: ");
        big_fill(&b, 'b', VAL);
        big_str(&b, "\n");
    }
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.last_n, 16);
    got_free(&g);

    /* the 17th (line 4 + 17) goes over */
    big_str(&b, "description: ");
    big_fill(&b, 'b', VAL);
    big_str(&b, "\n\ndn: uid=after\nmail: z@x\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_string_equal(err, NAME ":21: entry larger than the limit");
    assert_int_equal(g.calls, 1);
    got_free(&g);

    /*
     * base64 values count too: 933332 characters (699999 bytes decoded) a line; room for
     * the encoded length is needed while decoding, so the 24th value (line 25) goes over
     */
    b.len = 0;
    big_str(&b, "dn: uid=big64\n");
    for (lines = 0; lines < 30; lines++) {
        big_str(&b, "photo:: ");
        big_fill(&b, 'Q', 933332);
        big_str(&b, "\n");
    }
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_string_equal(err, NAME ":25: entry larger than the limit");
    got_free(&g);
    free(b.p);
}

static void test_too_many_values(void **state)
{
    struct big b = {0};
    struct got g = {0};
    char err[256];

    (void)state;
    big_str(&b, "dn: uid=many\n");
    for (int i = 0; i < LDIF_MAX_VALUES; i++)
        big_str(&b, "a: b\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.last_n, LDIF_MAX_VALUES);
    assert_int_equal(g.total_vlen, LDIF_MAX_VALUES);
    got_free(&g);

    big_str(&b, "a: one too many\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    {
        char want[64];
        snprintf(want, sizeof(want), NAME ":%d: entry has too many values", LDIF_MAX_VALUES + 2);
        assert_string_equal(err, want);
    }
    assert_int_equal(g.calls, 0);
    got_free(&g);

    /* the count is per entry: the next entry starts from zero */
    big_str(&b, "");
    b.len -= strlen("a: one too many\n");
    big_str(&b, "\ndn: uid=next\n");
    for (int i = 0; i < 10; i++)
        big_str(&b, "a: b\n");
    g.quiet = 1;
    assert_int_equal(read_mem(b.p, b.len, NULL, &g, err, sizeof(err)), 0);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.last_n, 10);
    got_free(&g);
    free(b.p);
}

/* an error message is truncated to the caller's buffer, never overrun */
static void test_small_err_buffer(void **state)
{
    struct got g = {0};
    char err[12];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_int_equal(read_mem("mail: x\n", 8, NULL, &g, err, sizeof(err)), SOURCE_ERR);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_memory_equal(err, NAME ":1: ", 10);
    got_free(&g);
}

/* ---- files under tests/data/ldif ---------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *p;
    long n;

    if (fp == NULL)
        fail_msg("cannot open %s (run from the top directory or set TOP)", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    p[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return p;
}

static void test_files(void **state)
{
    static const char *const names[] = {"ldifde", "ldapsearch"};
    const char *top = getenv("TOP");
    struct filter *grp = compile("(|(objectClass=groupOfNames)(objectClass=group))");
    struct filter *dis =
        compile("(|(description=disabled)(userAccountControl:1.2.840.113556.1.4.803:=2))");
    struct ldif_filters f = {NULL, grp, dis};

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[4096], err[512];
        struct got g = {0};
        size_t wantlen;
        char *want;
        FILE *fp;
        int rc;

        snprintf(path, sizeof(path), "%s/tests/data/ldif/%s.expected", top ? top : ".", names[i]);
        want = slurp(path, &wantlen);
        snprintf(path, sizeof(path), "%s/tests/data/ldif/%s.ldif", top ? top : ".", names[i]);
        fp = fopen(path, "r");
        assert_non_null(fp);
        {
            struct source_sink sink = {sink_entry, &g};
            rc = src_ldif_read(fp, NAME, &f, &sink, err, sizeof(err));
        }
        fclose(fp);
        if (rc != 0)
            fail_msg("%s: %s", names[i], err);
        if (g.text == NULL || strcmp(g.text, want) != 0)
            fail_msg("%s: expected\n%s\ngot\n%s", names[i], want, g.text ? g.text : "");
        assert_int_equal(g.bad_names, 0);
        got_free(&g);
        free(want);
    }
    filter_free(grp);
    filter_free(dis);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_dn_inside_record),
        cmocka_unit_test(test_options_without_name),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_sink_stops),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_long_folded_line),
        cmocka_unit_test(test_entry_too_big),
        cmocka_unit_test(test_too_many_values),
        cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test(test_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
