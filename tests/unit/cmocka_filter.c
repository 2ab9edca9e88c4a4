/*
 * cmocka_filter - linked into every unit test binary: when TEST_FILTER is set, only the
 * cmocka tests whose names match it run (cmocka_set_test_filter: '*' and '?' wildcards),
 * e.g. TEST_FILTER='*truncat*' build/tests/test_rcpt. Set before main() by a constructor,
 * so no test's main() has to know. Owns nothing; the pattern is the environment's string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static void cmocka_filter_init(void) __attribute__((constructor));

/* cmocka_filter_init - hand TEST_FILTER to cmocka before the tests run */
static void cmocka_filter_init(void)
{
    const char *pattern = getenv("TEST_FILTER");

    if (pattern != NULL && *pattern != '\0')
        cmocka_set_test_filter(pattern);
}
