/*
 * test_misc - str, log_safe, log_limit, xmalloc, fs_read_secret and listen_parse.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fsutil.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"

/* ---- str ---------------------------------------------------------------------------- */

/* str_hex: every byte value, whole bytes only when dst is short, always terminated */
static void test_str_hex(void **state)
{
    unsigned char all[256];
    char buf[513], small[6];

    (void)state;
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    assert_int_equal(str_hex(buf, sizeof(buf), all, sizeof(all)), 512);
    for (int i = 0; i < 256; i++) {
        char want[3];
        snprintf(want, sizeof(want), "%02x", i);
        assert_memory_equal(buf + 2 * i, want, 2);
    }
    assert_int_equal(buf[512], '\0');
    memset(small, 'X', sizeof(small));
    assert_int_equal(str_hex(small, sizeof(small), "\xab\xcd\xef", 3), 4); /* 2 of 3 fit */
    assert_string_equal(small, "abcd");
    assert_int_equal(small[5], 'X');
    assert_int_equal(str_hex(small, 1, "\xab", 1), 0);
    assert_string_equal(small, "");
    assert_int_equal(str_hex(small, 0, "\xab", 1), 0);
    assert_int_equal(str_hex(buf, sizeof(buf), "", 0), 0);
    assert_string_equal(buf, "");
}

static void test_str_copy(void **state)
{
    char buf[8];

    (void)state;
    assert_int_equal(str_copy(buf, "abc", sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(str_copy(buf, "abcdefg", sizeof(buf)), 7);
    assert_string_equal(buf, "abcdefg");
    assert_int_equal(str_copy(buf, "abcdefghijk", sizeof(buf)), 11);
    assert_string_equal(buf, "abcdefg");
    assert_int_equal(str_copy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
    memset(buf, '#', sizeof(buf));
    assert_int_equal(str_copy(buf, "xyz", 1), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], '#');
    memset(buf, '#', sizeof(buf));
    assert_int_equal(str_copy(buf, "xyz", 0), 3);
    assert_int_equal(buf[0], '#');
}

static void test_str_trim(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"abc", "abc"},
        {"  abc", "abc"},
        {"abc  ", "abc"},
        {"\t abc \t", "abc"},
        {"a b\tc", "a b\tc"},
        {"", ""},
        {" ", ""},
        {" \t \t ", ""},
        {"x", "x"},
        {" x ", "x"},
        {"abc\r", "abc"},
        {"abc\r\n", "abc"},
        {"\r\n abc", "abc"},
        {"a\rb", "a\rb"},
        {"\v abc", "\v abc"},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *r;
        str_copy(buf, cases[i].in, sizeof(buf));
        r = str_trim(buf);
        assert_ptr_equal(r, buf);
        if (strcmp(r, cases[i].out) != 0)
            fail_msg("str_trim('%s'): expected '%s', got '%s'", cases[i].in, cases[i].out, r);
    }
}

static void test_str_is_blank(void **state)
{
    (void)state;
    assert_true(str_is_blank(NULL));
    assert_true(str_is_blank(""));
    assert_true(str_is_blank(" "));
    assert_true(str_is_blank("\t \t"));
    assert_false(str_is_blank("a"));
    assert_false(str_is_blank("  a  "));
    assert_false(str_is_blank("\t."));
}

/* ---- log ---------------------------------------------------------------------------- */

static void test_log_safe(void **state)
{
    char dst[512], src[400];

    (void)state;
    assert_string_equal(log_safe(dst, sizeof(dst), "hello", 5), "hello");
    assert_ptr_equal(log_safe(dst, sizeof(dst), "hello", 5), dst);
    assert_string_equal(log_safe(dst, sizeof(dst), "", 0), "");
    /* len, not the NUL, ends the input; unprintable bytes become '?' */
    assert_string_equal(log_safe(dst, sizeof(dst), "hello world", 5), "hello");
    assert_string_equal(log_safe(dst, sizeof(dst), "a\0b", 3), "a?b");
    assert_string_equal(log_safe(dst, sizeof(dst),
                                 "a\x01"
                                 "b\nc\rd\x7f"
                                 "e\xff"
                                 "f\x80",
                                 12),
                        "a?b?c?d?e?f?");
    assert_string_equal(log_safe(dst, sizeof(dst), "\x1b[31mred", 8), "?[31mred");
    assert_string_equal(log_safe(dst, sizeof(dst), "j\xc3\xbcrgen", 7), "j??rgen");
    assert_string_equal(log_safe(dst, sizeof(dst), " ~", 2), " ~");

    /* LOG_SAFE_MAX bytes are copied, longer input gets "..." */
    memset(src, 'x', sizeof(src));
    log_safe(dst, sizeof(dst), src, LOG_SAFE_MAX);
    assert_int_equal(strlen(dst), LOG_SAFE_MAX);
    log_safe(dst, sizeof(dst), src, LOG_SAFE_MAX + 1);
    assert_int_equal(strlen(dst), LOG_SAFE_MAX + 3);
    assert_memory_equal(dst + LOG_SAFE_MAX, "...", 4);
    log_safe(dst, sizeof(dst), src, sizeof(src));
    assert_int_equal(strlen(dst), LOG_SAFE_MAX + 3);
    assert_string_equal(dst + LOG_SAFE_MAX, "...");

    /* a small dst: NUL-terminated, nothing written past dstlen */
    for (size_t cap = 1; cap <= 12; cap++) {
        memset(dst, '#', 32);
        log_safe(dst, cap, "hello world", 11);
        assert_true(strlen(dst) < cap);
        assert_memory_equal(dst, "hello world", strlen(dst));
        for (size_t k = cap; k < 32; k++)
            assert_int_equal(dst[k], '#');
    }
    memset(dst, '#', 8);
    log_safe(dst, 0, "hello", 5);
    assert_int_equal(dst[0], '#');
    /* cut by LOG_SAFE_MAX and by dst at once */
    memset(dst, '#', sizeof(dst));
    log_safe(dst, LOG_SAFE_MAX + 2, src, sizeof(src));
    assert_int_equal(strlen(dst), LOG_SAFE_MAX + 1);
    assert_int_equal(dst[LOG_SAFE_MAX + 2], '#');
}

static void test_log_levels_keep_errno(void **state)
{
    (void)state;
    log_init("test_misc", 1, LOG_LEVEL_ERR);
    assert_int_equal(log_get_level(), LOG_LEVEL_ERR);
    errno = EPIPE;
    log_warnx("not shown %d", 1);
    log_warn("not shown");
    log_info("not shown");
    log_debug("not shown");
    assert_int_equal(errno, EPIPE);
    log_set_level(LOG_LEVEL_DEBUG);
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    errno = ENOSPC;
    log_debug("# log_debug shown on stderr");
    log_warn("# log_warn shown on stderr");
    assert_int_equal(errno, ENOSPC);
    log_reopen();
    log_set_level(LOG_LEVEL_INFO);
}

static void test_log_limit(void **state)
{
    struct log_limit l = LOG_LIMIT_INIT(60, 3);
    unsigned long held = 99;
    int shown = 0;

    (void)state;
    /* a flood within one window: burst lines, the rest held back */
    for (int i = 0; i < 1000; i++) {
        shown += log_limit_pass(&l, 100, &held);
        assert_int_equal(held, 0);
    }
    assert_int_equal(shown, 3);
    /* still the same window 59 s later */
    assert_int_equal(log_limit_pass(&l, 159, &held), 0);
    /* the next window: shown, and told how many were held back */
    assert_int_equal(log_limit_pass(&l, 160, &held), 1);
    assert_int_equal(held, 998);
    assert_int_equal(log_limit_pass(&l, 161, &held), 1);
    assert_int_equal(held, 0);
    /* the macro's first call always passes (the window starts in the far past) */
    struct log_limit d = LOG_LIMIT_DEFAULT;
    assert_int_equal(log_limit_pass(&d, 0, &held), 1);
    log_init("test_misc", 1, LOG_LEVEL_WARN);
    log_limited(&d, "# log_limited shown on stderr %d", 1);
    log_set_level(LOG_LEVEL_INFO);
}

/* ---- xmalloc ------------------------------------------------------------------------ */

static void test_xmalloc(void **state)
{
    char *s;
    int *v;

    (void)state;
    s = xasprintf("%d-%s-%c", 42, "x", 'y');
    assert_string_equal(s, "42-x-y");
    free(s);
    s = xstrdup("hello");
    assert_string_equal(s, "hello");
    free(s);
    s = xstrndup("hello", 3);
    assert_string_equal(s, "hel");
    free(s);
    s = xstrndup("", 0);
    assert_string_equal(s, "");
    free(s);
    v = xcalloc(4, sizeof(*v));
    for (int i = 0; i < 4; i++)
        assert_int_equal(v[i], 0);
    v = xreallocarray(v, 1000, sizeof(*v));
    v[999] = 7;
    free(v);
    s = xmalloc(0);
    assert_non_null(s);
    free(s);
    s = xcalloc(0, 0);
    assert_non_null(s);
    free(s);
}

/* xreallocarray refuses n * size overflows by exiting 71 (EX_OSERR) */
static void test_xreallocarray_overflow(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        log_init("test_misc", 1, LOG_LEVEL_ERR);
        (void)!freopen("/dev/null", "w", stderr);
        (void)xreallocarray(NULL, SIZE_MAX / 2, 4);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 71);
}

/* ---- fs_read_secret ----------------------------------------------------------------- */

struct sfix {
    char dir[64];
};

static int sfix_setup(void **state)
{
    struct sfix *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_misc.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    *state = f;
    return 0;
}

static int sfix_teardown(void **state)
{
    struct sfix *f = *state;
    static const char *const names[] = {"good", "crlf", "loose", "world", "empty", "nl",   "big",
                                        "max",  "nul",  "two",   "link",  "fifo",  "other"};
    char p[128];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/sub", f->dir);
    rmdir(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* mkfile - dir/name holding len bytes of data, with mode */
static const char *mkfile(const struct sfix *f, const char *name, const char *data, size_t len,
                          mode_t mode)
{
    static char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* expect_secret_error - fs_read_secret fails with the message pre PATH post */
static void expect_secret_error(const char *path, const char *pre, const char *post)
{
    char buf[FS_SECRET_MAX + 1], err[512], want[512];

    memset(err, 0, sizeof(err));
    snprintf(want, sizeof(want), "%s%s%s", pre, path, post);
    assert_int_equal(fs_read_secret(path, buf, sizeof(buf), err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_secret_good(void **state)
{
    struct sfix *f = *state;
    char buf[FS_SECRET_MAX + 1], err[256] = "";
    const char *p;

    p = mkfile(f, "good", "s3cret\n", 7, 0600);
    assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 6);
    assert_string_equal(buf, "s3cret");
    assert_string_equal(err, "");
    /* buf NULL: only checked */
    assert_int_equal(fs_read_secret(p, NULL, 0, err, sizeof(err)), 6);
    /* cap must hold the secret and its NUL */
    assert_int_equal(fs_read_secret(p, buf, 7, err, sizeof(err)), 6);
    assert_int_equal(fs_read_secret(p, buf, 6, err, sizeof(err)), -1);
    {
        char want[256];
        snprintf(want, sizeof(want), "secret in %s is too long", p);
        assert_string_equal(err, want);
    }

    p = mkfile(f, "crlf", "token\r\n", 7, 0400);
    assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 5);
    assert_string_equal(buf, "token");
    p = mkfile(f, "nl", "pass\n\n\n", 7, 0600);
    assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 4);
    assert_string_equal(buf, "pass");
    p = mkfile(f, "two", "no newline at all", 17, 0600);
    assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), 17);
    assert_string_equal(buf, "no newline at all");
}

static void test_secret_max(void **state)
{
    struct sfix *f = *state;
    char data[5000], buf[FS_SECRET_MAX + 1], err[256];
    const char *p;

    memset(data, 'k', sizeof(data));
    p = mkfile(f, "max", data, FS_SECRET_MAX, 0600);
    assert_int_equal(fs_read_secret(p, buf, sizeof(buf), err, sizeof(err)), FS_SECRET_MAX);
    assert_int_equal(strlen(buf), FS_SECRET_MAX);
    p = mkfile(f, "big", data, sizeof(data), 0600);
    expect_secret_error(p, "secret file ", " is larger than 4096 bytes");
    p = mkfile(f, "big", data, FS_SECRET_MAX + 1, 0600);
    expect_secret_error(p, "secret file ", " is larger than 4096 bytes");
}

static void test_secret_refused(void **state)
{
    struct sfix *f = *state;
    const char *p;
    char path[128];

    p = mkfile(f, "loose", "s3cret\n", 7, 0640);
    expect_secret_error(p, "secret file ",
                        " must not be accessible by group or others (chmod 600)");
    p = mkfile(f, "world", "s3cret\n", 7, 0604);
    expect_secret_error(p, "secret file ",
                        " must not be accessible by group or others (chmod 600)");
    p = mkfile(f, "world", "s3cret\n", 7, 0601);
    expect_secret_error(p, "secret file ",
                        " must not be accessible by group or others (chmod 600)");
    p = mkfile(f, "empty", "", 0, 0600);
    expect_secret_error(p, "secret file ", " is empty");
    p = mkfile(f, "empty", "\n", 1, 0600);
    expect_secret_error(p, "secret file ", " is empty");
    p = mkfile(f, "nul", "ab\0cd\n", 6, 0600);
    expect_secret_error(p, "secret file ", " must hold one line without NUL bytes");
    p = mkfile(f, "two", "line one\nline two\n", 18, 0600);
    expect_secret_error(p, "secret file ", " must hold one line without NUL bytes");

    snprintf(path, sizeof(path), "%s/sub", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_secret_error(path, "secret file ", " is not a regular file");
    snprintf(path, sizeof(path), "%s/missing", f->dir);
    expect_secret_error(path, "cannot open secret file ", ": No such file or directory");

    /* a symbolic link is refused, even to a good file */
    p = mkfile(f, "good", "s3cret\n", 7, 0600);
    snprintf(path, sizeof(path), "%s/link", f->dir);
    assert_int_equal(symlink("good", path), 0);
    expect_secret_error(path, "cannot open secret file ", ": Too many levels of symbolic links");
}

/* owned by someone else (needs root to create) */
static void test_secret_owner(void **state)
{
    struct sfix *f = *state;
    const char *p;

    if (geteuid() != 0)
        skip(); /* not root: cannot chown a file to another user; run-tests counts it skipped */
    p = mkfile(f, "other", "s3cret\n", 7, 0600);
    assert_int_equal(chown(p, 4242, 4242), 0);
    {
        char post[256];
        snprintf(post, sizeof(post),
                 " is owned by uid 4242, but this program runs as user root: chown root %s", p);
        expect_secret_error(p, "secret file ", post);
    }
}

/* a FIFO is not a regular file: refused at once, not waited on */
static void test_secret_fifo(void **state)
{
    struct sfix *f = *state;
    char path[128], err[256];
    pid_t pid;
    int status;

    snprintf(path, sizeof(path), "%s/fifo", f->dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(3);
        _exit(fs_read_secret(path, NULL, 0, err, sizeof(err)) == -1 &&
                      strstr(err, "is not a regular file") != NULL
                  ? 0
                  : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        fail_msg("fs_read_secret(\"%s\") on a FIFO blocked in open() for 3 s", path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- listen ------------------------------------------------------------------------- */

static void test_listen_parse(void **state)
{
    static const struct {
        const char *spec;
        int is_unix;
        const char *host, *port, *path, *formatted;
    } good[] = {
        {"inet:127.0.0.1:8641", 0, "127.0.0.1", "8641", "", "inet:127.0.0.1:8641"},
        {"127.0.0.1:8642", 0, "127.0.0.1", "8642", "", "inet:127.0.0.1:8642"},
        {"localhost:25", 0, "localhost", "25", "", "inet:localhost:25"},
        {"[::1]:1", 0, "::1", "1", "", "inet:[::1]:1"},
        {"inet:[2001:db8::1]:65535", 0, "2001:db8::1", "65535", "", "inet:[2001:db8::1]:65535"},
        {"inet:0.0.0.0:08641", 0, "0.0.0.0", "8641", "", "inet:0.0.0.0:8641"},
        {"unix:/run/x", 1, "", "", "/run/x", "unix:/run/x"},
        {"unix:/run/rcptdir/socketmap", 1, "", "", "/run/rcptdir/socketmap",
         "unix:/run/rcptdir/socketmap"},
    };
    static const struct {
        const char *spec, *err;
    } bad[] = {
        {"unix:run/x", "'unix:run/x': a unix socket needs an absolute path"},
        {"unix:", "'unix:': a unix socket needs an absolute path"},
        {"127.0.0.1:0", "'127.0.0.1:0': port must be 1..65535"},
        {"127.0.0.1:65536", "'127.0.0.1:65536': port must be 1..65535"},
        {"127.0.0.1:abc", "'127.0.0.1:abc': port must be 1..65535"},
        {"127.0.0.1:80x", "'127.0.0.1:80x': port must be 1..65535"},
        {"127.0.0.1:-1", "'127.0.0.1:-1': port must be 1..65535"},
        {"127.0.0.1:99999999999999999999", "'127.0.0.1:99999999999999999999': port must be "
                                           "1..65535"},
        {"127.0.0.1:", "'127.0.0.1:': port must be 1..65535"},
        {"127.0.0.1", "'127.0.0.1': expected inet:HOST:PORT or unix:/PATH"},
        {"inet:127.0.0.1", "'inet:127.0.0.1': expected inet:HOST:PORT or unix:/PATH"},
        {":8641", "':8641': expected inet:HOST:PORT or unix:/PATH"},
        {"", "'': expected inet:HOST:PORT or unix:/PATH"},
        {"::1:8641", "'::1:8641': bad host (write IPv6 as [addr])"},
        {"inet:2001:db8::1:25", "'inet:2001:db8::1:25': bad host (write IPv6 as [addr])"},
        {"[::1]", "'[::1]': expected [IPv6]:PORT"},
        {"[::1]8641", "'[::1]8641': expected [IPv6]:PORT"},
        {"[::1:8641", "'[::1:8641': expected [IPv6]:PORT"},
        {"[::1]:", "'[::1]:': port must be 1..65535"},
        /* an empty host would mean every interface: say so with the address, not with [] */
        {"[]:8641", "'[]:8641': expected [IPv6]:PORT"},
    };
    struct listen_spec ls;
    char err[256], fmt[512];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        err[0] = '\0';
        if (listen_parse(good[i].spec, &ls, err, sizeof(err)) != 0)
            fail_msg("listen_parse('%s') failed: %s", good[i].spec, err);
        assert_int_equal(ls.is_unix, good[i].is_unix);
        assert_string_equal(ls.host, good[i].host);
        assert_string_equal(ls.port, good[i].port);
        assert_string_equal(ls.path, good[i].path);
        listen_format(&ls, fmt, sizeof(fmt));
        assert_string_equal(fmt, good[i].formatted);
        assert_int_equal(listen_check(good[i].spec, err, sizeof(err)), 0);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (listen_parse(bad[i].spec, &ls, err, sizeof(err)) != -1)
            fail_msg("listen_parse('%s') accepted it", bad[i].spec);
        if (strcmp(err, bad[i].err) != 0)
            fail_msg("listen_parse('%s'): expected \"%s\", got \"%s\"", bad[i].spec, bad[i].err,
                     err);
        assert_int_equal(listen_check(bad[i].spec, err, sizeof(err)), -1);
    }
}

static void test_listen_lengths(void **state)
{
    char spec[400], err[256];
    struct listen_spec ls;

    (void)state;
    /* the longest unix path that fits sun_path, and one more */
    memcpy(spec, "unix:/", 6);
    memset(spec + 6, 'p', LISTEN_PATH_MAX - 2);
    spec[6 + LISTEN_PATH_MAX - 2] = '\0';
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), 0);
    assert_int_equal(strlen(ls.path), LISTEN_PATH_MAX - 1);
    memcpy(spec + 6 + LISTEN_PATH_MAX - 2, "p", 2);
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "socket path too long"));
    /* a host name of 255 fits, 256 does not */
    memset(spec, 'h', LISTEN_HOST_MAX - 1);
    strcpy(spec + LISTEN_HOST_MAX - 1, ":25");
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), 0);
    assert_int_equal(strlen(ls.host), LISTEN_HOST_MAX - 1);
    memset(spec, 'h', LISTEN_HOST_MAX);
    strcpy(spec + LISTEN_HOST_MAX, ":25");
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), -1);
    spec[0] = '[';
    memset(spec + 1, 'a', LISTEN_HOST_MAX);
    strcpy(spec + 1 + LISTEN_HOST_MAX, "]:25");
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "host too long"));
}

static void test_listen_open_unix(void **state)
{
    struct sfix *f = *state;
    struct listen_spec ls;
    char spec[160], err[256];
    struct stat sb;
    int fd, fd2;

    snprintf(spec, sizeof(spec), "unix:%s/fifo", f->dir); /* the name is cleaned up */
    assert_int_equal(listen_parse(spec, &ls, err, sizeof(err)), 0);
    fd = listen_open(&ls, 16, err, sizeof(err));
    if (fd < 0)
        fail_msg("listen_open(%s): %s", spec, err);
    assert_int_equal(lstat(ls.path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    /* a stale socket file is replaced */
    fd2 = listen_open(&ls, 16, err, sizeof(err));
    if (fd2 < 0)
        fail_msg("listen_open over a socket file: %s", err);
    close(fd2);
    close(fd);
    unlink(ls.path);
    /* anything else at the path is left alone */
    mkfile(f, "fifo", "data", 4, 0600);
    assert_int_equal(listen_open(&ls, 16, err, sizeof(err)), -1);
    {
        char want[256];
        snprintf(want, sizeof(want), "%s exists and is not a socket", ls.path);
        assert_string_equal(err, want);
    }
    assert_int_equal(lstat(ls.path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
}

static void test_listen_open_inet(void **state)
{
    struct listen_spec ls;
    char err[256];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd;

    (void)state;
    assert_int_equal(listen_parse("inet:127.0.0.1:1", &ls, err, sizeof(err)), 0);
    strcpy(ls.port, "0"); /* any free port */
    fd = listen_open(&ls, 16, err, sizeof(err));
    if (fd < 0)
        fail_msg("listen_open 127.0.0.1:0: %s", err);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    close(fd);
    assert_int_equal(listen_parse("inet:192.0.2.1:8641", &ls, err, sizeof(err)), 0);
    assert_int_equal(listen_open(&ls, 16, err, sizeof(err)), -1); /* not our address */
    assert_true(err[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_copy),
        cmocka_unit_test(test_str_hex),
        cmocka_unit_test(test_str_trim),
        cmocka_unit_test(test_str_is_blank),
        cmocka_unit_test(test_log_safe),
        cmocka_unit_test(test_log_levels_keep_errno),
        cmocka_unit_test(test_log_limit),
        cmocka_unit_test(test_xmalloc),
        cmocka_unit_test(test_xreallocarray_overflow),
        cmocka_unit_test_setup_teardown(test_secret_good, sfix_setup, sfix_teardown),
        cmocka_unit_test_setup_teardown(test_secret_max, sfix_setup, sfix_teardown),
        cmocka_unit_test_setup_teardown(test_secret_refused, sfix_setup, sfix_teardown),
        cmocka_unit_test_setup_teardown(test_secret_owner, sfix_setup, sfix_teardown),
        cmocka_unit_test_setup_teardown(test_secret_fifo, sfix_setup, sfix_teardown),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_listen_lengths),
        cmocka_unit_test_setup_teardown(test_listen_open_unix, sfix_setup, sfix_teardown),
        cmocka_unit_test(test_listen_open_inet),
    };

    return cmocka_run_group_tests_name("misc", tests, NULL, NULL);
}
