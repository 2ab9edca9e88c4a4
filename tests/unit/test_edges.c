/*
 * test_edges - the hub's table of edges (lookupd/edges.h) on a fake clock: names and their
 * fallback to the address, generations and lag (in generations and seconds, from the ring of
 * hub generations), stale and waiting edges, forgetting, and the bound a client inventing
 * names cannot push real edges out of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookupd/edges.h"

/* field - the integer FIELD of the edge named name in the table's JSON, or -1 when absent */
static long long field(struct edges *t, uint64_t hub_gen, time_t now, const char *name,
                       const char *f)
{
    json_t *a = edges_json(t, hub_gen, now), *e;
    size_t i;
    long long v = -1;

    json_array_foreach(a, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) {
            json_t *x = json_object_get(e, f);
            v = json_is_boolean(x) ? json_is_true(x) : json_integer_value(x);
        }
    }
    json_decref(a);
    return v;
}

static void test_names(void **state)
{
    struct edges *t = edges_new(8, 60, 3600);
    json_t *a;

    (void)state;
    assert_true(edges_name_ok("mx1.example.org"));
    assert_true(edges_name_ok("edge_a-2:b"));
    assert_false(edges_name_ok(""));
    assert_false(edges_name_ok(NULL));
    assert_false(edges_name_ok("a b"));
    assert_false(edges_name_ok("a\"b"));
    assert_false(edges_name_ok("x\n"));
    assert_false(
        edges_name_ok("0123456789012345678901234567890123456789012345678901234567890123")); /* 64 */
    assert_int_equal(edges_seen(t, "mx1", "192.0.2.1", 5, 0, 1000), 1);
    assert_int_equal(edges_seen(t, NULL, "192.0.2.2", 5, 0, 1000), 1);    /* an older edge */
    assert_int_equal(edges_seen(t, "b\"ad", "192.0.2.3", 5, 0, 1000), 1); /* by its address */
    a = edges_json(t, 5, 1000);
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "name")),
                        "192.0.2.2"); /* sorted by name */
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "name")),
                        "192.0.2.3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "address")),
                        "192.0.2.1");
    json_decref(a);
    edges_free(t);
}

static void test_lag(void **state)
{
    struct edges *t = edges_new(8, 60, 3600);

    (void)state;
    edges_hub_generation(t, 10, 1000);
    edges_seen(t, "a", "192.0.2.1", 10, 0, 1000);
    edges_seen(t, "b", "192.0.2.2", 10, 0, 1000);
    assert_int_equal(field(t, 10, 1005, "a", "lag_generations"), 0);
    assert_int_equal(field(t, 10, 1005, "a", "lag_seconds"), 0);
    edges_hub_generation(t, 11, 1010); /* the hub commits at 1010 and 1020 */
    edges_hub_generation(t, 12, 1020);
    edges_seen(t, "a", "192.0.2.1", 12, 0, 1021); /* a follows, b does not */
    assert_int_equal(field(t, 12, 1030, "a", "lag_generations"), 0);
    assert_int_equal(field(t, 12, 1030, "a", "lag_seconds"), 0);
    assert_int_equal(field(t, 12, 1030, "b", "lag_generations"), 2);
    assert_int_equal(field(t, 12, 1030, "b", "lag_seconds"), 20); /* since 11 came, at 1010 */
    edges_seen(t, "b", "192.0.2.2", 11, 0, 1031);
    assert_int_equal(field(t, 12, 1040, "b", "lag_seconds"), 20); /* since 12 came, at 1020 */
    /* a generation older than the ring remembers: at least since its oldest entry */
    for (uint64_t g = 13; g < 13 + EDGES_GENS; g++)
        edges_hub_generation(t, g, (time_t)(1040 + g));
    assert_int_equal(field(t, 12 + EDGES_GENS, 2000, "b", "lag_seconds"),
                     2000 - (1040 + 13 + 0)); /* the ring's oldest is 13 */
    edges_free(t);
}

static void test_stale_forget(void **state)
{
    struct edges *t = edges_new(8, 60, 3600);

    (void)state;
    edges_seen(t, "a", "192.0.2.1", 1, 0, 1000);
    edges_seen(t, "w", "192.0.2.2", 1, 1, 1000); /* its long poll waits */
    assert_int_equal(field(t, 1, 1060, "a", "stale"), 0);
    assert_int_equal(field(t, 1, 1061, "a", "stale"), 1);
    assert_int_equal(field(t, 1, 1061, "a", "seen_ago"), 61);
    assert_int_equal(field(t, 1, 1061, "w", "stale"), 0); /* waiting: seen now */
    assert_int_equal(field(t, 1, 1061, "w", "waiting"), 1);
    edges_seen(t, "w", "192.0.2.2", 1, 0, 1070); /* answered */
    assert_int_equal(field(t, 1, 1131, "w", "stale"), 1);
    assert_int_equal(edges_count(t, NULL), 2);
    assert_int_equal(field(t, 1, 4600, "a", "stale"), 1);
    assert_int_equal(field(t, 1, 4601, "a", "stale"), -1); /* forgotten after an hour */
    assert_int_equal(edges_count(t, NULL), 1);
    edges_free(t);
}

static void test_bounded(void **state)
{
    struct edges *t = edges_new(4, 60, 3600);
    uint64_t dropped;
    char name[32];

    (void)state;
    edges_seen(t, "real1", "192.0.2.1", 1, 0, 1000);
    edges_seen(t, "real2", "192.0.2.2", 1, 1, 1000); /* waiting */
    for (int i = 0; i < 1000; i++) {                 /* a client inventing names */
        snprintf(name, sizeof(name), "fake%d", i);
        edges_seen(t, name, "198.51.100.1", 1, 0, 1001);
    }
    assert_int_equal(edges_count(t, &dropped), 4);
    assert_int_equal(dropped, 998);
    assert_int_equal(field(t, 1, 1002, "real1", "generation"), 1); /* not pushed out */
    assert_int_equal(field(t, 1, 1002, "real2", "generation"), 1);
    /* a stale entry makes room: real1 is stale at 1061, the fakes too */
    assert_int_equal(edges_seen(t, "new", "192.0.2.9", 1, 0, 1100), 1);
    assert_int_equal(field(t, 1, 1100, "real1", "generation"), -1); /* seen longest ago */
    assert_int_equal(field(t, 1, 1100, "real2", "generation"), 1);  /* waiting: kept */
    assert_int_equal(edges_count(t, NULL), 4);
    edges_free(t);
}

static void test_metrics(void **state)
{
    struct edges *t = edges_new(4, 60, 3600);
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    (void)state;
    edges_hub_generation(t, 7, 1000);
    edges_seen(t, "mx1", "192.0.2.1", 5, 0, 1000);
    edges_metrics(t, fp, 7, 1010);
    fclose(fp);
    assert_non_null(strstr(text, "rcptdir_edge_lag_generations{edge=\"mx1\"} 2\n"));
    assert_non_null(strstr(text, "rcptdir_edge_lag_seconds{edge=\"mx1\"} 10\n"));
    assert_non_null(strstr(text, "rcptdir_edge_last_seen_seconds{edge=\"mx1\"} 10\n"));
    assert_non_null(strstr(text, "rcptdir_edge_stale{edge=\"mx1\"} 0\n"));
    assert_non_null(strstr(text, "rcptdir_edges 1\n"));
    free(text);
    edges_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),        cmocka_unit_test(test_lag),
        cmocka_unit_test(test_stale_forget), cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
