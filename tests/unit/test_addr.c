/*
 * test_addr - address normalization, candidates, proxyAddresses and the pinned lookup
 * order in tests/data/addr/resolve.{in,ref}.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/addr.h"

#define CS ADDR_CASE_SENSITIVE
#define CA ADDR_CATCHALL

/* One literal case: the input's length is sizeof - 1, so NUL bytes can be embedded. */
struct ncase {
    const char *in;
    size_t len;
    unsigned flags;
    int rc;          /* expected return: key length is taken from key when >= 0 */
    const char *key; /* expected key, NULL for an error */
};

#define OK(s, fl, k)                                                                               \
    {                                                                                              \
        s, sizeof(s) - 1, fl, 0, k                                                                 \
    }
#define ERR(s, fl, e)                                                                              \
    {                                                                                              \
        s, sizeof(s) - 1, fl, e, NULL                                                              \
    }

/* clang-format off */
static const struct ncase ncases[] = {
    /* plain, case folding */
    OK("user@example.org", 0, "user@example.org"),
    OK("User@Example.ORG", 0, "user@example.org"),
    OK("USER@EXAMPLE.ORG", 0, "user@example.org"),
    OK("User@Example.ORG", CS, "User@example.org"),
    OK("MiXeD.CaSe@ExAmPlE.OrG", CS, "MiXeD.CaSe@example.org"),
    OK("first.last@sub.example.org", 0, "first.last@sub.example.org"),
    OK("user+tag@example.org", 0, "user+tag@example.org"),
    OK("o'hara@example.org", 0, "o'hara@example.org"),
    OK("a!#$%&*=?^`{|}~@example.org", 0, "a!#$%&*=?^`{|}~@example.org"),
    OK("under_score@ex_ample.org", 0, "under_score@ex_ample.org"),
    OK("x@1.2.3.4.example", 0, "x@1.2.3.4.example"),
    OK("x@localhost", 0, "x@localhost"),
    /* trimming */
    OK("  user@example.org", 0, "user@example.org"),
    OK("user@example.org  ", 0, "user@example.org"),
    OK("\t user@example.org \t", 0, "user@example.org"),
    OK("\t\tUser@Example.org\t", 0, "user@example.org"),
    ERR("", 0, ADDR_ERR_EMPTY),
    ERR("   ", 0, ADDR_ERR_EMPTY),
    ERR(" \t \t", 0, ADDR_ERR_EMPTY),
    /* control characters are never trimmed, always refused */
    ERR("user@exa\0mple.org", 0, ADDR_ERR_CONTROL),
    ERR("user@example.org\0", 0, ADDR_ERR_CONTROL),
    ERR("\0user@example.org", 0, ADDR_ERR_CONTROL),
    ERR("user@example.org\r", 0, ADDR_ERR_CONTROL),
    ERR("user@example.org\n", 0, ADDR_ERR_CONTROL),
    ERR("user@example.org\r\n", 0, ADDR_ERR_CONTROL),
    ERR("us\rer@example.org", 0, ADDR_ERR_CONTROL),
    ERR("us\x7f" "er@example.org", 0, ADDR_ERR_CONTROL),
    ERR("\x01user@example.org", 0, ADDR_ERR_CONTROL),
    ERR("user@example.org\x1b", 0, ADDR_ERR_CONTROL),
    ERR("user\v@example.org", 0, ADDR_ERR_CONTROL),
    ERR("john\tdoe@example.org", 0, ADDR_ERR_CONTROL),
    /* a control character wins over malformed UTF-8, before or after it */
    ERR("us\xff" "er@exa\rmple.org", 0, ADDR_ERR_CONTROL),
    ERR("us\rer@exa\xff" "mple.org", 0, ADDR_ERR_CONTROL),
    ERR("us\xc3" "\x01" "er@example.org", 0, ADDR_ERR_CONTROL),
    /* '@' */
    ERR("userexample.org", 0, ADDR_ERR_NOAT),
    ERR("user", 0, ADDR_ERR_NOAT),
    ERR("a@b@example.org", 0, ADDR_ERR_TWOAT),
    ERR("user@@example.org", 0, ADDR_ERR_TWOAT),
    ERR("user@example.org@", 0, ADDR_ERR_TWOAT),
    /* quoted local parts: stored unquoted */
    OK("\"john doe\"@example.org", 0, "john doe@example.org"),
    OK("\"John Doe\"@Example.ORG", 0, "john doe@example.org"),
    OK("\"John Doe\"@Example.ORG", CS, "John Doe@example.org"),
    OK("\"john\\\"doe\"@example.org", 0, "john\"doe@example.org"),
    OK("\"a\\\\b\"@example.org", 0, "a\\b@example.org"),
    OK("\"a(b)c\"@example.org", 0, "a(b)c@example.org"),
    OK("  \"x y\"@example.org  ", 0, "x y@example.org"),
    OK("\"plain\"@example.org", 0, "plain@example.org"),
    /* a quote that does not make a quoted local part is an ordinary character: the
     * unquoted (internal) form of "\"john"@example.org is "john@example.org */
    OK("\"john doe@example.org", 0, "\"john doe@example.org"),
    OK("\"john\"doe@example.org", 0, "\"john\"doe@example.org"),
    OK("\"john\" @example.org", 0, "\"john\" @example.org"),
    ERR("\"john\\", 0, ADDR_ERR_NOAT),
    ERR("\"john\"", 0, ADDR_ERR_NOAT),
    OK("jo\"hn\"@example.org", 0, "jo\"hn\"@example.org"),
    OK("john\"@example.org", 0, "john\"@example.org"),
    /* a quoted '@' would give a key with two: refused */
    ERR("\"a@b\"@example.org", 0, ADDR_ERR_TWOAT),
    /* content that starts with a quote would read as quoted again: taken as it stands */
    OK("\"\\\"x\\\"\"@example.org", 0, "\"\\\"x\\\"\"@example.org"),
    /* "" cannot be unquoted (empty local part): taken as it stands, never the catch-all */
    OK("\"\"@example.org", 0, "\"\"@example.org"),
    /* a second '@' after a quoted local part is outside the quotes */
    ERR("\"john\"@b@example.org", 0, ADDR_ERR_TWOAT),
    /* specials and spaces in an unquoted local part: Postfix's internal form of a quoted
     * local part, accepted as it is so that it finds the key stored from "john doe"@d */
    OK("john doe@example.org", 0, "john doe@example.org"),
    OK("a(b@example.org", 0, "a(b@example.org"),
    OK("a)b@example.org", 0, "a)b@example.org"),
    OK("a,b@example.org", 0, "a,b@example.org"),
    OK("a:b@example.org", 0, "a:b@example.org"),
    OK("a;b@example.org", 0, "a;b@example.org"),
    ERR("<a@example.org>", 0, ADDR_ERR_DOMAIN),
    OK("a>b@example.org", 0, "a>b@example.org"),
    OK("a[b@example.org", 0, "a[b@example.org"),
    OK("a]b@example.org", 0, "a]b@example.org"),
    OK("a\\b@example.org", 0, "a\\b@example.org"),
    /* empty local part, catch-all */
    ERR("@example.org", 0, ADDR_ERR_LOCAL),
    ERR("@example.org", CS, ADDR_ERR_LOCAL),
    OK("@example.org", CA, "@example.org"),
    OK("@Example.ORG", CA, "@example.org"),
    OK(" @example.org ", CA | CS, "@example.org"),
    OK("User@Example.ORG", CA, "user@example.org"),
    ERR("@", CA, ADDR_ERR_DOMAIN),
    /* domains */
    ERR("user@", 0, ADDR_ERR_DOMAIN),
    ERR("user@.", 0, ADDR_ERR_DOMAIN),
    ERR("user@.example.org", 0, ADDR_ERR_DOMAIN),
    ERR("user@example..org", 0, ADDR_ERR_DOMAIN),
    ERR("user@example.org..", 0, ADDR_ERR_DOMAIN),
    OK("user@example.org.", 0, "user@example.org"),
    OK("user@EXAMPLE.ORG.", 0, "user@example.org"),
    ERR("user@exa mple.org", 0, ADDR_ERR_DOMAIN),
    ERR("user@exa/mple.org", 0, ADDR_ERR_DOMAIN),
    ERR("user@example.org>", 0, ADDR_ERR_DOMAIN),
    ERR("user@\"example\".org", 0, ADDR_ERR_DOMAIN),
    /* labels of 63 (the most) and 64 octets */
    OK("user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", 0,
       "user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org"),
    ERR("user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", 0,
        ADDR_ERR_DOMAIN),
    ERR("user@org.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
        ADDR_ERR_DOMAIN),
    /* domain literals */
    OK("user@[192.0.2.1]", 0, "user@[192.0.2.1]"),
    OK("User@[IPv6:2001:DB8::1]", 0, "user@[ipv6:2001:db8::1]"),
    ERR("user@[192.0.2.1", 0, ADDR_ERR_DOMAIN),
    ERR("user@192.0.2.1]", 0, ADDR_ERR_DOMAIN),
    ERR("user@[]", 0, ADDR_ERR_DOMAIN),
    ERR("user@[192.0.2.1 ]", 0, ADDR_ERR_DOMAIN),
    ERR("user@[example.org]", 0, ADDR_ERR_DOMAIN),
    /* UTF-8: kept as it is; only ASCII letters are folded */
    OK("j\xc3\xbcrgen@example.org", 0, "j\xc3\xbcrgen@example.org"),
    OK("J\xc3\xbcrgen@Example.org", 0, "j\xc3\xbcrgen@example.org"),
    OK("J\xc3\xbcrgen@Example.org", CS, "J\xc3\xbcrgen@example.org"),
    OK("\xc3\x9c" "ber@example.org", 0, "\xc3\x9c" "ber@example.org"),
    OK("user@b\xc3\xbc" "cher.DE", 0, "user@b\xc3\xbc" "cher.de"),
    OK("user@\xc3\x84\xc3\x96\xc3\x9c.de", 0, "user@\xc3\x84\xc3\x96\xc3\x9c.de"),
    OK("\xe4\xbd\xa0\xe5\xa5\xbd@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95", 0,
       "\xe4\xbd\xa0\xe5\xa5\xbd@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95"),
    OK("smile\xf0\x9f\x98\x80@example.org", 0, "smile\xf0\x9f\x98\x80@example.org"),
    ERR("\xc0\xafuser@example.org", 0, ADDR_ERR_UTF8),         /* overlong '/' */
    ERR("\xe0\x80\xafuser@example.org", 0, ADDR_ERR_UTF8),     /* overlong, 3 bytes */
    ERR("\xf0\x80\x80\xafuser@example.org", 0, ADDR_ERR_UTF8), /* overlong, 4 bytes */
    ERR("\xed\xa0\x80user@example.org", 0, ADDR_ERR_UTF8),     /* surrogate D800 */
    ERR("user@ex\xed\xbf\xbf" "ample.org", 0, ADDR_ERR_UTF8),  /* surrogate DFFF */
    ERR("\xf4\x90\x80\x80user@example.org", 0, ADDR_ERR_UTF8), /* above U+10FFFF */
    ERR("j\xc3@example.org", 0, ADDR_ERR_UTF8),                /* truncated before '@' */
    ERR("user@example.org\xc3", 0, ADDR_ERR_UTF8),             /* truncated at the end */
    ERR("user@example.org\xe4\xbd", 0, ADDR_ERR_UTF8),         /* truncated 3-byte */
    ERR("user\xff@example.org", 0, ADDR_ERR_UTF8),             /* invalid byte */
    ERR("user@example.org\xfe", 0, ADDR_ERR_UTF8),             /* invalid byte */
    ERR("user\x80@example.org", 0, ADDR_ERR_UTF8),             /* lone continuation */
    ERR("user@\xf5\x80\x80\x80.org", 0, ADDR_ERR_UTF8),        /* 0xf5 lead */
    ERR("\"j\xc3\xbc\xc3\"@example.org", 0, ADDR_ERR_UTF8),    /* inside quotes */
};
/* clang-format on */

/* check_one - run a case; print and count a mismatch */
static int check_one(const char *label, size_t i, const char *in, size_t len, unsigned flags,
                     int want_rc, const char *want_key)
{
    char dst[ADDR_KEY_SIZE];
    int rc;

    memset(dst, 'Z', sizeof(dst));
    rc = addr_normalize(dst, sizeof(dst), in, len, flags);
    if (want_key != NULL) {
        if (rc != (int)strlen(want_key) || strcmp(dst, want_key) != 0) {
            print_error("%s %zu: input '%.*s' (len %zu, flags %u): expected '%s', got rc %d "
                        "(%s) key '%s'\n",
                        label, i, (int)(len > 80 ? 80 : len), in, len, flags, want_key, rc,
                        addr_strerror(rc), rc >= 0 ? dst : "");
            return 1;
        }
    } else if (rc != want_rc) {
        print_error("%s %zu: input '%.*s' (len %zu, flags %u): expected %d (%s), got %d (%s)\n",
                    label, i, (int)(len > 80 ? 80 : len), in, len, flags, want_rc,
                    addr_strerror(want_rc), rc, addr_strerror(rc));
        return 1;
    }
    return 0;
}

static void test_normalize_table(void **state)
{
    size_t bad = 0, n = sizeof(ncases) / sizeof(ncases[0]);

    (void)state;
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++)
        bad += (size_t)check_one("case", i, ncases[i].in, ncases[i].len, ncases[i].flags,
                                 ncases[i].rc, ncases[i].key);
    if (bad > 0)
        fail_msg("%zu of %zu normalization cases failed", bad, n);
}

/*
 * Length cases, built at run time: a local part of `local` octets ("Ab" repeated, so the
 * case folding shows), a domain of `dom` octets in labels of at most 63, and `pad` spaces
 * on each side.
 */
struct lcase {
    size_t local, dom, pad_left, pad_right;
    unsigned flags;
    int rc; /* 0: valid, key expected */
};

static const struct lcase lcases[] = {
    {64, 189, 0, 0, 0, 0},                     /* 254 octets: the longest valid */
    {64, 190, 0, 0, 0, ADDR_ERR_TOOLONG},      /* 255 octets */
    {1, 252, 0, 0, 0, 0},                      /* 254 with a short local part */
    {1, 253, 0, 0, 0, ADDR_ERR_TOOLONG},       /* 255 with a short local part */
    {0, 253, 0, 0, CA, 0},                     /* catch-all of 254 octets */
    {0, 254, 0, 0, CA, ADDR_ERR_TOOLONG},      /* catch-all of 255 octets */
    {64, 191, 0, 0, 0, ADDR_ERR_TOOLONG},      /* 256 octets */
    {10, 300, 0, 0, 0, ADDR_ERR_TOOLONG},      /* 311 octets */
    {64, 935, 0, 0, 0, ADDR_ERR_TOOLONG},      /* a 1000-byte address */
    {64, 959, 0, 0, 0, ADDR_ERR_TOOLONG},      /* a 1024-byte address */
    {64, 10, 0, 0, 0, 0},                      /* local part of 64 */
    {65, 10, 0, 0, 0, ADDR_ERR_LOCALTOOLONG},  /* local part of 65 */
    {200, 10, 0, 0, 0, ADDR_ERR_LOCALTOOLONG}, /* local part of 200 */
    {4, 11, 492, 492, 0, 0},                   /* 1000 bytes of input, mostly blanks */
    {4, 11, 504, 504, 0, 0},                   /* 1024 bytes of input */
    {4, 11, 505, 504, 0, ADDR_ERR_TOOLONG},    /* 1025 bytes: refused before trimming */
    {4, 11, 2000, 2000, 0, ADDR_ERR_TOOLONG},  /* far too long */
    {64, 189, 200, 200, CS, 0},                /* 254 octets inside 654 bytes of input */
};

/* fill_domain - n octets of labels of at most 63 letters, none empty */
static void fill_domain(char *p, size_t n)
{
    size_t left = n;

    while (left > 63) {
        size_t take = left - 2 < 63 ? left - 2 : 63;
        memset(p, 'B', take);
        p[take] = '.';
        p += take + 1;
        left -= take + 1;
    }
    memset(p, 'C', left);
}

static void test_normalize_lengths(void **state)
{
    size_t bad = 0, n = sizeof(lcases) / sizeof(lcases[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        const struct lcase *c = &lcases[i];
        size_t len = c->pad_left + c->local + 1 + c->dom + c->pad_right;
        char *in = malloc(len + 1), *want = malloc(len + 1), *p = in;

        assert_non_null(in);
        assert_non_null(want);
        memset(p, ' ', c->pad_left);
        p += c->pad_left;
        for (size_t k = 0; k < c->local; k++)
            *p++ = (k & 1) ? 'b' : 'A';
        *p++ = '@';
        fill_domain(p, c->dom);
        p += c->dom;
        memset(p, ' ', c->pad_right);
        in[len] = '\0';
        /* the expected key: trimmed, domain lower-cased, local part too unless CS */
        memcpy(want, in + c->pad_left, c->local + 1 + c->dom);
        want[c->local + 1 + c->dom] = '\0';
        for (size_t k = 0; want[k]; k++)
            if ((k > c->local || !(c->flags & CS)) && want[k] >= 'A' && want[k] <= 'Z')
                want[k] = (char)(want[k] - 'A' + 'a');
        bad +=
            (size_t)check_one("length case", i, in, len, c->flags, c->rc, c->rc == 0 ? want : NULL);
        free(in);
        free(want);
    }
    if (bad > 0)
        fail_msg("%zu of %zu length cases failed", bad, n);
}

/* dst smaller than the key: ADDR_ERR_BUFFER, never an overflow */
static void test_normalize_buffer(void **state)
{
    static const char in[] = "User@Example.org"; /* key of 16 octets */
    char dst[64];

    (void)state;
    for (size_t cap = 0; cap <= 17; cap++) {
        int rc;
        memset(dst, '#', sizeof(dst));
        rc = addr_normalize(dst, cap, in, sizeof(in) - 1, 0);
        if (cap < 17) {
            assert_int_equal(rc, ADDR_ERR_BUFFER);
        } else {
            assert_int_equal(rc, 16);
            assert_string_equal(dst, "user@example.org");
        }
        for (size_t k = cap; k < sizeof(dst); k++)
            assert_int_equal(dst[k], '#');
    }
    /* catch-all key and the one-byte buffer */
    memset(dst, '#', sizeof(dst));
    assert_int_equal(addr_normalize(dst, 1, "@d.org", 6, CA), ADDR_ERR_BUFFER);
    assert_int_equal(dst[1], '#');
    assert_int_equal(addr_normalize(dst, 7, "@d.org", 6, CA), 6);
    assert_string_equal(dst, "@d.org");
    assert_int_equal(addr_normalize(dst, 6, "@d.org", 6, CA), ADDR_ERR_BUFFER);
    /* a domain literal */
    assert_int_equal(addr_normalize(dst, 13, "a@[192.0.2.1]", 13, 0), ADDR_ERR_BUFFER);
    assert_int_equal(addr_normalize(dst, 14, "a@[192.0.2.1]", 13, 0), 13);
}

/* the input is read only within inlen: bytes after it do not matter */
static void test_normalize_explicit_length(void **state)
{
    char dst[ADDR_KEY_SIZE];

    (void)state;
    assert_int_equal(addr_normalize(dst, sizeof(dst), "user@example.org\r\nJUNK", 16, 0), 16);
    assert_string_equal(dst, "user@example.org");
    assert_int_equal(addr_normalize(dst, sizeof(dst), "user@example.orgX", 16, 0), 16);
    assert_string_equal(dst, "user@example.org");
    assert_int_equal(addr_normalize(dst, sizeof(dst), "user@example.org", 0, 0), ADDR_ERR_EMPTY);
    assert_int_equal(addr_normalize(dst, sizeof(dst), "user@example.org", 5, 0), ADDR_ERR_DOMAIN);
}

struct dcase {
    const char *in;
    size_t len;
    int rc;
    const char *key;
};

#define DOK(s, k)                                                                                  \
    {                                                                                              \
        s, sizeof(s) - 1, 0, k                                                                     \
    }
#define DERR(s, e)                                                                                 \
    {                                                                                              \
        s, sizeof(s) - 1, e, NULL                                                                  \
    }

static const struct dcase dcases[] = {
    DOK("example.org", "example.org"),
    DOK("Example.ORG", "example.org"),
    DOK("  example.org\t", "example.org"),
    DOK("example.org.", "example.org"),
    DOK("sub-1.ex_ample.org", "sub-1.ex_ample.org"),
    DOK("[192.0.2.1]", "[192.0.2.1]"),
    DOK("[IPv6:2001:DB8::1]", "[ipv6:2001:db8::1]"),
    DOK("b\xc3\xbc"
        "cher.DE",
        "b\xc3\xbc"
        "cher.de"),
    DOK("localhost", "localhost"),
    DERR("", ADDR_ERR_EMPTY),
    DERR("  ", ADDR_ERR_EMPTY),
    DERR(".", ADDR_ERR_DOMAIN),
    DERR("example..org", ADDR_ERR_DOMAIN),
    DERR(".example.org", ADDR_ERR_DOMAIN),
    DERR("example.org..", ADDR_ERR_DOMAIN),
    DERR("user@example.org", ADDR_ERR_DOMAIN),
    DERR("@example.org", ADDR_ERR_DOMAIN),
    DERR("exa mple.org", ADDR_ERR_DOMAIN),
    DERR("example.org\n", ADDR_ERR_CONTROL),
    DERR("exa\0mple.org", ADDR_ERR_CONTROL),
    DERR("\xff.org", ADDR_ERR_UTF8),
    DERR("[192.0.2.1", ADDR_ERR_DOMAIN),
    DERR("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", ADDR_ERR_DOMAIN),
};

static void test_normalize_domain(void **state)
{
    char dst[ADDR_KEY_SIZE], big[400];
    size_t bad = 0, n = sizeof(dcases) / sizeof(dcases[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        int rc = addr_normalize_domain(dst, sizeof(dst), dcases[i].in, dcases[i].len);
        int ok = dcases[i].key
                     ? (rc == (int)strlen(dcases[i].key) && strcmp(dst, dcases[i].key) == 0)
                     : rc == dcases[i].rc;
        if (!ok) {
            print_error("domain case %zu '%s': expected %s (%d), got %d (%s)\n", i, dcases[i].in,
                        dcases[i].key ? dcases[i].key : addr_strerror(dcases[i].rc), dcases[i].rc,
                        rc, rc >= 0 ? dst : addr_strerror(rc));
            bad++;
        }
    }
    if (bad > 0)
        fail_msg("%zu of %zu domain cases failed", bad, n);

    /* 254 octets fit, 255 do not */
    fill_domain(big, 254);
    assert_int_equal(addr_normalize_domain(dst, sizeof(dst), big, 254), 254);
    fill_domain(big, 255);
    assert_int_equal(addr_normalize_domain(dst, sizeof(dst), big, 255), ADDR_ERR_TOOLONG);
    /* small buffer */
    assert_int_equal(addr_normalize_domain(dst, 11, "example.org", 11), ADDR_ERR_BUFFER);
    assert_int_equal(addr_normalize_domain(dst, 12, "example.org", 11), 11);
    assert_string_equal(dst, "example.org");
}

static void test_strerror(void **state)
{
    static const int errs[] = {
        ADDR_ERR_EMPTY,        ADDR_ERR_NOAT,    ADDR_ERR_TWOAT,  ADDR_ERR_TOOLONG,
        ADDR_ERR_LOCALTOOLONG, ADDR_ERR_CONTROL, ADDR_ERR_UTF8,   ADDR_ERR_LOCAL,
        ADDR_ERR_QUOTE,        ADDR_ERR_DOMAIN,  ADDR_ERR_BUFFER,
    };
    const size_t n = sizeof(errs) / sizeof(errs[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        const char *s = addr_strerror(errs[i]);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown address error");
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(s, addr_strerror(errs[k]));
    }
    assert_string_equal(addr_strerror(ADDR_ERR_NOAT), "no '@' in address");
    assert_string_equal(addr_strerror(ADDR_ERR_TOOLONG), "address longer than 254 octets");
    assert_string_equal(addr_strerror(0), "valid address");
    assert_string_equal(addr_strerror(17), "valid address");
    assert_string_equal(addr_strerror(-99), "unknown address error");
}

static void test_proxy_value(void **state)
{
    static const struct {
        const char *in;
        const char *want; /* NULL: not an smtp: value */
        int primary;
    } cases[] = {
        {"SMTP:John.Doe@example.org", "John.Doe@example.org", 1},
        {"smtp:jd@example.org", "jd@example.org", 0},
        {"Smtp:jd@example.org", "jd@example.org", 0},
        {"sMTP:jd@example.org", "jd@example.org", 0},
        {"SMTP:", "", 1},
        {"X400:c=US;a= ;p=Example;o=Exchange;s=Doe;g=John;", NULL, 0},
        {"x400:c=US;", NULL, 0},
        {"sip:jd@example.org", NULL, 0},
        {"SIP:jd@example.org", NULL, 0},
        {"EUM:1234;phone-context=example.org", NULL, 0},
        {"smtp", NULL, 0},
        {"SMTP", NULL, 0},
        {"smtpx:jd@example.org", NULL, 0},
        {"jd@example.org", NULL, 0},
        {"", NULL, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int primary = -1;
        size_t len = strlen(cases[i].in);
        const char *v = addr_proxy_value(cases[i].in, len, &primary);
        if (cases[i].want == NULL) {
            if (v != NULL)
                fail_msg("'%s': expected NULL, got '%s'", cases[i].in, v);
            continue;
        }
        if (v == NULL)
            fail_msg("'%s': expected '%s', got NULL", cases[i].in, cases[i].want);
        assert_ptr_equal(v, cases[i].in + 5);
        assert_string_equal(v, cases[i].want);
        assert_int_equal(primary, cases[i].primary);
    }
    /* primary may be NULL; the length bounds the prefix test */
    assert_non_null(addr_proxy_value("smtp:a@b", 8, NULL));
    assert_null(addr_proxy_value("smtp:a@b", 4, NULL));
}

static void test_domain(void **state)
{
    size_t dl = 99;
    const char *key = "user@example.org", *d;

    (void)state;
    d = addr_domain(key, strlen(key), &dl);
    assert_ptr_equal(d, key + 5);
    assert_int_equal(dl, 11);
    d = addr_domain("@example.org", 12, &dl);
    assert_int_equal(dl, 11);
    assert_memory_equal(d, "example.org", 11);
    /* an unquoted key of a quoted local part: the domain follows the last '@' */
    d = addr_domain("a@b@example.org", 15, &dl);
    assert_int_equal(dl, 11);
    assert_memory_equal(d, "example.org", 11);
    /* keylen bounds the search */
    d = addr_domain("user@example.org@other", 16, &dl);
    assert_int_equal(dl, 11);
    assert_memory_equal(d, "example.org", 11);
    /* no '@': the whole string is the domain */
    d = addr_domain("example.org", 11, &dl);
    assert_int_equal(dl, 11);
    assert_memory_equal(d, "example.org", 11);
}

/*
 * Every byte value at every position of an address, so each is seen both by the 8-bytes-at-a-
 * time check and by the byte loop behind it: a control character or DEL is ADDR_ERR_CONTROL,
 * a lone byte >= 0x80 is ADDR_ERR_UTF8, anything else is never either of them.
 */
static void test_input_bytes(void **state)
{
    static const char base[] = "abcdefghijklmnop@example.org";
    char in[sizeof(base)], key[ADDR_KEY_SIZE];

    (void)state;
    for (size_t pos = 0; pos < sizeof(base) - 1; pos++) {
        for (int b = 0; b < 256; b++) {
            int rc;

            memcpy(in, base, sizeof(base));
            in[pos] = (char)b;
            rc = addr_normalize(key, sizeof(key), in, sizeof(base) - 1, 0);
            if ((b == ' ' || b == '\t') && (pos == 0 || pos == sizeof(base) - 2))
                continue; /* trimmed */
            if (b < 0x20 || b == 0x7f)
                assert_int_equal(rc, ADDR_ERR_CONTROL);
            else if (b >= 0x80)
                assert_int_equal(rc, ADDR_ERR_UTF8);
            else if (rc == ADDR_ERR_CONTROL || rc == ADDR_ERR_UTF8)
                fail_msg("byte 0x%02x at %zu: %s", (unsigned)b, pos, addr_strerror(rc));
        }
    }
}

/* same_as_general - the one-pass path and the general one agree on in, for every flag set */
static void same_as_general(const char *in, size_t len)
{
    static const unsigned flagsets[] = {0, ADDR_CASE_SENSITIVE, ADDR_CATCHALL,
                                        ADDR_CASE_SENSITIVE | ADDR_CATCHALL};
    char k1[ADDR_KEY_SIZE], k2[ADDR_KEY_SIZE];

    for (size_t f = 0; f < sizeof(flagsets) / sizeof(flagsets[0]); f++) {
        for (size_t size = len; size <= len + 2; size++) { /* around the buffer limit too */
            size_t dstlen = size < sizeof(k1) ? size : sizeof(k1);
            int rc1 = addr_normalize(k1, dstlen, in, len, flagsets[f]);
            int rc2 = addr_normalize(k2, dstlen, in, len, flagsets[f] | ADDR_GENERAL_ONLY);

            if (rc1 != rc2 || (rc1 >= 0 && strcmp(k1, k2) != 0))
                fail_msg("\"%.*s\" flags %u buffer %zu: %d \"%s\", general path %d \"%s\"",
                         (int)len, in, flagsets[f], dstlen, rc1, rc1 >= 0 ? k1 : "", rc2,
                         rc2 >= 0 ? k2 : "");
        }
    }
}

/*
 * The one-pass path for the usual address (addr.c) against the general path: every byte
 * value at every position of a few shapes of address, and the lengths around each limit.
 */
static void test_usual_path(void **state)
{
    static const char *const shapes[] = {
        "Abc.Def+x@Example-1.ORG",
        "a@b.c",
        "\"q\"@d.org",
        "a@[192.0.2.1]",
        "a@b..c",
        "a@b.c.",
        "@b.c",
        "a@b@c",
        "a b@c.d",
        "a@b_c.d",
    };
    char in[ADDR_INPUT_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        size_t len = strlen(shapes[i]);

        same_as_general(shapes[i], len);
        for (size_t pos = 0; pos < len; pos++) {
            for (int b = 0; b < 256; b++) {
                memcpy(in, shapes[i], len);
                in[pos] = (char)b;
                same_as_general(in, len);
            }
        }
    }
    /* local part, label and whole-address lengths on both sides of their limits */
    for (size_t local = 62; local <= 66; local++) {
        for (size_t label = 61; label <= 65; label++) {
            for (size_t labels = 1; labels <= 4; labels++) {
                size_t len = 0;

                memset(in, 'L', local);
                len = local;
                in[len++] = '@';
                for (size_t l = 0; l < labels && len + label + 1 < sizeof(in); l++) {
                    if (l > 0)
                        in[len++] = '.';
                    memset(in + len, 'd', label);
                    len += label;
                }
                same_as_general(in, len);
            }
        }
    }
}

/* candidates: table of key, delimiters, then the expected "match=key" list */
static void fmt_candidates(const struct addr_candidates *c, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->n && off < len; i++) {
        assert_int_equal(c->len[i], strlen(c->key[i]));
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", i ? " " : "",
                                addr_match_name(c->match[i]), c->key[i]);
    }
}

static void test_candidates(void **state)
{
    static const struct {
        const char *key, *delims, *want;
    } cases[] = {
        {"user@d.org", "+", "exact=user@d.org catch-all=@d.org"},
        {"user+tag@d.org", "+", "exact=user+tag@d.org extension=user@d.org catch-all=@d.org"},
        {"user+tag@d.org", "-", "exact=user+tag@d.org catch-all=@d.org"},
        {"user-tag@d.org", "+-", "exact=user-tag@d.org extension=user@d.org catch-all=@d.org"},
        {"user+a-b@d.org", "+-", "exact=user+a-b@d.org extension=user@d.org catch-all=@d.org"},
        {"user-a+b@d.org", "+-", "exact=user-a+b@d.org extension=user@d.org catch-all=@d.org"},
        {"user+a+b@d.org", "+", "exact=user+a+b@d.org extension=user@d.org catch-all=@d.org"},
        {"+x@d.org", "+", "exact=+x@d.org catch-all=@d.org"},
        {"+@d.org", "+", "exact=+@d.org catch-all=@d.org"},
        {"u+@d.org", "+", "exact=u+@d.org extension=u@d.org catch-all=@d.org"},
        {"a+b@d.org", "+", "exact=a+b@d.org extension=a@d.org catch-all=@d.org"},
        {"user+tag@d.org", NULL, "exact=user+tag@d.org catch-all=@d.org"},
        {"user+tag@d.org", "", "exact=user+tag@d.org catch-all=@d.org"},
        {"@d.org", "+", "exact=@d.org"},
        {"d.org", "+", "exact=d.org"},
        {"a@b+c@d.org", "+", "exact=a@b+c@d.org extension=a@b@d.org catch-all=@d.org"},
        {"us.er+tag@sub.d.org", "+.",
         "exact=us.er+tag@sub.d.org extension=us@sub.d.org "
         "catch-all=@sub.d.org"},
    };
    struct addr_candidates c;
    char buf[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&c, 0x5a, sizeof(c));
        addr_candidates(cases[i].key, strlen(cases[i].key), cases[i].delims, &c);
        assert_in_range(c.n, 1, ADDR_MAX_CANDIDATES);
        fmt_candidates(&c, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("candidates of '%s' with '%s': expected '%s', got '%s'", cases[i].key,
                     cases[i].delims ? cases[i].delims : "(null)", cases[i].want, buf);
    }
    /* keylen bounds the key: bytes after it are ignored */
    addr_candidates("user+x@d.orgJUNK", 12, "+", &c);
    fmt_candidates(&c, buf, sizeof(buf));
    assert_string_equal(buf, "exact=user+x@d.org extension=user@d.org catch-all=@d.org");
    /* the longest key still gives all three */
    {
        char key[ADDR_KEY_SIZE];
        int n = addr_normalize(key, sizeof(key),
                               "a+bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@"
                               "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
                               "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
                               "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
                               254, 0);
        assert_int_equal(n, 254);
        addr_candidates(key, (size_t)n, "+", &c);
        assert_int_equal(c.n, 3);
        assert_int_equal(c.len[0], 254);
        assert_int_equal(c.len[1], 1 + 1 + 189);
        assert_int_equal(c.len[2], 1 + 189);
    }
}

static void test_match_name(void **state)
{
    (void)state;
    assert_string_equal(addr_match_name(ADDR_MATCH_EXACT), "exact");
    assert_string_equal(addr_match_name(ADDR_MATCH_EXTENSION), "extension");
    assert_string_equal(addr_match_name(ADDR_MATCH_CATCHALL), "catch-all");
    assert_string_equal(addr_match_name((enum addr_match)42), "?");
}

/* a key is its own normalization (lookupd re-normalizes what syncd stored) */
static void test_idempotent(void **state)
{
    size_t bad = 0, n = sizeof(ncases) / sizeof(ncases[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        char k1[ADDR_KEY_SIZE], k2[ADDR_KEY_SIZE];
        int r1 = addr_normalize(k1, sizeof(k1), ncases[i].in, ncases[i].len, ncases[i].flags), r2;
        if (r1 < 0)
            continue;
        r2 = addr_normalize(k2, sizeof(k2), k1, (size_t)r1, ncases[i].flags);
        if (r2 != r1 || strcmp(k1, k2) != 0) {
            print_error("case %zu: key '%s' of '%s' re-normalizes to %d (%s)\n", i, k1,
                        ncases[i].in, r2, r2 >= 0 ? k2 : addr_strerror(r2));
            bad++;
        }
    }
    if (bad > 0)
        fail_msg("%zu keys do not re-normalize to themselves", bad);
}

/* path_in_top - a path under the source tree (run-tests sets TOP and runs from it) */
static void path_in_top(char *buf, size_t len, const char *rel)
{
    const char *top = getenv("TOP");
    snprintf(buf, len, "%s/%s", top != NULL && *top ? top : ".", rel);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* resolve_line - "input -> key: exact=... extension=... catch-all=..." or the error */
static void resolve_line(FILE *out, const char *in, size_t len)
{
    char key[ADDR_KEY_SIZE], buf[1024];
    struct addr_candidates c;
    int rc = addr_normalize(key, sizeof(key), in, len, 0);

    if (rc < 0) {
        fprintf(out, "%.*s -> error: %s\n", (int)len, in, addr_strerror(rc));
        return;
    }
    addr_candidates(key, (size_t)rc, "+-", &c);
    fmt_candidates(&c, buf, sizeof(buf));
    fprintf(out, "%.*s -> %s: %s\n", (int)len, in, key, buf);
}

static void test_resolve_golden(void **state)
{
    char inpath[4096], refpath[4096], outpath[4096];
    char *in, *ref, *act = NULL;
    size_t inlen, reflen, actlen = 0, pos = 0;
    const char *build = getenv("BUILD");
    FILE *out;

    (void)state;
    path_in_top(inpath, sizeof(inpath), "tests/data/addr/resolve.in");
    path_in_top(refpath, sizeof(refpath), "tests/data/addr/resolve.ref");
    in = slurp(inpath, &inlen);
    if (in == NULL)
        fail_msg("cannot read %s", inpath);
    out = open_memstream(&act, &actlen);
    assert_non_null(out);
    while (pos < inlen) {
        const char *nl = memchr(in + pos, '\n', inlen - pos);
        size_t n = (nl ? (size_t)(nl - in) : inlen) - pos;
        if (n > 0 && in[pos] != '#')
            resolve_line(out, in + pos, n);
        pos += n + 1;
    }
    fclose(out);

    snprintf(outpath, sizeof(outpath), "%s/resolve.out", build != NULL && *build ? build : "/tmp");
    out = fopen(outpath, "wb");
    if (out != NULL) {
        fwrite(act, 1, actlen, out);
        fclose(out);
    }
    ref = slurp(refpath, &reflen);
    if (ref == NULL)
        fail_msg("cannot read %s (the output is in %s)", refpath, outpath);
    if (actlen != reflen || memcmp(act, ref, actlen) != 0) {
        size_t line = 1, i = 0, a = 0, r = 0;
        while (i < actlen && i < reflen && act[i] == ref[i]) {
            if (act[i] == '\n') {
                line++;
                a = r = i + 1;
            }
            i++;
        }
        print_error("resolve.ref differs at output line %zu:\n  expected: %.*s\n  actual:   "
                    "%.*s\n  see: diff -u %s %s\n",
                    line, (int)strcspn(ref + r, "\n"), ref + r, (int)strcspn(act + a, "\n"),
                    act + a, refpath, outpath);
        free(in);
        free(ref);
        free(act);
        fail_msg("golden output mismatch");
    }
    free(in);
    free(ref);
    free(act);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_table),  cmocka_unit_test(test_normalize_lengths),
        cmocka_unit_test(test_normalize_buffer), cmocka_unit_test(test_normalize_explicit_length),
        cmocka_unit_test(test_normalize_domain), cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_proxy_value),      cmocka_unit_test(test_domain),
        cmocka_unit_test(test_candidates),       cmocka_unit_test(test_input_bytes),
        cmocka_unit_test(test_match_name),       cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_resolve_golden),   cmocka_unit_test(test_usual_path),
    };

    return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
