/*
 * test_cfg - the table-driven INI reader, on a small key table of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cfg.h"

struct t {
    int sec_main, sec_other, sec_empty;
    char *str;
    char *nodef;
    long long num;
    int flag;
    double ratio;
    struct cfg_list list;
    struct cfg_list multi;
    char *secret;
    char *word;
    struct cfg_list words;
    struct cfg_list lines;
    long long other_num;
};

/* check_word - lower-case letters only */
static int check_word(const char *v, char *err, size_t errlen)
{
    for (const char *p = v; *p; p++) {
        if (*p < 'a' || *p > 'z') {
            snprintf(err, errlen, "'%s' is not a lower-case word", v);
            return -1;
        }
    }
    return 0;
}

#define OFF(f) offsetof(struct t, f)
static const struct cfg_key keys[] = {
    {"main", NULL, CFG_SECTION, NULL, 0, 0, OFF(sec_main), 0, NULL, NULL},
    {"main", "str", CFG_STR, "dflt", 0, 0, OFF(str), 0, NULL, "a string"},
    {"main", "nodef", CFG_STR, NULL, 0, 0, OFF(nodef), 0, NULL, "a string without default"},
    {"main", "num", CFG_INT, "5", 1, 100, OFF(num), 0, NULL, "a number"},
    {"main", "flag", CFG_BOOL, "no", 0, 0, OFF(flag), 0, NULL, "a boolean"},
    {"main", "ratio", CFG_RATIO, "0.5", 0, 1000, OFF(ratio), 0, NULL, "a ratio"},
    {"main", "list", CFG_LIST, "x, y", 0, 0, OFF(list), 0, NULL, "a list"},
    {"main", "multi", CFG_MULTI, NULL, 0, 0, OFF(multi), 0, NULL, "a repeated key"},
    {"main", "secret", CFG_STR, "", 0, 0, OFF(secret), CFG_SECRET, NULL, "a secret file"},
    {"main", "word", CFG_STR, NULL, 0, 0, OFF(word), 0, check_word, "a checked string"},
    {"main", "words", CFG_LIST, NULL, 0, 0, OFF(words), 0, check_word, "a checked list"},
    {"main", "lines", CFG_MULTI, NULL, 0, 0, OFF(lines), 0, check_word, "a checked repeated key"},
    {"other", NULL, CFG_SECTION, NULL, 0, 0, OFF(sec_other), 0, NULL, NULL},
    {"other", "num", CFG_INT, "-3", -10, 10, OFF(other_num), 0, NULL, "same name, other section"},
    {"empty", NULL, CFG_SECTION, NULL, 0, 0, OFF(sec_empty), 0, NULL, NULL},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct fixture {
    struct t t;
    struct cfg_errors errs;
    int rc;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cfg_free(keys, NKEYS, &f->t);
    cfg_errors_free(&f->errs);
    free(f);
    return 0;
}

/* load - text into a fresh target (freeing what an earlier load wrote) */
static int load(struct fixture *f, const char *text, size_t len)
{
    cfg_free(keys, NKEYS, &f->t);
    cfg_errors_free(&f->errs);
    memset(&f->t, 0, sizeof(f->t));
    f->rc = cfg_load_string("t.conf", text, len, keys, NKEYS, &f->t, &f->errs);
    return f->rc;
}

#define LOAD(f, s) load(f, s, strlen(s))

/* expect_errors - exactly these messages, in order */
static void expect_errors(const struct fixture *f, const char *const *want, size_t n)
{
    int same = f->errs.n == n;

    for (size_t i = 0; same && i < n; i++)
        same = strcmp(f->errs.v[i], want[i]) == 0;
    if (!same) {
        print_error("expected %zu errors:\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  %s\n", want[i]);
        print_error("got %zu:\n", f->errs.n);
        for (size_t i = 0; i < f->errs.n; i++)
            print_error("  %s\n", f->errs.v[i]);
        fail_msg("error messages differ");
    }
    assert_int_equal(f->rc, n > 0 ? -1 : 0);
}

#define EXPECT(f, ...)                                                                             \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect_errors(f, want_, sizeof(want_) / sizeof(want_[0]));                                 \
    } while (0)

#define EXPECT_NONE(f) expect_errors(f, NULL, 0)

static void test_defaults(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "");
    EXPECT_NONE(f);
    assert_string_equal(f->t.str, "dflt");
    assert_null(f->t.nodef);
    assert_int_equal(f->t.num, 5);
    assert_int_equal(f->t.flag, 0);
    assert_true(f->t.ratio == 0.5);
    assert_int_equal(f->t.list.n, 2);
    assert_string_equal(f->t.list.v[0], "x");
    assert_string_equal(f->t.list.v[1], "y");
    assert_null(f->t.list.v[2]); /* NULL-terminated */
    assert_int_equal(f->t.multi.n, 0);
    assert_string_equal(f->t.secret, "");
    assert_null(f->t.word);
    assert_int_equal(f->t.other_num, -3);
    assert_int_equal(f->t.sec_main, 0);
    assert_int_equal(f->t.sec_other, 0);
}

static void test_all_types(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "# a comment\n"
            "[main]\n"
            "str = hello world\n"
            "nodef=tight\n"
            "num = 42\n"
            "flag = YES\n"
            "ratio = 0.25\n"
            "list = a, b  c,,d\t e ,\n"
            "multi = first value\n"
            "multi = second, value\n"
            "word = fine\n"
            "words = one two\n"
            "\n"
            "[other]\n"
            "num = -10\n");
    EXPECT_NONE(f);
    assert_string_equal(f->t.str, "hello world");
    assert_string_equal(f->t.nodef, "tight");
    assert_int_equal(f->t.num, 42);
    assert_int_equal(f->t.flag, 1);
    assert_true(f->t.ratio == 0.25);
    assert_int_equal(f->t.list.n, 5);
    assert_string_equal(f->t.list.v[0], "a");
    assert_string_equal(f->t.list.v[1], "b");
    assert_string_equal(f->t.list.v[2], "c");
    assert_string_equal(f->t.list.v[3], "d");
    assert_string_equal(f->t.list.v[4], "e");
    assert_true(cfg_list_has(&f->t.list, "c"));
    assert_false(cfg_list_has(&f->t.list, "x"));
    assert_false(cfg_list_has(&f->t.list, ""));
    assert_int_equal(f->t.multi.n, 2);
    assert_string_equal(f->t.multi.v[0], "first value");
    assert_string_equal(f->t.multi.v[1], "second, value");
    assert_string_equal(f->t.word, "fine");
    assert_int_equal(f->t.words.n, 2);
    assert_int_equal(f->t.other_num, -10);
    assert_int_equal(f->t.sec_main, 2);
    assert_int_equal(f->t.sec_other, 14);
    assert_int_equal(f->t.sec_empty, 0);
}

static void test_bool_words(void **state)
{
    static const struct {
        const char *word;
        int val;
    } words[] = {{"yes", 1}, {"Yes", 1}, {"true", 1},  {"TRUE", 1}, {"on", 1},  {"1", 1},
                 {"no", 0},  {"NO", 0},  {"false", 0}, {"off", 0},  {"Off", 0}, {"0", 0}};
    struct fixture *f = *state;
    char text[128];

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(text, sizeof(text), "[main]\nflag = %s\n", words[i].word);
        f->t.flag = -1;
        LOAD(f, text);
        EXPECT_NONE(f);
        assert_int_equal(f->t.flag, words[i].val);
    }
    LOAD(f, "[main]\nflag = maybe\n");
    EXPECT(f, "t.conf:2: [main] flag: 'maybe' is not yes or no");
    LOAD(f, "[main]\nflag = yes please\n");
    EXPECT(f, "t.conf:2: [main] flag: 'yes please' is not yes or no");
    LOAD(f, "[main]\nflag =\n");
    EXPECT(f, "t.conf:2: [main] flag: '' is not yes or no");
}

static void test_int(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "[main]\nnum = 1\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.num, 1);
    LOAD(f, "[main]\nnum = 100\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.num, 100);
    LOAD(f, "[main]\nnum = 101\n");
    EXPECT(f, "t.conf:2: [main] num: 101 is out of range 1..100");
    assert_int_equal(f->t.num, 5); /* the default stays */
    LOAD(f, "[main]\nnum = 0\n");
    EXPECT(f, "t.conf:2: [main] num: 0 is out of range 1..100");
    LOAD(f, "[main]\nnum = -1\n");
    EXPECT(f, "t.conf:2: [main] num: -1 is out of range 1..100");
    LOAD(f, "\n\n[main]\nnum = abc\n");
    EXPECT(f, "t.conf:4: [main] num: 'abc' is not a whole number");
    LOAD(f, "[main]\nnum = 12abc\n");
    EXPECT(f, "t.conf:2: [main] num: '12abc' is not a whole number");
    LOAD(f, "[main]\nnum = 0x10\n");
    EXPECT(f, "t.conf:2: [main] num: '0x10' is not a whole number");
    LOAD(f, "[main]\nnum = 1.5\n");
    EXPECT(f, "t.conf:2: [main] num: '1.5' is not a whole number");
    LOAD(f, "[main]\nnum =\n");
    EXPECT(f, "t.conf:2: [main] num: '' is not a whole number");
    LOAD(f, "[main]\nnum = 99999999999999999999999\n");
    EXPECT(f, "t.conf:2: [main] num: '99999999999999999999999' is not a whole number");
    LOAD(f, "[other]\nnum = -10\n");
    EXPECT_NONE(f);
    LOAD(f, "[other]\nnum = -11\n");
    EXPECT(f, "t.conf:2: [other] num: -11 is out of range -10..10");
}

static void test_ratio(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "[main]\nratio = 0\n");
    EXPECT_NONE(f);
    assert_true(f->t.ratio == 0.0);
    LOAD(f, "[main]\nratio = 1\n");
    EXPECT_NONE(f);
    assert_true(f->t.ratio == 1.0);
    LOAD(f, "[main]\nratio = 1e-1\n");
    EXPECT_NONE(f);
    assert_true(f->t.ratio == 0.1);
    LOAD(f, "[main]\nratio = 1.5\n");
    EXPECT(f, "t.conf:2: [main] ratio: 1.5 is out of range 0..1");
    LOAD(f, "[main]\nratio = -0.1\n");
    EXPECT(f, "t.conf:2: [main] ratio: -0.1 is out of range 0..1");
    LOAD(f, "[main]\nratio = 10%\n");
    EXPECT(f, "t.conf:2: [main] ratio: '10%' is not a number");
    LOAD(f, "[main]\nratio = nan\n");
    EXPECT(f, "t.conf:2: [main] ratio: 'nan' is not a number");
    LOAD(f, "[main]\nratio = inf\n");
    EXPECT(f, "t.conf:2: [main] ratio: 'inf' is not a number");
    LOAD(f, "[main]\nratio =\n");
    EXPECT(f, "t.conf:2: [main] ratio: '' is not a number");
}

static void test_list_and_multi(void **state)
{
    struct fixture *f = *state;

    /* the file's value replaces the default; an empty value empties the list */
    LOAD(f, "[main]\nlist =\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.list.n, 0);
    LOAD(f, "[main]\nlist = , ,\t,\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.list.n, 0);
    LOAD(f, "[main]\nlist = only\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.list.n, 1);
    assert_string_equal(f->t.list.v[0], "only");
    /* a list key is not repeatable */
    LOAD(f, "[main]\nlist = a\nlist = b\n");
    EXPECT(f, "t.conf:3: [main] list: given more than once");
    assert_int_equal(f->t.list.n, 1);
    assert_string_equal(f->t.list.v[0], "a");
    /* a multi key is, in order, and an empty line adds nothing */
    LOAD(f, "[main]\nmulti = a\nmulti =\nmulti = b c\nmulti = a\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.multi.n, 3);
    assert_string_equal(f->t.multi.v[0], "a");
    assert_string_equal(f->t.multi.v[1], "b c");
    assert_string_equal(f->t.multi.v[2], "a");
    assert_null(f->t.multi.v[3]);
    /* checks run on list items */
    LOAD(f, "[main]\nwords = good, Bad, fine\n");
    EXPECT(f, "t.conf:2: [main] words: 'Bad' is not a lower-case word");
}

static void test_check_callback(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "[main]\nstr = a = b\n"); /* the first '=' separates */
    EXPECT_NONE(f);
    assert_string_equal(f->t.str, "a = b");

    LOAD(f, "[main]\nword = Nope\n");
    EXPECT(f, "t.conf:2: [main] word: 'Nope' is not a lower-case word");
    LOAD(f, "[main]\nword =\n"); /* empty values are not checked */
    EXPECT_NONE(f);
    assert_string_equal(f->t.word, "");
    /* a repeated key: each bad line is reported once, at its own line */
    LOAD(f, "[main]\nlines = good\nlines = Bad\nlines = fine\nlines = ok\n");
    EXPECT(f, "t.conf:3: [main] lines: 'Bad' is not a lower-case word");
    LOAD(f, "[main]\nlines = one\nlines = two\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.lines.n, 2);
}

static void test_sections(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "\n; comment\n[other]\nnum = 1\n[main]\n[ main ]\nstr = s\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.sec_other, 3);
    assert_int_equal(f->t.sec_main, 5); /* the first header counts */
    assert_string_equal(f->t.str, "s");
    /* a section given twice still refuses a repeated key */
    LOAD(f, "[main]\nstr = a\n[other]\n[main]\nstr = b\n");
    EXPECT(f, "t.conf:5: [main] str: given more than once");
    assert_string_equal(f->t.str, "a");
    LOAD(f, "[empty]\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.sec_empty, 1);
}

static void test_errors(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "[main]\n[nope]\nstr = x\nnum = 7\n[main]\nnum = 8\n");
    EXPECT(f, "t.conf:2: unknown section [nope]");
    assert_string_equal(f->t.str, "dflt"); /* keys of the unknown section are skipped */
    assert_int_equal(f->t.num, 8);

    LOAD(f, "[main]\nfoo = bar\n");
    EXPECT(f, "t.conf:2: [main] unknown key 'foo'");
    LOAD(f, "[other]\nstr = x\n");
    EXPECT(f, "t.conf:2: [other] unknown key 'str'");
    LOAD(f, "[main]\n= value\n");
    EXPECT(f, "t.conf:2: [main] unknown key ''");
    LOAD(f, "str = x\n[main]\n");
    EXPECT(f, "t.conf:1: key 'str' outside of any [section]");
    LOAD(f, "[main]\nstr\n");
    EXPECT(f, "t.conf:2: expected 'key = value'");
    LOAD(f, "[main]\nstr = a\nstr = b\n");
    EXPECT(f, "t.conf:3: [main] str: given more than once");
    assert_string_equal(f->t.str, "a");
    LOAD(f, "[main\nstr = x\n");
    EXPECT(f, "t.conf:1: section header without ']'");
    assert_string_equal(f->t.str, "dflt");
    LOAD(f, "[main] junk\n");
    EXPECT(f, "t.conf:1: section header without ']'");
    LOAD(f, "[]\n");
    EXPECT(f, "t.conf:1: unknown section []");

    /* every error of a file is collected, in line order */
    LOAD(f, "x = 1\n[main]\nnum = 0\nflag = maybe\nbogus = 1\nnum = 3\n[zzz]\n");
    EXPECT(f, "t.conf:1: key 'x' outside of any [section]",
           "t.conf:3: [main] num: 0 is out of range 1..100",
           "t.conf:4: [main] flag: 'maybe' is not yes or no",
           "t.conf:5: [main] unknown key 'bogus'", "t.conf:6: [main] num: given more than once",
           "t.conf:7: unknown section [zzz]");
}

static void test_comments(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "# hash comment\n; semicolon comment\n   ; indented\n\t# indented\n[main] ; c\n"
            "str = a;b\nnodef = value ; comment\nword = x\t; tab comment\nmulti = a # b\n"
            "list = ;all comment\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.sec_main, 5);
    assert_string_equal(f->t.str, "a;b");
    assert_string_equal(f->t.nodef, "value");
    assert_string_equal(f->t.word, "x");
    assert_string_equal(f->t.multi.v[0], "a # b");
    assert_int_equal(f->t.list.n, 0);
}

static void test_long_line_and_nul(void **state)
{
    struct fixture *f = *state;
    size_t n = 7 + CFG_MAX_LINE + 1 + 16;
    char *text = malloc(n + 64);
    size_t len;

    assert_non_null(text);
    /* a line of exactly CFG_MAX_LINE bytes is read */
    len = (size_t)sprintf(text, "[main]\nstr = ");
    memset(text + len, 'v', CFG_MAX_LINE - 6);
    len += CFG_MAX_LINE - 6;
    len += (size_t)sprintf(text + len, "\nnum = 9\n");
    load(f, text, len);
    EXPECT_NONE(f);
    assert_int_equal(strlen(f->t.str), CFG_MAX_LINE - 6);
    assert_int_equal(f->t.num, 9);
    /* one byte more is refused, and the next line still has its own number */
    len = (size_t)sprintf(text, "[main]\nstr = ");
    memset(text + len, 'v', CFG_MAX_LINE - 5);
    len += CFG_MAX_LINE - 5;
    len += (size_t)sprintf(text + len, "\nnum = 0\n");
    load(f, text, len);
    EXPECT(f, "t.conf:2: line longer than 8192 bytes",
           "t.conf:3: [main] num: 0 is out of range 1..100");
    assert_string_equal(f->t.str, "dflt");
    free(text);

    {
        static const char nul[] = "[main]\nstr = a\0b\nnum = 0\n";
        load(f, nul, sizeof(nul) - 1);
    }
    EXPECT(f, "t.conf:2: NUL byte in line", "t.conf:3: [main] num: 0 is out of range 1..100");
    assert_string_equal(f->t.str, "dflt");
    /* a last line without its newline, and NUL at the very end */
    load(f, "[main]\nnum = 7", 14);
    EXPECT_NONE(f);
    assert_int_equal(f->t.num, 7);
    load(f, "[main]\nnum = 7\n\0", 16);
    EXPECT(f, "t.conf:3: NUL byte in line");
}

static void test_bom_and_crlf(void **state)
{
    struct fixture *f = *state;

    LOAD(f, "\xef\xbb\xbf[main]\nstr = bom\nnum = 0\n");
    EXPECT(f, "t.conf:3: [main] num: 0 is out of range 1..100");
    assert_int_equal(f->t.sec_main, 1);
    assert_string_equal(f->t.str, "bom");

    /* CRLF: the CR is white space at the end of every line */
    LOAD(f, "[main]\r\nstr = crlf value\r\nflag = yes\r\nnum = 12\r\nlist = a, b\r\n"
            "nodef = x ; comment\r\n\r\n; c\r\n[other]\r\nnum = 2\r\n");
    EXPECT_NONE(f);
    assert_int_equal(f->t.sec_main, 1);
    assert_int_equal(f->t.sec_other, 9);
    assert_string_equal(f->t.str, "crlf value");
    assert_int_equal(f->t.flag, 1);
    assert_int_equal(f->t.num, 12);
    assert_int_equal(f->t.list.n, 2);
    assert_string_equal(f->t.list.v[1], "b");
    assert_string_equal(f->t.nodef, "x");
    assert_int_equal(f->t.other_num, 2);
    LOAD(f, "[main]\r\nnum = 0\r\n");
    EXPECT(f, "t.conf:2: [main] num: 0 is out of range 1..100");
}

static void test_error_cap(void **state)
{
    struct fixture *f = *state;
    size_t cap = 16 + 150 * 16, len = 0;
    char *text = malloc(cap);

    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "[main]\n");
    for (int i = 0; i < 150; i++)
        len += (size_t)snprintf(text + len, cap - len, "bad%d = 1\n", i);
    load(f, text, len);
    assert_int_equal(f->rc, -1);
    assert_int_equal(f->errs.n, CFG_MAX_ERRORS);
    assert_int_equal(f->errs.dropped, 150 - CFG_MAX_ERRORS);
    assert_string_equal(f->errs.v[0], "t.conf:2: [main] unknown key 'bad0'");
    assert_string_equal(f->errs.v[CFG_MAX_ERRORS - 1], "t.conf:101: [main] unknown key 'bad99'");
    free(text);
    /* cfg_error() beyond the cap only counts */
    cfg_error(&f->errs, "one more %d", 1);
    assert_int_equal(f->errs.n, CFG_MAX_ERRORS);
    assert_int_equal(f->errs.dropped, 150 - CFG_MAX_ERRORS + 1);
    cfg_errors_free(&f->errs);
    assert_int_equal(f->errs.n, 0);
    assert_int_equal(f->errs.dropped, 0);
    cfg_error(&f->errs, "x=%s", "y");
    assert_int_equal(f->errs.n, 1);
    assert_string_equal(f->errs.v[0], "x=y");
}

/* secret files: real files in a temporary directory */
static void test_secret(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/test_cfg.XXXXXX", good[64], loose[64], lnk[64], text[256];
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    snprintf(good, sizeof(good), "%s/good", dir);
    snprintf(loose, sizeof(loose), "%s/open", dir);
    snprintf(lnk, sizeof(lnk), "%s/link", dir);
    assert_non_null(fp = fopen(good, "w"));
    fputs("s3cret\n", fp);
    fclose(fp);
    assert_int_equal(chmod(good, 0600), 0);
    assert_non_null(fp = fopen(loose, "w"));
    fputs("s3cret\n", fp);
    fclose(fp);
    assert_int_equal(chmod(loose, 0644), 0);
    assert_int_equal(symlink(good, lnk), 0);

    snprintf(text, sizeof(text), "[main]\nsecret = %s\n", good);
    LOAD(f, text);
    EXPECT_NONE(f);
    assert_string_equal(f->t.secret, good); /* the path is kept, not the secret */

    /* not opened while loading: the program that reads it checks it (schema/confenv.h) */
    snprintf(text, sizeof(text), "[main]\nsecret = %s\n", loose);
    LOAD(f, text);
    EXPECT_NONE(f);
    assert_string_equal(f->t.secret, loose);

    snprintf(text, sizeof(text), "[main]\nsecret = %s/missing\n", dir);
    LOAD(f, text);
    EXPECT_NONE(f);

    LOAD(f, "[main]\nsecret =\n"); /* empty: no secret */
    EXPECT_NONE(f);

    unlink(lnk);
    unlink(loose);
    unlink(good);
    rmdir(dir);
}

/* cfg_load on real files */
static void test_load_file(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/test_cfg.XXXXXX", path[64], want[256];
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.conf", dir);
    assert_non_null(fp = fopen(path, "w"));
    fputs("[main]\nnum = 77\nnope = 1\n", fp);
    fclose(fp);
    cfg_free(keys, NKEYS, &f->t);
    memset(&f->t, 0, sizeof(f->t));
    assert_int_equal(cfg_load(path, keys, NKEYS, &f->t, &f->errs), -1);
    assert_int_equal(f->t.num, 77);
    snprintf(want, sizeof(want), "%s:3: [main] unknown key 'nope'", path);
    assert_int_equal(f->errs.n, 1);
    assert_string_equal(f->errs.v[0], want);
    cfg_errors_free(&f->errs);

    cfg_free(keys, NKEYS, &f->t);
    memset(&f->t, 0, sizeof(f->t));
    assert_int_equal(cfg_load(dir, keys, NKEYS, &f->t, &f->errs), -1);
    snprintf(want, sizeof(want), "%s: not a regular file of at most 1048576 bytes", dir);
    assert_int_equal(f->errs.n, 1);
    assert_string_equal(f->errs.v[0], want);
    cfg_errors_free(&f->errs);

    unlink(path);
    assert_int_equal(cfg_load(path, keys, NKEYS, &f->t, &f->errs), -1);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_int_equal(f->errs.n, 1);
    assert_string_equal(f->errs.v[0], want);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_and_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom_and_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
    };

    return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
