/*
 * test_store_list - schema/store_list's walks (every record, a domain's, stopping early,
 * the entry of a key) over a store a real sync wrote; and the last sync's changes and the
 * refusal count that apply keeps in meta for /metrics.
 */
#include "tests/unit/apply_helpers.h"

#include "schema/err.h"
#include "schema/store_list.h"

static int setup(void **state)
{
    return fixture_setup(state, "/tmp/test_store_list.XXXXXX");
}

static const struct spec base[] = {
    {"id-alice", 0, 0, {"alice@example.org", "a@example.org", "alice@example.com"}},
    {"id-bob", 1, 0, {"bob@example.org"}},
    {"id-staff", 0, 1, {"staff@example.org", "@example.net"}},
};
#define NBASE (sizeof(base) / sizeof(base[0]))

static void synced(struct fixture *f)
{
    struct apply_opts o = base_opts("test");
    struct apply_stats s;

    sync_ok(f->st, base, NBASE, &o, &s);
}

static int add_addr(void *ctx, const char *key, size_t len, const struct rcpt *r)
{
    struct text *t = ctx;
    char line[600];
    int n =
        snprintf(line, sizeof(line), "%.*s %s %s %.*s\n", (int)len, key, rcpt_kind_name(r->kind),
                 rcpt_state_name(r->state), (int)r->primary_len, r->primary);

    text_add(t, line, (size_t)n);
    return 0;
}

static int add_domain(void *ctx, const char *dom, size_t len, enum store_domain_kind kind)
{
    struct text *t = ctx;

    (void)kind;
    text_add(t, dom, len);
    text_add(t, "\n", 1);
    return 0;
}

static int add_entry(void *ctx, const char *id, size_t len, const struct store_entry *e)
{
    struct text *t = ctx;
    const char *k;
    size_t off = 0, n;

    text_add(t, id, len);
    while (store_entry_next(e, &off, &k, &n) == 1) {
        text_add(t, " ", 1);
        text_add(t, k, n);
    }
    text_add(t, "\n", 1);
    return 0;
}

static int stop_at_two(void *ctx, const char *key, size_t len, const struct rcpt *r)
{
    (void)key;
    (void)len;
    (void)r;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

/* walk - run one walk in a read transaction; returns its text (caller frees) */
static char *walk(struct fixture *f, int what, const char *domain, int *rc)
{
    struct text t = {0};
    MDB_txn *txn;

    assert_int_equal(store_begin(f->st, MDB_RDONLY, &txn), 0);
    if (what == 0)
        *rc = store_list_addrs(txn, f->st, domain, add_addr, &t);
    else if (what == 1)
        *rc = store_list_domains(txn, f->st, domain, add_domain, &t);
    else
        *rc = store_list_entries(txn, f->st, domain, add_entry, &t);
    mdb_txn_abort(txn);
    text_add(&t, "", 0);
    return t.p;
}

static void test_walks(void **state)
{
    struct fixture *f = *state;
    char *s;
    int rc;

    synced(f);
    s = walk(f, 0, NULL, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(s, "@example.net alias active staff@example.org\n"
                           "a@example.org alias active alice@example.org\n"
                           "alice@example.com alias active alice@example.org\n"
                           "alice@example.org user active alice@example.org\n"
                           "bob@example.org user disabled bob@example.org\n"
                           "staff@example.org group active staff@example.org\n");
    free(s);
    s = walk(f, 0, "EXAMPLE.net", &rc); /* a domain, its catch-all included, any case */
    assert_string_equal(s, "@example.net alias active staff@example.org\n");
    free(s);
    s = walk(f, 1, NULL, &rc);
    assert_string_equal(s, "example.com\nexample.net\nexample.org\n");
    free(s);
    s = walk(f, 1, "example.com", &rc);
    assert_string_equal(s, "example.com\n");
    free(s);
    s = walk(f, 2, "example.com", &rc); /* the entries with an address there */
    assert_int_equal(rc, 0);
    assert_string_equal(s, "id-alice alice@example.org a@example.org alice@example.com\n");
    free(s);
    s = walk(f, 2, "nowhere.test", &rc);
    assert_string_equal(s, "");
    free(s);
}

static void test_stop_and_entry_of(void **state)
{
    struct fixture *f = *state;
    char id[64];
    MDB_txn *txn;
    int n = 0;

    synced(f);
    assert_int_equal(store_begin(f->st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_list_addrs(txn, f->st, NULL, stop_at_two, &n), 42);
    assert_int_equal(n, 2);
    assert_int_equal(store_entry_of(txn, f->st, "alice@example.com", 17, id, sizeof(id)), 0);
    assert_string_equal(id, "id-alice");
    assert_int_equal(store_entry_of(txn, f->st, "@example.net", 12, id, sizeof(id)), 0);
    assert_string_equal(id, "id-staff");
    assert_int_equal(store_entry_of(txn, f->st, "carol@example.org", 17, id, sizeof(id)),
                     MDB_NOTFOUND);
    assert_int_equal(store_entry_of(txn, f->st, "alice@example.com", 17, id, 4), 0);
    assert_string_equal(id, "id-"); /* cut to the buffer */
    mdb_txn_abort(txn);
    assert_int_equal(store_key_in_domain("a@b.c", 5, "B.C"), 1);
    assert_int_equal(store_key_in_domain("a@xb.c", 6, "b.c"), 0);
    assert_int_equal(store_key_in_domain("ab.c", 4, "b.c"), 0);
}

/* the last sync's changes and the refusals, for /metrics */
static void test_meta_for_metrics(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("test");
    struct apply_stats s;
    struct store_info info;
    MDB_txn *txn;

    synced(f);
    assert_int_equal(meta_u64(f->st, STORE_META_LAST_ADDED), 6);
    assert_int_equal(meta_u64(f->st, STORE_META_LAST_REMOVED), 0);
    assert_int_equal(sync_specs(f->st, base, 1, &o, &s), APPLY_REFUSED); /* 3 of 6 would go */
    assert_int_equal(apply_note_failure(f->st, "test", "refused", s.refusal), 0);
    assert_int_equal(apply_note_failure(f->st, "test", "failed", "down"), 0);
    assert_int_equal(apply_note_failure(f->st, "test", "refused", s.refusal), 0);
    assert_int_equal(store_begin(f->st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_info_read(txn, f->st, &info), 0);
    mdb_txn_abort(txn);
    assert_int_equal(info.refusals, 2);
    assert_string_equal(info.last_result, "refused");
    assert_int_equal(info.last_added, 6); /* the last successful sync's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_entry_of, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_for_metrics, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
