/*
 * test_lookup - the lookup rules of lookupd/lookup.c over a real store written with the
 * schema API: case, the recipient delimiter, catch-all and their pinned order; managed
 * domains (unknown) against foreign ones; staleness turning only "unknown" into a
 * temporary failure; never synced and missing stores; a corrupt record is a temporary
 * failure, never "unknown"; three return values, never two.
 */
#include <ftw.h>
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

#include "lookupd/lookup.h"

#define NOW ((time_t)1800000000)

struct fixture {
    char dir[64];
    struct store *st;
    MDB_txn *txn; /* a read transaction, open during a test */
};

static const struct {
    const char *key, *primary;
    enum rcpt_kind kind;
    enum rcpt_state state;
} records[] = {
    {"alice@example.org", "alice@example.org", RCPT_USER, RCPT_ACTIVE},
    {"al@example.org", "alice@example.org", RCPT_ALIAS, RCPT_ACTIVE},
    {"staff@example.org", "staff@example.org", RCPT_GROUP, RCPT_ACTIVE},
    {"dave@example.com", "dave@example.com", RCPT_USER, RCPT_DISABLED},
    {"frank@example.net", "frank@example.net", RCPT_USER, RCPT_ACTIVE},
    {"off@example.net", "off@example.net", RCPT_USER, RCPT_DISABLED},
    {"@example.net", "@example.net", RCPT_USER, RCPT_ACTIVE},
    {"@closed.test", "@closed.test", RCPT_USER, RCPT_DISABLED},
    {"a-b@example.org", "a-b@example.org", RCPT_USER, RCPT_ACTIVE},
};
static const char *const domains[] = {"example.org", "example.com", "example.net", "closed.test"};

static int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(p);
}

/* put - one raw key/value into a database */
static void put(MDB_txn *txn, struct store *st, enum store_db db, const char *key, const void *val,
                size_t len)
{
    MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {len, (void *)(uintptr_t)val};

    assert_int_equal(mdb_put(txn, store_dbi(st, db), &k, &v, 0), 0);
}

/* fill - write the records, the domains and meta; last_success as given (0: never) */
static void fill(struct store *st, uint64_t last_success)
{
    MDB_txn *txn;

    assert_int_equal(store_begin(st, 0, &txn), 0);
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        unsigned char buf[RCPT_MAX];
        struct rcpt r = {records[i].kind,
                         records[i].state,
                         records[i].key[0] == '@' ? RCPT_FLAG_CATCHALL : 0,
                         records[i].primary,
                         strlen(records[i].primary),
                         "entry-1",
                         7};
        int n = rcpt_encode(buf, sizeof(buf), &r);
        assert_true(n > 0);
        put(txn, st, STORE_ADDR, records[i].key, buf, (size_t)n);
    }
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
        put(txn, st, STORE_DOMAIN, domains[i], "c", 1);
    put(txn, st, STORE_ADDR, "broken@example.org", "\x01\x09garbage", 9);
    assert_int_equal(store_meta_put_u64(txn, st, STORE_META_GENERATION, 42), 0);
    assert_int_equal(store_meta_put_u64(txn, st, STORE_META_LAST_SUCCESS, last_success), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

static int setup_age(void **state, uint64_t last_success)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[128];

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_lookup.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/store", f->dir);
    if (store_open(&f->st, path, 0, 1 << 20) != 0)
        return -1;
    fill(f->st, last_success);
    if (store_begin(f->st, MDB_RDONLY, &f->txn) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup_fresh(void **state)
{
    return setup_age(state, (uint64_t)NOW - 60);
}

static int setup_stale(void **state)
{
    return setup_age(state, (uint64_t)NOW - 100000);
}

static int setup_never(void **state)
{
    return setup_age(state, 0);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    mdb_txn_abort(f->txn);
    store_close(f->st);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static const struct lookup_opts opts = {0, "+", 86400};

/* one - look up s with the default options */
static int one(struct fixture *f, const char *s, struct lookup_answer *a)
{
    return lookup_rcpt(f->txn, f->st, &opts, NOW, s, strlen(s), a);
}

/* The pinned order and every result, fresh store. */
static void test_fresh_table(void **state)
{
    static const struct {
        const char *in;
        int rc;
        enum lookup_result result;
        const char *matched, *primary;
        enum addr_match match;
    } cases[] = {
        {"alice@example.org", 1, LOOKUP_VALID, "alice@example.org", "alice@example.org",
         ADDR_MATCH_EXACT},
        {"  Alice@Example.ORG ", 1, LOOKUP_VALID, "alice@example.org", "alice@example.org",
         ADDR_MATCH_EXACT},
        {"alice+tag@example.org", 1, LOOKUP_VALID, "alice@example.org", "alice@example.org",
         ADDR_MATCH_EXTENSION},
        {"ALICE+a+b@EXAMPLE.ORG", 1, LOOKUP_VALID, "alice@example.org", "alice@example.org",
         ADDR_MATCH_EXTENSION},
        {"al@example.org", 1, LOOKUP_VALID, "al@example.org", "alice@example.org",
         ADDR_MATCH_EXACT},
        {"staff@example.org", 1, LOOKUP_VALID, "staff@example.org", "staff@example.org",
         ADDR_MATCH_EXACT},
        {"dave@example.com", 1, LOOKUP_DISABLED, "dave@example.com", "dave@example.com",
         ADDR_MATCH_EXACT},
        {"dave+x@example.com", 1, LOOKUP_DISABLED, "dave@example.com", "dave@example.com",
         ADDR_MATCH_EXTENSION},
        /* an extension match beats the catch-all; a disabled address beats it too */
        {"frank+x@example.net", 1, LOOKUP_VALID, "frank@example.net", "frank@example.net",
         ADDR_MATCH_EXTENSION},
        {"off@example.net", 1, LOOKUP_DISABLED, "off@example.net", "off@example.net",
         ADDR_MATCH_EXACT},
        {"who@example.net", 1, LOOKUP_VALID, "@example.net", "who@example.net",
         ADDR_MATCH_CATCHALL},
        {"Who+x@Example.NET", 1, LOOKUP_VALID, "@example.net", "who+x@example.net",
         ADDR_MATCH_CATCHALL},
        {"who@closed.test", 1, LOOKUP_DISABLED, "@closed.test", "who@closed.test",
         ADDR_MATCH_CATCHALL},
        /* "+" at the start of the local part is not an extension */
        {"+alice@example.org", 0, LOOKUP_UNKNOWN, "", "", ADDR_MATCH_EXACT},
        {"a-b@example.org", 1, LOOKUP_VALID, "a-b@example.org", "a-b@example.org",
         ADDR_MATCH_EXACT},
        {"nobody@example.org", 0, LOOKUP_UNKNOWN, "", "", ADDR_MATCH_EXACT},
        {"nobody+x@example.com", 0, LOOKUP_UNKNOWN, "", "", ADDR_MATCH_EXACT},
        {"alice@sub.example.org", 0, LOOKUP_FOREIGN, "", "", ADDR_MATCH_EXACT},
        {"x@foreign.test", 0, LOOKUP_FOREIGN, "", "", ADDR_MATCH_EXACT},
        {"not-an-address", 0, LOOKUP_INVALID, "", "", ADDR_MATCH_EXACT},
        {"@example.net", 0, LOOKUP_INVALID, "", "", ADDR_MATCH_EXACT},
        {"", 0, LOOKUP_INVALID, "", "", ADDR_MATCH_EXACT},
    };
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lookup_answer a;
        int rc = one(f, cases[i].in, &a);

        print_message("# %s\n", cases[i].in);
        assert_int_equal(rc, cases[i].rc);
        assert_string_equal(lookup_result_name(a.result), lookup_result_name(cases[i].result));
        if (rc == 1) {
            assert_string_equal(a.matched, cases[i].matched);
            assert_string_equal(a.primary, cases[i].primary);
            assert_int_equal(a.match, cases[i].match);
        }
        if (a.result != LOOKUP_INVALID)
            assert_int_equal(a.generation, 42);
    }
}

static void test_kind_and_key(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;

    assert_int_equal(one(f, "Staff+News@example.org", &a), 1);
    assert_int_equal(a.kind, RCPT_GROUP);
    assert_string_equal(a.key, "staff+news@example.org");
    assert_int_equal(one(f, "al@example.org", &a), 1);
    assert_int_equal(a.kind, RCPT_ALIAS);
}

static void test_corrupt_is_tempfail(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;

    /* the store cannot say what this is: never answer "unknown" */
    assert_int_equal(one(f, "broken@example.org", &a), -1);
    assert_int_equal(a.result, LOOKUP_TEMPFAIL);
    assert_string_equal(a.reason, LOOKUP_REASON_ERROR);
    assert_int_equal(a.store_err, STORE_ERR_CORRUPT);
    assert_int_equal(one(f, "broken+x@example.org", &a), -1);
}

static void test_delimiters(void **state)
{
    struct fixture *f = *state;
    struct lookup_opts o = opts;
    struct lookup_answer a;

    o.delims = "-+";
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "alice-x@example.org", 19, &a), 1);
    /* a-b exists as it is: the exact key comes first */
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "a-b@example.org", 15, &a), 1);
    assert_int_equal(a.match, ADDR_MATCH_EXACT);
    o.delims = "";
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "alice+x@example.org", 19, &a), 0);
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
    o.delims = NULL;
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "alice+x@example.org", 19, &a), 0);
}

static void test_case_sensitive(void **state)
{
    struct fixture *f = *state;
    struct lookup_opts o = opts;
    struct lookup_answer a;

    o.addr_flags = ADDR_CASE_SENSITIVE;
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "Alice@EXAMPLE.org", 17, &a), 0);
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
    assert_string_equal(a.key, "Alice@example.org");
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "alice@EXAMPLE.org", 17, &a), 1);
}

static void test_stale(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;

    assert_int_equal(one(f, "nobody@example.org", &a), -1);
    assert_int_equal(a.result, LOOKUP_TEMPFAIL);
    assert_string_equal(a.reason, LOOKUP_REASON_STALE);
    /* known data is still answered */
    assert_int_equal(one(f, "alice+x@example.org", &a), 1);
    assert_int_equal(a.result, LOOKUP_VALID);
    assert_int_equal(one(f, "who@example.net", &a), 1);
    assert_int_equal(one(f, "dave@example.com", &a), 1);
    assert_int_equal(a.result, LOOKUP_DISABLED);
    assert_int_equal(one(f, "x@foreign.test", &a), 0);
    assert_int_equal(a.result, LOOKUP_FOREIGN);
    assert_int_equal(one(f, "bad", &a), 0);
    assert_int_equal(a.result, LOOKUP_INVALID);
    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "example.org", 11, &a), 1);
}

/* renew - end the fixture's read transaction and start one on the latest snapshot */
static void renew(struct fixture *f)
{
    mdb_txn_abort(f->txn);
    assert_int_equal(store_begin(f->st, MDB_RDONLY, &f->txn), 0);
}

/* del_addr - remove one key from the addr db in a transaction of its own */
static void del_addr(struct fixture *f, const char *key)
{
    MDB_txn *txn;
    MDB_val k = {strlen(key), (void *)(uintptr_t)key};

    assert_int_equal(store_begin(f->st, 0, &txn), 0);
    assert_int_equal(mdb_del(txn, store_dbi(f->st, STORE_ADDR), &k, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/*
 * A store without any catch-all skips the catch-all key; the thread remembers that per
 * snapshot only: a catch-all committed later is found by the next lookup, in the same thread.
 */
static void test_catchall_per_snapshot(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;
    MDB_txn *txn;
    unsigned char buf[RCPT_MAX];
    struct rcpt r = {RCPT_USER, RCPT_ACTIVE, RCPT_FLAG_CATCHALL, "@example.org", 12, "entry-9", 7};
    int n = rcpt_encode(buf, sizeof(buf), &r);

    assert_int_equal(one(f, "who@example.net", &a), 1); /* the fixture's catch-all */
    assert_int_equal(a.match, ADDR_MATCH_CATCHALL);
    del_addr(f, "@example.net");
    del_addr(f, "@closed.test");
    renew(f);
    assert_int_equal(one(f, "who@example.net", &a), 0);
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
    assert_int_equal(one(f, "nobody@example.org", &a), 0);
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
    assert_int_equal(one(f, "al+x@example.org", &a), 1); /* extensions still tried */
    assert_int_equal(a.match, ADDR_MATCH_EXTENSION);

    /* a catch-all appears: the very next snapshot answers with it */
    assert_true(n > 0);
    assert_int_equal(store_begin(f->st, 0, &txn), 0);
    put(txn, f->st, STORE_ADDR, "@example.org", buf, (size_t)n);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(one(f, "nobody@example.org", &a), 0); /* the old snapshot: still unknown */
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
    renew(f);
    assert_int_equal(one(f, "nobody@example.org", &a), 1);
    assert_int_equal(a.result, LOOKUP_VALID);
    assert_int_equal(a.match, ADDR_MATCH_CATCHALL);
    assert_string_equal(a.matched, "@example.org");
    assert_int_equal(one(f, "who@example.net", &a), 0);
    assert_int_equal(a.result, LOOKUP_UNKNOWN);
}

static void test_max_age_boundary(void **state)
{
    struct fixture *f = *state;
    struct lookup_opts o = opts;
    struct lookup_answer a;

    o.max_age = 60; /* last_success is exactly 60 s ago: not yet stale */
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "nobody@example.org", 18, &a), 0);
    o.max_age = 59;
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW, "nobody@example.org", 18, &a), -1);
    /* a clock set back is on the safe side: fresh */
    assert_int_equal(lookup_rcpt(f->txn, f->st, &o, NOW - 1000, "nobody@example.org", 18, &a), 0);
}

static void test_never(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;

    assert_int_equal(one(f, "alice@example.org", &a), -1);
    assert_string_equal(a.reason, LOOKUP_REASON_NEVER);
    assert_int_equal(one(f, "x@foreign.test", &a), -1);
    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "example.org", 11, &a), -1);
    assert_string_equal(a.reason, LOOKUP_REASON_NEVER);
    /* not an address at all: still "not found", whatever the store */
    assert_int_equal(one(f, "bad", &a), 0);
}

static void test_no_store(void **state)
{
    struct lookup_answer a;

    (void)state;
    assert_int_equal(lookup_rcpt(NULL, NULL, &opts, NOW, "alice@example.org", 17, &a), -1);
    assert_int_equal(a.result, LOOKUP_TEMPFAIL);
    assert_string_equal(a.reason, LOOKUP_REASON_NEVER);
    assert_int_equal(a.generation, 0);
    assert_int_equal(lookup_domain(NULL, NULL, &opts, NOW, "example.org", 11, &a), -1);
    assert_int_equal(lookup_rcpt(NULL, NULL, &opts, NOW, "a\nb@example.org", 15, &a), 0);
    assert_int_equal(a.result, LOOKUP_INVALID);
}

static void test_domain(void **state)
{
    struct fixture *f = *state;
    struct lookup_answer a;

    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "Example.ORG.", 12, &a), 1);
    assert_string_equal(a.primary, "example.org");
    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "sub.example.org", 15, &a), 0);
    assert_int_equal(a.result, LOOKUP_FOREIGN);
    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "a@example.org", 13, &a), 0);
    assert_int_equal(a.result, LOOKUP_INVALID);
    assert_int_equal(lookup_domain(f->txn, f->st, &opts, NOW, "bad..dom", 8, &a), 0);
    assert_int_equal(a.result, LOOKUP_INVALID);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(lookup_result_name(LOOKUP_VALID), "valid");
    assert_string_equal(lookup_result_name(LOOKUP_DISABLED), "disabled");
    assert_string_equal(lookup_result_name(LOOKUP_UNKNOWN), "unknown");
    assert_string_equal(lookup_result_name(LOOKUP_FOREIGN), "foreign");
    assert_string_equal(lookup_result_name(LOOKUP_TEMPFAIL), "tempfail");
    assert_string_equal(lookup_result_name(LOOKUP_INVALID), "invalid");
    assert_string_equal(lookup_result_name(LOOKUP_NRESULTS), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_table, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_kind_and_key, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_is_tempfail, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_delimiters, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_case_sensitive, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_stale, setup_stale, teardown),
        cmocka_unit_test_setup_teardown(test_max_age_boundary, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_catchall_per_snapshot, setup_fresh, teardown),
        cmocka_unit_test_setup_teardown(test_never, setup_never, teardown),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test_setup_teardown(test_domain, setup_fresh, teardown),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
