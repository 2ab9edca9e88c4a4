/*
 * test_sources - the source registry (syncd/source.h, sources.c): the configuration's source
 * section picks the source of that kind, every registered source fills the fields the
 * interface requires, and describe() says what meta calls the source; no configured source
 * finds none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/cfg.h"
#include "schema/conf.h"
#include "syncd/source.h"

static const struct {
    const char *text;
    enum conf_source kind;
    const char *name, *described;
} cases[] = {
    {"[store]\npath = /tmp/s\n[ldap]\nuri = ldap://127.0.0.1:389\nbase = dc=example,dc=org\n",
     CONF_SOURCE_LDAP, "ldap", "ldap://127.0.0.1:389 dc=example,dc=org"},
    {"[store]\npath = /tmp/s\n[ldif]\npath = /srv/export.ldif\n", CONF_SOURCE_LDIF, "ldif",
     "ldif:/srv/export.ldif"},
    {"[store]\npath = /tmp/s\n[upstream]\nurl = https://hub.example.org:8642\n",
     CONF_SOURCE_UPSTREAM, "upstream", "https://hub.example.org:8642"},
};

static void test_find_each(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg_errors errs = {0};
        const struct source *src;
        struct conf cf;
        char buf[256];

        if (conf_load_string(&cf, cases[i].text, strlen(cases[i].text), 1, &errs) != 0)
            fail_msg("case %zu: %s", i, errs.n ? errs.v[0] : "?");
        assert_int_equal(conf_source(&cf), cases[i].kind);
        src = source_find(&cf);
        assert_non_null(src);
        assert_int_equal(src->conf, cases[i].kind);
        assert_string_equal(src->name, cases[i].name);
        assert_non_null(src->run);
        assert_non_null(src->describe);
        assert_true((src->global_init == NULL) == (src->global_cleanup == NULL));
        src->describe(&cf, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].described);
        conf_free(&cf);
        cfg_errors_free(&errs);
    }
}

static void test_none(void **state)
{
    static const char text[] = "[store]\npath = /tmp/s\n";
    struct cfg_errors errs = {0};
    struct conf cf;

    (void)state;
    assert_int_equal(conf_load_string(&cf, text, strlen(text), 0, &errs), 0);
    assert_int_equal(conf_source(&cf), CONF_SOURCE_NONE);
    assert_null(source_find(&cf));
    conf_free(&cf);
    cfg_errors_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_each),
        cmocka_unit_test(test_none),
    };

    return cmocka_run_group_tests_name("sources", tests, NULL, NULL);
}
