/*
 * test_err - the error registry (schema/err.h): every code has a name of its own, no two
 * codes share a value or a name, none falls in LMDB's range, and LMDB's codes and errno
 * values are named too (through mdb_strerror()); store_strerror() and feed_strerror() are
 * the same function.
 */
#include <errno.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schema/err.h"
#include "schema/feed.h"
#include "schema/store.h"

static const int codes[] = {
    STORE_ERR_NOSTORE, STORE_ERR_NOTSTORE, STORE_ERR_VERSION, STORE_ERR_CORRUPT, APPLY_REFUSED,
    APPLY_BADFEED,     SOURCE_ERR,         FEED_ERR_MAGIC,    FEED_ERR_VERSION,  FEED_ERR_HEADER,
    FEED_ERR_TYPE,     FEED_ERR_LENGTH,    FEED_ERR_RECORD,   FEED_ERR_CHECKSUM, FEED_ERR_COUNT,
    FEED_ERR_TRAILING, FEED_ERR_TRUNCATED, FEED_ERR_STOPPED,  FEED_ERR_KEYED,    FEED_ERR_UNKEYED,
    FEED_ERR_MAC,      SOURCE_ERR_CONFIG,
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static void test_every_code_named(void **state)
{
    char unknown[128];

    (void)state;
    /* what an unregistered value gets (glibc's strerror buffer: copy it) */
    strncpy(unknown, err_strerror(-29999), sizeof(unknown) - 1);
    unknown[sizeof(unknown) - 1] = '\0';
    assert_string_equal(err_strerror(0), "ok");
    for (size_t i = 0; i < NCODES; i++) {
        const char *s = err_strerror(codes[i]);
        assert_true(codes[i] < 0);
        if (codes[i] >= MDB_KEYEXIST && codes[i] <= MDB_LAST_ERRCODE)
            fail_msg("code %d is in LMDB's range", codes[i]);
        if (strcmp(s, unknown) == 0 || strcmp(s, "ok") == 0 || strlen(s) < 8 ||
            strncmp(s, "Unknown error", 13) == 0 || strncmp(s, "Invalid", 7) == 0)
            fail_msg("code %d has no name of its own: '%s'", codes[i], s);
        for (size_t k = 0; k < i; k++) {
            if (codes[k] == codes[i])
                fail_msg("codes %zu and %zu share the value %d", k, i, codes[i]);
            if (strcmp(s, err_strerror(codes[k])) == 0)
                fail_msg("codes %d and %d share the name '%s'", codes[i], codes[k], s);
        }
        assert_ptr_equal(store_strerror(codes[i]), s);
        assert_ptr_equal(feed_strerror(codes[i]), s);
    }
}

static void test_lmdb_and_errno(void **state)
{
    (void)state;
    assert_string_equal(err_strerror(MDB_MAP_FULL), mdb_strerror(MDB_MAP_FULL));
    assert_string_equal(err_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
    assert_string_equal(err_strerror(ENOSPC), strerror(ENOSPC));
    assert_string_equal(err_strerror(EINVAL), strerror(EINVAL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_named),
        cmocka_unit_test(test_lmdb_and_errno),
    };

    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
