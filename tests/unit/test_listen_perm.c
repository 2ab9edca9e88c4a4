/*
 * test_listen_perm - what listen.h does for hostile neighbours (issue 14): a unix socket is
 * created 0660 by default (or with its configured mode), given to its group through a
 * descriptor, a symbolic link at the path is refused; and which TCP listeners count as
 * loopback (the allow_open rule).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "common/listen.h"

static int setup(void **state)
{
    char *dir = strdup("/tmp/test_listen_perm.XXXXXX");

    if (dir == NULL || mkdtemp(dir) == NULL) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", (char *)*state);
    free(*state);
    return system(cmd) == 0 ? 0 : -1;
}

/* open_unix - listen on DIR/name with mode (0: default); the mode found, or -1 */
static int open_unix(const char *dir, const char *name, unsigned mode, int own, char *err,
                     size_t errlen)
{
    struct listen_spec ls;
    char spec[256];
    struct stat sb;
    int fd;

    snprintf(spec, sizeof(spec), "unix:%s/%s", dir, name);
    assert_int_equal(listen_parse(spec, &ls, err, errlen), 0);
    ls.mode = mode;
    if (own) {
        ls.owner_set = 1;
        ls.uid = -1;
        ls.gid = (long)getgid();
    }
    if ((fd = listen_open(&ls, 4, err, errlen)) < 0)
        return -1;
    close(fd);
    assert_int_equal(lstat(ls.path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    return (int)(sb.st_mode & 07777);
}

static void test_unix_modes(void **state)
{
    char err[256];

    assert_int_equal(open_unix(*state, "default.sock", 0, 0, err, sizeof(err)), 0660);
    assert_int_equal(open_unix(*state, "narrow.sock", 0600, 0, err, sizeof(err)), 0600);
    assert_int_equal(open_unix(*state, "wide.sock", 0666, 0, err, sizeof(err)), 0666);
    assert_int_equal(open_unix(*state, "group.sock", 0, 1, err, sizeof(err)), 0660);
}

static void test_unix_symlink_refused(void **state)
{
    char path[256], target[256], err[256];
    struct stat sb;

    snprintf(target, sizeof(target), "%s/target", (char *)*state);
    snprintf(path, sizeof(path), "%s/link.sock", (char *)*state);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(open_unix(*state, "link.sock", 0, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is not a socket"));
    assert_int_equal(lstat(path, &sb), 0); /* left alone */
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(lstat(target, &sb), -1); /* nothing created through it */
}

static void test_loopback(void **state)
{
    static const struct {
        const char *spec;
        int loopback;
    } cases[] = {
        {"127.0.0.1:1", 1}, {"127.1.2.3:1", 1},   {"[::1]:1", 1},     {"localhost:1", 1},
        {"LOCALHOST:1", 1}, {"unix:/run/x", 1},   {"0.0.0.0:1", 0},   {"[::]:1", 0},
        {"192.0.2.1:1", 0}, {"hub.example:1", 0}, {"128.0.0.1:1", 0}, {"[::2]:1", 0},
    };
    struct listen_spec ls;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(listen_parse(cases[i].spec, &ls, err, sizeof(err)), 0);
        if (listen_is_loopback(&ls) != cases[i].loopback)
            fail_msg("%s: loopback should be %d", cases[i].spec, cases[i].loopback);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unix_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_symlink_refused, setup, teardown),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
