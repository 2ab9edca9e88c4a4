/*
 * test_apply - one sync as one write transaction over a real store in a temporary
 * directory: first sync, a re-sync that changes nothing, a modification and its change-log
 * records, the safety rules (max_delete_ratio, empty sync, --force, --dry-run), conflicts
 * resolved the same way in either order, configured and derived domains, change-log
 * trimming and overflow, MDB_MAP_FULL then store_grow() and the same sync again, and
 * apply_note_failure().
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

#include <cmocka.h>

#include "common/log.h"
#include "schema/rcpt.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "tests/unit/apply_helpers.h"

static int setup(void **state)
{
    return fixture_setup(state, "/tmp/test_apply.XXXXXX");
}

static struct apply_opts opts(void)
{
    return base_opts("test");
}

/* ---- reading the store back (more in apply_helpers.h) ------------------------------- */

static void meta_str(struct store *st, const char *name, char *buf, size_t cap)
{
    MDB_txn *txn;
    int rc;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    rc = store_meta_get(txn, st, name, buf, cap);
    if (rc == MDB_NOTFOUND)
        buf[0] = '\0';
    else
        assert_int_equal(rc, 0);
    mdb_txn_abort(txn);
}

/* expect_rcpt - the stored record of key */
static void expect_rcpt(struct store *st, const char *key, enum rcpt_kind kind,
                        enum rcpt_state state, const char *primary, const char *entry)
{
    MDB_txn *txn;
    struct rcpt r;
    int rc;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    rc = store_addr_get(txn, st, key, strlen(key), &r);
    if (rc != 0)
        fail_msg("%s: %s", key, store_strerror(rc));
    if (r.kind != kind || r.state != state)
        fail_msg("%s: expected %s/%s, got %s/%s", key, rcpt_kind_name(kind), rcpt_state_name(state),
                 rcpt_kind_name(r.kind), rcpt_state_name(r.state));
    if (r.primary_len != strlen(primary) || memcmp(r.primary, primary, r.primary_len) != 0)
        fail_msg("%s: expected primary %s, got %.*s", key, primary, (int)r.primary_len, r.primary);
    if (r.entry_len != strlen(entry) || memcmp(r.entry, entry, r.entry_len) != 0)
        fail_msg("%s: expected entry %s, got %.*s", key, entry, (int)r.entry_len, r.entry);
    assert_int_equal(r.flags, key[0] == '@' ? RCPT_FLAG_CATCHALL : 0);
    mdb_txn_abort(txn);
}

static void expect_no_rcpt(struct store *st, const char *key)
{
    MDB_txn *txn;
    struct rcpt r;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    if (store_addr_get(txn, st, key, strlen(key), &r) != MDB_NOTFOUND)
        fail_msg("%s: still in the store", key);
    mdb_txn_abort(txn);
}

/*
 * check_log - the promise of log_floor: "changes after G are logged iff G >= floor", so
 * every generation in (floor, generation] has its records in the log (a generation only
 * goes up when something changed), and nothing older than floor + 1 is left
 */
static void check_log(struct store *st, const char *when)
{
    uint64_t floor = meta_u64(st, STORE_META_LOG_FLOOR), gen = meta_u64(st, STORE_META_GENERATION);
    static struct logrec log[4096];
    size_t n = read_log(st, log, 4096);

    for (uint64_t g = floor + 1; g <= gen; g++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = log[i].gen == g;
        if (!found)
            fail_msg("%s: generation %llu, log_floor %llu, but the log (%zu records) has nothing "
                     "of generation %llu: a reader at %llu would miss those changes",
                     when, (unsigned long long)gen, (unsigned long long)floor, n,
                     (unsigned long long)g, (unsigned long long)(g - 1));
    }
    for (size_t i = 0; i < n; i++)
        if (log[i].gen <= floor || log[i].gen > gen)
            fail_msg("%s: log record of generation %llu outside (%llu, %llu]", when,
                     (unsigned long long)log[i].gen, (unsigned long long)floor,
                     (unsigned long long)gen);
}

/* ---- data used by several tests ----------------------------------------------------- */

static const struct spec base[] = {
    {"id-alice", 0, 0, {"alice@example.org", "a@example.org", "alice@example.com"}},
    {"id-bob", 1, 0, {"bob@example.org"}},
    {"id-staff", 0, 1, {"staff@example.org", "@example.net"}},
};
#define NBASE (sizeof(base) / sizeof(base[0]))

/* many - n entries "uNNNN@example.org", ids "id-NNNN" (static storage, reused) */
static const struct spec *many(size_t n)
{
    static struct spec *specs;
    static char(*keys)[32], (*ids)[32];
    static size_t have;

    if (n > have) {
        specs = realloc(specs, n * sizeof(*specs));
        keys = realloc(keys, n * sizeof(*keys));
        ids = realloc(ids, n * sizeof(*ids));
        assert_non_null(specs);
        assert_non_null(keys);
        assert_non_null(ids);
        have = n;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], sizeof(keys[i]), "u%04zu@example.org", i);
        snprintf(ids[i], sizeof(ids[i]), "id-%04zu", i);
        memset(&specs[i], 0, sizeof(specs[i]));
        specs[i].id = ids[i];
        specs[i].addrs[0] = keys[i];
    }
    return specs;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_first_sync(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct apply *a;
    struct sync_entry e;
    char buf[STORE_META_MAX];
    char *d;

    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 0);
    memset(&e, 0, sizeof(e));
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_full_start(a), 0);
    for (size_t i = 0; i < NBASE; i++) {
        build(&e, &base[i]);
        assert_int_equal(apply_full_entry(a, &e), 0);
    }
    entry_free(&e);
    assert_int_equal(apply_commit(a, 4, &s), 0);

    assert_int_equal(s.added, 6);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.removed, 0);
    assert_int_equal(s.unchanged, 0);
    assert_int_equal(s.conflicts, 0);
    assert_int_equal(s.entries_seen, 3);
    assert_int_equal(s.addresses, 6);
    assert_int_equal(s.entries, 3);
    assert_int_equal(s.domains, 3);
    assert_int_equal(s.domains_added, 3);
    assert_int_equal(s.domains_removed, 0);
    assert_int_equal(s.previous, 0);
    assert_int_equal(s.generation, 1);
    assert_int_equal(s.committed, 1);
    assert_string_equal(s.refusal, "");

    expect_rcpt(f->st, "alice@example.org", RCPT_USER, RCPT_ACTIVE, "alice@example.org",
                "id-alice");
    expect_rcpt(f->st, "a@example.org", RCPT_ALIAS, RCPT_ACTIVE, "alice@example.org", "id-alice");
    expect_rcpt(f->st, "alice@example.com", RCPT_ALIAS, RCPT_ACTIVE, "alice@example.org",
                "id-alice");
    expect_rcpt(f->st, "bob@example.org", RCPT_USER, RCPT_DISABLED, "bob@example.org", "id-bob");
    expect_rcpt(f->st, "staff@example.org", RCPT_GROUP, RCPT_ACTIVE, "staff@example.org",
                "id-staff");
    expect_rcpt(f->st, "@example.net", RCPT_ALIAS, RCPT_ACTIVE, "staff@example.org", "id-staff");
    expect_domains(f->st, "example.com:d example.net:d example.org:d");

    /* entry -> mark, state, kind, then its keys, 2-byte LE length + bytes each */
    d = dump(f->st, STORE_ENTRY);
    {
        struct text t = {0};
        static const unsigned char staff[] =
            "\xff\xff\x01\x02\x02\x00\x11\x00staff@example.org\x0c\x00@example.net";
        text_hex(&t, "id-staff", 8);
        text_add(&t, "=", 1);
        text_hex(&t, staff, sizeof(staff) - 1);
        assert_non_null(strstr(d, t.p));
        free(t.p);
    }
    free(d);
    assert_int_equal(db_count(f->st, STORE_ENTRY), 3);

    /* a first sync is not logged; readers start from a snapshot */
    assert_int_equal(db_count(f->st, STORE_LOG), 0);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 1);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);
    assert_int_equal(meta_u64(f->st, STORE_META_ADDRESSES), 6);
    assert_int_equal(meta_u64(f->st, STORE_META_ENTRIES), 3);
    assert_int_equal(meta_u64(f->st, STORE_META_DOMAINS), 3);
    assert_int_equal(meta_u64(f->st, STORE_META_INVALID), 4);
    assert_int_equal(meta_u64(f->st, STORE_META_CONFLICTS), 0);
    assert_true(meta_u64(f->st, STORE_META_LAST_SUCCESS) > 0);
    assert_true(meta_u64(f->st, STORE_META_LAST_ATTEMPT) > 0);
    meta_str(f->st, STORE_META_LAST_RESULT, buf, sizeof(buf));
    assert_string_equal(buf, "ok");
    meta_str(f->st, STORE_META_LAST_ERROR, buf, sizeof(buf));
    assert_string_equal(buf, "");
    meta_str(f->st, STORE_META_SOURCE, buf, sizeof(buf));
    assert_string_equal(buf, "test");
}

static void test_resync_unchanged(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec reversed[] = {base[2], base[1], base[0]};
    char *before, *after;

    sync_ok(f->st, base, NBASE, &o, &s);
    before = dump_data(f->st);

    sync_ok(f->st, base, NBASE, &o, &s);
    assert_int_equal(s.added + s.changed + s.removed, 0);
    assert_int_equal(s.domains_added + s.domains_removed, 0);
    assert_int_equal(s.unchanged, 6);
    assert_int_equal(s.previous, 6);
    assert_int_equal(s.generation, 1);
    assert_int_equal(s.committed, 1);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);
    after = dump_data(f->st);
    assert_string_equal(before, after);
    free(after);

    /* another order of the same entries: still nothing */
    sync_ok(f->st, reversed, NBASE, &o, &s);
    assert_int_equal(s.added + s.changed + s.removed, 0);
    assert_int_equal(s.generation, 1);
    after = dump_data(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

static void test_modify(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct spec mod[NBASE];
    struct logrec log[16];
    size_t n;

    o.max_delete_ratio = 0.2; /* 1 of 6 may go */
    sync_ok(f->st, base, NBASE, &o, &s);
    memcpy(mod, base, sizeof(mod));
    mod[0].addrs[1] = "a2@example.org"; /* was a@example.org */
    sync_ok(f->st, mod, NBASE, &o, &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.unchanged, 5);
    assert_int_equal(s.generation, 2);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 2);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 1);
    expect_no_rcpt(f->st, "a@example.org");
    expect_rcpt(f->st, "a2@example.org", RCPT_ALIAS, RCPT_ACTIVE, "alice@example.org", "id-alice");

    n = read_log(f->st, log, 16);
    assert_int_equal(n, 2);
    assert_int_equal(log[0].gen, 2);
    assert_int_equal(log[0].seq, 0);
    assert_int_equal(log[0].op, '+');
    assert_string_equal(log[0].key, "a2@example.org");
    assert_true(log[0].has_rec);
    assert_int_equal(log[0].r.kind, RCPT_ALIAS);
    assert_int_equal(log[0].r.state, RCPT_ACTIVE);
    assert_string_equal(log[0].primary, "alice@example.org");
    assert_string_equal(log[0].entry, "id-alice");
    assert_int_equal(log[1].gen, 2);
    assert_int_equal(log[1].seq, 1);
    assert_int_equal(log[1].op, '-');
    assert_string_equal(log[1].key, "a@example.org");
    assert_false(log[1].has_rec);

    /* bob is enabled: one '~' record with the new state */
    mod[1].disabled = 0;
    sync_ok(f->st, mod, NBASE, &o, &s);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.added + s.removed, 0);
    assert_int_equal(s.generation, 3);
    n = read_log(f->st, log, 16);
    assert_int_equal(n, 3);
    assert_int_equal(log[2].gen, 3);
    assert_int_equal(log[2].seq, 0);
    assert_int_equal(log[2].op, '~');
    assert_string_equal(log[2].key, "bob@example.org");
    assert_true(log[2].has_rec);
    assert_int_equal(log[2].r.state, RCPT_ACTIVE);
    expect_rcpt(f->st, "bob@example.org", RCPT_USER, RCPT_ACTIVE, "bob@example.org", "id-bob");

    /* the primary changes: every address of the entry changes its record */
    mod[0].addrs[0] = "alice@example.com";
    mod[0].addrs[2] = "alice@example.org";
    sync_ok(f->st, mod, NBASE, &o, &s);
    assert_int_equal(s.changed, 3);
    assert_int_equal(s.added + s.removed, 0);
    assert_int_equal(s.generation, 4);
    expect_rcpt(f->st, "alice@example.org", RCPT_ALIAS, RCPT_ACTIVE, "alice@example.com",
                "id-alice");
    expect_rcpt(f->st, "alice@example.com", RCPT_USER, RCPT_ACTIVE, "alice@example.com",
                "id-alice");
}

/* an address moves from one entry to another: one '~', nothing added or removed */
static void test_move_and_remove_entry(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec *m = many(30);
    struct spec specs[31];
    struct logrec log[64];
    size_t n;

    memcpy(specs, m, 30 * sizeof(*specs));
    specs[30] = (struct spec){"id-x", 0, 0, {"x@example.org", "moving@example.org"}};
    sync_ok(f->st, specs, 31, &o, &s);
    specs[30].addrs[1] = NULL;
    specs[0].addrs[1] = "moving@example.org";
    sync_ok(f->st, specs, 31, &o, &s);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.added + s.removed, 0);
    expect_rcpt(f->st, "moving@example.org", RCPT_ALIAS, RCPT_ACTIVE, "u0000@example.org",
                "id-0000");

    /* id-x goes away: its address and its entry record go (1 of 32 <= 10 %) */
    sync_ok(f->st, specs, 30, &o, &s);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.entries, 30);
    expect_no_rcpt(f->st, "x@example.org");
    assert_int_equal(db_count(f->st, STORE_ENTRY), 30);
    n = read_log(f->st, log, 64);
    assert_int_equal(n, 2);
    assert_int_equal(log[1].op, '-');
    assert_string_equal(log[1].key, "x@example.org");
    assert_int_equal(log[1].gen, 3);
}

/* the same entry id twice in one sync (overlapping bases) counts once */
static void test_duplicate_entry(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec twice[] = {base[0], base[0], base[1]};

    sync_ok(f->st, twice, 3, &o, &s);
    assert_int_equal(s.entries_seen, 2);
    assert_int_equal(s.added, 4);
    assert_int_equal(s.conflicts, 0);
    assert_int_equal(s.entries, 2);
}

static void test_delete_ratio(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec *m = many(20);
    char *before, *after;
    int rc;

    sync_ok(f->st, m, 20, &o, &s);
    before = dump_all(f->st);

    /* 3 of 20 > 10 %: refused, nothing written (data, generation, meta) */
    rc = sync_specs(f->st, m, 17, &o, &s);
    assert_int_equal(rc, APPLY_REFUSED);
    assert_int_equal(s.removed, 3);
    assert_int_equal(s.previous, 20);
    assert_int_equal(s.committed, 0);
    assert_non_null(strstr(s.refusal, "refused"));
    assert_non_null(strstr(s.refusal, "3 of 20"));
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);

    /* 2 of 20 = 10 %: allowed */
    sync_ok(f->st, m, 18, &o, &s);
    assert_int_equal(s.removed, 2);
    assert_int_equal(s.generation, 2);
    assert_int_equal(s.addresses, 18);
    free(before);

    /* 3 of 18: refused; forced: applied, and the refusal is still reported */
    before = dump_all(f->st);
    assert_int_equal(sync_specs(f->st, m, 15, &o, &s), APPLY_REFUSED);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);
    o.force = 1;
    sync_ok(f->st, m, 15, &o, &s);
    assert_int_equal(s.committed, 1);
    assert_int_equal(s.removed, 3);
    assert_int_equal(s.addresses, 15);
    assert_int_equal(s.generation, 3);
    assert_non_null(strstr(s.refusal, "refused"));
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 3);
    assert_int_equal(db_count(f->st, STORE_ADDR), 15);
    assert_int_equal(db_count(f->st, STORE_ENTRY), 15);
}

static void test_zero_entries(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec empty[] = {{"id-empty", 0, 0, {NULL}}};
    char *before, *after;

    /* an empty store, an empty sync */
    before = dump_all(f->st);
    assert_int_equal(sync_specs(f->st, NULL, 0, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "no addresses"));
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 0);

    /* a populated store: refused, entries without addresses do not count */
    sync_ok(f->st, base, NBASE, &o, &s);
    before = dump_all(f->st);
    assert_int_equal(sync_specs(f->st, NULL, 0, &o, &s), APPLY_REFUSED);
    assert_int_equal(sync_specs(f->st, empty, 1, &o, &s), APPLY_REFUSED);
    assert_int_equal(s.removed, 6);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* forced: the store is emptied */
    o.force = 1;
    sync_ok(f->st, NULL, 0, &o, &s);
    assert_int_equal(s.removed, 6);
    assert_int_equal(s.addresses, 0);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.domains, 0);
    assert_int_equal(s.domains_removed, 3);
    assert_int_equal(s.generation, 2);
    assert_int_equal(db_count(f->st, STORE_ADDR), 0);
    assert_int_equal(db_count(f->st, STORE_ENTRY), 0);
    assert_int_equal(db_count(f->st, STORE_DOMAIN), 0);
}

static void test_dry_run(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct spec mod[NBASE];
    char *before, *after;

    /* a dry first sync writes nothing */
    o.dry_run = 1;
    before = dump_all(f->st);
    assert_int_equal(sync_specs(f->st, base, NBASE, &o, &s), 0);
    assert_int_equal(s.added, 6);
    assert_int_equal(s.committed, 0);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);

    o.dry_run = 0;
    o.max_delete_ratio = 0.2; /* 1 of 6 may go */
    sync_ok(f->st, base, NBASE, &o, &s);
    memcpy(mod, base, sizeof(mod));
    mod[0].addrs[1] = "a2@example.org";
    mod[1].disabled = 0;
    o.dry_run = 1;
    before = dump_all(f->st);
    assert_int_equal(sync_specs(f->st, mod, NBASE, &o, &s), 0);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.committed, 0);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);

    /* a dry run that the safety rules refuse is refused */
    assert_int_equal(sync_specs(f->st, base, 1, &o, &s), APPLY_REFUSED);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);
}

/* ---- conflicts ---------------------------------------------------------------------- */

struct conflict_case {
    const char *rule;
    struct spec x, y;
    const char *winner; /* entry id that owns shared@example.org */
    enum rcpt_kind kind;
    enum rcpt_state state;
    const char *primary;
};

static const struct conflict_case conflict_cases[] = {
    {"active beats disabled",
     {"id-a", 1, 0, {"shared@example.org"}},
     {"id-b", 0, 0, {"y@example.org", "shared@example.org"}},
     "id-b",
     RCPT_ALIAS,
     RCPT_ACTIVE,
     "y@example.org"},
    {"primary beats alias",
     {"id-a", 0, 0, {"x@example.org", "shared@example.org"}},
     {"id-b", 0, 1, {"shared@example.org"}},
     "id-b",
     RCPT_GROUP,
     RCPT_ACTIVE,
     "shared@example.org"},
    {"smaller entry id",
     {"id-b", 0, 0, {"shared@example.org"}},
     {"id-a", 0, 1, {"shared@example.org"}},
     "id-a",
     RCPT_GROUP,
     RCPT_ACTIVE,
     "shared@example.org"},
    {"smaller entry id, both aliases",
     {"id-b", 0, 0, {"b@example.org", "shared@example.org"}},
     {"id-a", 0, 0, {"a@example.org", "shared@example.org"}},
     "id-a",
     RCPT_ALIAS,
     RCPT_ACTIVE,
     "a@example.org"},
    {"a prefix id is smaller",
     {"id-aa", 0, 0, {"shared@example.org"}},
     {"id-a", 0, 0, {"shared@example.org"}},
     "id-a",
     RCPT_USER,
     RCPT_ACTIVE,
     "shared@example.org"},
    {"both disabled: then primary",
     {"id-a", 1, 0, {"a@example.org", "shared@example.org"}},
     {"id-b", 1, 0, {"shared@example.org"}},
     "id-b",
     RCPT_USER,
     RCPT_DISABLED,
     "shared@example.org"},
};

static void test_conflicts(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();

    for (size_t i = 0; i < sizeof(conflict_cases) / sizeof(conflict_cases[0]); i++) {
        const struct conflict_case *c = &conflict_cases[i];
        const struct spec xy[] = {c->x, c->y}, yx[] = {c->y, c->x};
        struct store *s1, *s2;
        struct apply_stats s;
        char p1[160], p2[160];
        char *d1, *d2, *d;

        snprintf(p1, sizeof(p1), "%s/c%zu-xy", f->dir, i);
        snprintf(p2, sizeof(p2), "%s/c%zu-yx", f->dir, i);
        assert_int_equal(store_open(&s1, p1, 0, MAPSIZE), 0);
        assert_int_equal(store_open(&s2, p2, 0, MAPSIZE), 0);
        sync_ok(s1, xy, 2, &o, &s);
        assert_int_equal(s.conflicts, 1);
        sync_ok(s2, yx, 2, &o, &s);
        assert_int_equal(s.conflicts, 1);
        expect_rcpt(s1, "shared@example.org", c->kind, c->state, c->primary, c->winner);
        d1 = dump(s1, STORE_ADDR);
        d2 = dump(s2, STORE_ADDR);
        if (strcmp(d1, d2) != 0)
            fail_msg("%s: the two orders give different stores", c->rule);
        assert_int_equal(meta_u64(s1, STORE_META_CONFLICTS), 1);

        /* re-syncs with the conflict present change nothing, in either order */
        for (int k = 0; k < 4; k++) {
            struct store *t = k < 2 ? s1 : s2;
            sync_ok(t, (k & 1) ? yx : xy, 2, &o, &s);
            if (s.added + s.changed + s.removed != 0 || s.generation != 1)
                fail_msg("%s: re-sync %d: +%llu ~%llu -%llu, generation %llu", c->rule, k,
                         (unsigned long long)s.added, (unsigned long long)s.changed,
                         (unsigned long long)s.removed, (unsigned long long)s.generation);
            assert_int_equal(s.conflicts, 1);
            d = dump(t, STORE_ADDR);
            assert_string_equal(d, d1);
            free(d);
            assert_int_equal(meta_u64(t, STORE_META_GENERATION), 1);
            assert_int_equal(db_count(t, STORE_LOG), 0);
        }
        free(d1);
        free(d2);
        store_close(s1);
        store_close(s2);
    }
}

/*
 * a sync that changes something else while a conflict is present, loser first: the
 * change log of that generation holds the real change only, not the conflicted key
 */
static void test_conflict_log(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec *m = many(10);
    struct spec specs[13];
    struct logrec log[16];
    size_t n;

    memcpy(specs, m, 10 * sizeof(*specs));
    specs[10] = (struct spec){"id-b", 1, 0, {"shared@example.org"}}; /* disabled: loses */
    specs[11] = (struct spec){"id-c", 0, 0, {"c@example.org", "shared@example.org"}};
    sync_ok(f->st, specs, 12, &o, &s);
    expect_rcpt(f->st, "shared@example.org", RCPT_ALIAS, RCPT_ACTIVE, "c@example.org", "id-c");

    specs[12] = (struct spec){"id-new", 0, 0, {"new@example.org"}};
    sync_ok(f->st, specs, 13, &o, &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.generation, 2);
    expect_rcpt(f->st, "shared@example.org", RCPT_ALIAS, RCPT_ACTIVE, "c@example.org", "id-c");
    n = read_log(f->st, log, 16);
    if (n != 1 || strcmp(log[0].key, "new@example.org") != 0) {
        char got[1024] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), " [%llu.%u %c %s entry=%s]",
                     (unsigned long long)log[i].gen, log[i].seq, log[i].op, log[i].key,
                     log[i].entry);
        fail_msg("expected the log [2.0 + new@example.org], got%s", got);
    }
}

/*
 * a re-sync without any change, whose conflicts are met loser first: the churn of
 * records (written, then dropped with the generation) must not cost the log its older
 * generations while log_floor still promises them
 */
static void test_conflict_churn_keeps_log(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct spec *m = many(10);
    struct spec lf[15], wf[15]; /* loser first, winner first */
    struct logrec log[16];

    o.changelog_max = 3;
    memcpy(lf, m, 10 * sizeof(*lf));
    lf[10] = (struct spec){"id-l0", 1, 0, {"shared0@example.org"}};
    lf[11] = (struct spec){"id-w0", 0, 0, {"w0@example.org", "shared0@example.org"}};
    lf[12] = (struct spec){"id-l1", 1, 0, {"shared1@example.org"}};
    lf[13] = (struct spec){"id-w1", 0, 0, {"w1@example.org", "shared1@example.org"}};
    lf[14] = (struct spec){"id-new", 0, 0, {"new@example.org"}};
    memcpy(wf, lf, sizeof(wf));
    wf[10] = lf[11];
    wf[11] = lf[10];
    wf[12] = lf[13];
    wf[13] = lf[12];

    sync_ok(f->st, wf, 14, &o, &s); /* generation 1 */
    sync_ok(f->st, wf, 15, &o, &s); /* generation 2: + new@example.org */
    assert_int_equal(s.generation, 2);
    assert_int_equal(read_log(f->st, log, 16), 1);
    check_log(f->st, "after generation 2");

    /* nothing changes; 4 records of churn > changelog_max on the way */
    sync_ok(f->st, lf, 15, &o, &s);
    assert_int_equal(s.added + s.changed + s.removed, 0);
    assert_int_equal(s.generation, 2);
    check_log(f->st, "after a re-sync without changes");
}

/* the change log holds the operations store.h documents: + ~ - for addresses, D X for domains */
static void test_log_ops(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    struct spec specs[NBASE + 1];
    size_t n;

    sync_ok(f->st, base, NBASE, &o, &s);
    memcpy(specs, base, sizeof(base));
    specs[NBASE] = (struct spec){"id-new", 0, 0, {"new@new-domain.example"}};
    sync_ok(f->st, specs, NBASE + 1, &o, &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.domains_added, 1);
    n = read_log(f->st, log, 16);
    assert_true(n >= 1);
    int saw_domain = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr("+~-DX", log[i].op) == NULL)
            fail_msg("log record %llu.%u: op '%c' (key %s) is not one of + ~ - D X (store.h)",
                     (unsigned long long)log[i].gen, log[i].seq, log[i].op, log[i].key);
        if (log[i].op == 'D')
            saw_domain = strcmp(log[i].key, "new-domain.example") == 0;
    }
    assert_true(saw_domain);
}

/* ---- domains ------------------------------------------------------------------------ */

static void test_domains(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    static char *conf_v[] = {"Example.ORG", "example.com.", "not a domain"};
    const struct cfg_list conf = {conf_v, 3}, none = {NULL, 0};
    const struct spec specs[] = {
        {"id-1", 0, 0, {"one@example.org", "@example.net"}},
        {"id-2", 0, 0, {"two@other.example", "two@example.org"}},
    };

    /* configured: exactly those (normalized), whatever the addresses */
    o.domains = &conf;
    sync_ok(f->st, specs, 2, &o, &s);
    expect_domains(f->st, "example.com:c example.org:c");
    assert_int_equal(s.domains, 2);
    assert_int_equal(s.domains_added, 2);
    assert_int_equal(meta_u64(f->st, STORE_META_DOMAINS), 2);
    /* addresses outside them are still stored */
    expect_rcpt(f->st, "two@other.example", RCPT_USER, RCPT_ACTIVE, "two@other.example", "id-2");

    /* derived (empty list): the domains of the addresses, catch-alls included */
    o.domains = &none;
    sync_ok(f->st, specs, 2, &o, &s);
    expect_domains(f->st, "example.net:d example.org:d other.example:d");
    assert_int_equal(s.domains_added, 2);
    assert_int_equal(s.domains_removed, 1);
    assert_int_equal(s.domains, 3);
    assert_int_equal(s.generation, 2);

    /* derived (NULL): the same, nothing changes */
    o.domains = NULL;
    sync_ok(f->st, specs, 2, &o, &s);
    assert_int_equal(s.domains_added + s.domains_removed, 0);
    assert_int_equal(s.generation, 2);
    expect_domains(f->st, "example.net:d example.org:d other.example:d");

    /* an address leaves and takes its domain with it */
    {
        const struct spec fewer[] = {
            {"id-1", 0, 0, {"one@example.org"}},
            {"id-2", 0, 0, {"two@other.example", "two@example.org"}},
        };
        o.force = 1; /* 1 of 4 addresses */
        sync_ok(f->st, fewer, 2, &o, &s);
        expect_domains(f->st, "example.org:d other.example:d");
        assert_int_equal(s.domains_removed, 1);
        assert_int_equal(s.generation, 3);
    }
}

/* ---- the change log ----------------------------------------------------------------- */

/* sync_many - sync entries 0..n-1 of many() */
static void sync_many(struct store *st, size_t n, const struct apply_opts *o, struct apply_stats *s)
{
    sync_ok(st, many(n), n, o, s);
}

static void test_changelog_trim(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    size_t n;

    o.changelog_max = 5;
    sync_many(f->st, 10, &o, &s); /* generation 1, not logged */
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 1);
    sync_many(f->st, 12, &o, &s); /* generation 2: 2 records */
    sync_many(f->st, 14, &o, &s); /* generation 3: 2 records, 4 in all */
    assert_int_equal(read_log(f->st, log, 16), 4);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 1);

    /* generation 4 makes 6 > 5: generation 2 goes, whole */
    sync_many(f->st, 16, &o, &s);
    assert_int_equal(s.generation, 4);
    n = read_log(f->st, log, 16);
    assert_int_equal(n, 4);
    assert_int_equal(log[0].gen, 3);
    assert_int_equal(log[1].gen, 3);
    assert_int_equal(log[2].gen, 4);
    assert_int_equal(log[3].gen, 4);
    assert_string_equal(log[0].key, "u0012@example.org");
    assert_string_equal(log[3].key, "u0015@example.org");
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 2);
    check_log(f->st, "generation 4");

    /* generation 5 has 3 records: 7 > 5, generation 3 goes, 4 and 5 stay (5 records) */
    sync_many(f->st, 19, &o, &s);
    n = read_log(f->st, log, 16);
    assert_int_equal(n, 5);
    assert_int_equal(log[0].gen, 4);
    assert_int_equal(log[1].gen, 4);
    assert_int_equal(log[2].gen, 5);
    assert_int_equal(log[4].gen, 5);
    assert_int_equal(log[4].seq, 2);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 3);
    check_log(f->st, "generation 5");

    /* a sync without changes leaves the log and the floor alone */
    sync_many(f->st, 19, &o, &s);
    assert_int_equal(s.generation, 5);
    assert_int_equal(read_log(f->st, log, 16), 5);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 3);
}

static void test_changelog_overflow(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];

    o.changelog_max = 3;
    sync_many(f->st, 40, &o, &s);
    sync_many(f->st, 41, &o, &s); /* generation 2: 1 record */
    assert_int_equal(read_log(f->st, log, 16), 1);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 1);

    /* exactly changelog_max changes: all logged, generation 2 trimmed away */
    sync_many(f->st, 44, &o, &s);
    assert_int_equal(s.generation, 3);
    assert_int_equal(read_log(f->st, log, 16), 3);
    assert_int_equal(log[0].gen, 3);
    assert_int_equal(log[2].gen, 3);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 2);

    /* more changes than changelog_max: the log is emptied, the floor is the new generation */
    sync_many(f->st, 48, &o, &s);
    assert_int_equal(s.generation, 4);
    assert_int_equal(s.added, 4);
    assert_int_equal(read_log(f->st, log, 16), 0);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 4);
    check_log(f->st, "overflow");

    /* and logging goes on after it */
    sync_many(f->st, 49, &o, &s);
    assert_int_equal(read_log(f->st, log, 16), 1);
    assert_int_equal(log[0].gen, 5);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 4);

    /* changelog_max 0: nothing is logged, every change moves the floor */
    o.changelog_max = 0;
    sync_many(f->st, 50, &o, &s);
    assert_int_equal(s.generation, 6);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 6);
}

/* ---- a full map ---------------------------------------------------------------------- */

/* sync_big - n entries with two long addresses each; MDB_MAP_FULL passes through */
static int sync_big(struct store *st, size_t n, const char *tag, struct apply_stats *s)
{
    struct apply_opts o = opts();
    struct sync_entry e;
    struct apply *a;
    int rc;

    memset(&e, 0, sizeof(e));
    memset(s, 0, sizeof(*s));
    o.force = 1;
    if ((rc = apply_begin(&a, st, &o)) != 0)
        return rc;
    assert_int_equal(apply_full_start(a), 0);
    for (size_t i = 0; i < n; i++) {
        char id[64], k1[128], k2[128];
        struct spec sp = {id, 0, 0, {k1, k2}};
        snprintf(id, sizeof(id), "entry-%06zu-%s", i, tag);
        snprintf(k1, sizeof(k1), "first.last.%06zu.%s@a-rather-long-domain-name.example.org", i,
                 tag);
        snprintf(k2, sizeof(k2), "alias.%06zu.%s@another-long-domain-name.example.org", i, tag);
        build(&e, &sp);
        if ((rc = apply_full_entry(a, &e)) != 0) {
            apply_abort(a);
            entry_free(&e);
            return rc;
        }
    }
    entry_free(&e);
    return apply_commit(a, 0, s);
}

static void test_map_full(void **state)
{
    struct fixture *f = *state;
    struct apply_stats s;
    struct store *st;
    char path[160];
    int rc, full = 0, attempts;
    size_t mapsize;

    snprintf(path, sizeof(path), "%s/small", f->dir);
    assert_int_equal(store_open(&st, path, 0, (size_t)1 << 20), 0);
    mapsize = store_mapsize(st);
    for (attempts = 0; attempts < 12; attempts++) {
        rc = sync_big(st, 20000, "one", &s);
        if (rc != MDB_MAP_FULL)
            break;
        full++;
        /* the failed attempt left nothing behind */
        assert_int_equal(meta_u64(st, STORE_META_GENERATION), 0);
        assert_int_equal(db_count(st, STORE_ADDR), 0);
        assert_int_equal(store_grow(st), 0);
        assert_true(store_mapsize(st) > mapsize);
        mapsize = store_mapsize(st);
    }
    if (rc != 0)
        fail_msg("sync after %d grows: %s", full, store_strerror(rc));
    assert_true(full >= 1);
    assert_int_equal(s.added, 40000);
    assert_int_equal(s.generation, 1);
    assert_int_equal(db_count(st, STORE_ADDR), 40000);
    assert_int_equal(meta_u64(st, STORE_META_GENERATION), 1);

    /* a second sync that replaces everything (and logs nothing: too many changes) */
    full = 0;
    for (attempts = 0; attempts < 12; attempts++) {
        rc = sync_big(st, 30000, "two", &s);
        if (rc != MDB_MAP_FULL)
            break;
        full++;
        assert_int_equal(meta_u64(st, STORE_META_GENERATION), 1);
        assert_int_equal(db_count(st, STORE_ADDR), 40000);
        assert_int_equal(store_grow(st), 0);
    }
    if (rc != 0)
        fail_msg("second sync after %d grows: %s", full, store_strerror(rc));
    assert_int_equal(s.added, 60000);
    assert_int_equal(s.removed, 40000);
    assert_int_equal(s.generation, 2);
    assert_int_equal(db_count(st, STORE_ADDR), 60000);
    store_close(st);
}

/* ---- failures in meta ---------------------------------------------------------------- */

static void test_note_failure(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    char buf[STORE_META_MAX], *before, *after;
    uint64_t success;

    sync_ok(f->st, base, NBASE, &o, &s);
    success = meta_u64(f->st, STORE_META_LAST_SUCCESS);
    before = dump_data(f->st);

    assert_int_equal(
        apply_note_failure(f->st, "ldap://elsewhere", "failed", "ldap: can't contact LDAP server"),
        0);
    meta_str(f->st, STORE_META_LAST_RESULT, buf, sizeof(buf));
    assert_string_equal(buf, "failed");
    meta_str(f->st, STORE_META_LAST_ERROR, buf, sizeof(buf));
    assert_string_equal(buf, "ldap: can't contact LDAP server");
    meta_str(f->st, STORE_META_SOURCE, buf, sizeof(buf));
    assert_string_equal(buf, "ldap://elsewhere");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);
    assert_int_equal(meta_u64(f->st, STORE_META_LAST_SUCCESS), success);
    assert_true(meta_u64(f->st, STORE_META_LAST_ATTEMPT) >= success);
    assert_int_equal(meta_u64(f->st, STORE_META_ADDRESSES), 6);
    after = dump_data(f->st);
    assert_string_equal(before, after);
    free(after);

    /* a NULL source keeps the recorded one */
    assert_int_equal(apply_note_failure(f->st, NULL, "refused", "refused: too many removals"), 0);
    meta_str(f->st, STORE_META_SOURCE, buf, sizeof(buf));
    assert_string_equal(buf, "ldap://elsewhere");
    meta_str(f->st, STORE_META_LAST_RESULT, buf, sizeof(buf));
    assert_string_equal(buf, "refused");
    after = dump_data(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);

    /* the next success clears the error */
    sync_ok(f->st, base, NBASE, &o, &s);
    meta_str(f->st, STORE_META_LAST_RESULT, buf, sizeof(buf));
    assert_string_equal(buf, "ok");
    meta_str(f->st, STORE_META_LAST_ERROR, buf, sizeof(buf));
    assert_string_equal(buf, "");
    meta_str(f->st, STORE_META_SOURCE, buf, sizeof(buf));
    assert_string_equal(buf, "test");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 1);
}

/* apply_abort after entries leaves the store as it was */
static void test_abort(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct sync_entry e;
    struct apply *a;
    char *before, *after;

    sync_ok(f->st, base, NBASE, &o, &s);
    before = dump_all(f->st);
    memset(&e, 0, sizeof(e));
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_full_start(a), 0);
    build(&e, &(struct spec){"id-new", 0, 0, {"new@example.org"}});
    assert_int_equal(apply_full_entry(a, &e), 0);
    entry_free(&e);
    apply_abort(a);
    apply_abort(NULL);
    after = dump_all(f->st);
    assert_string_equal(before, after);
    free(after);
    free(before);
}

/* hist_line - one history record, newest first, as "result gen_before>gen_after +a ~c -r|..." */
static int hist_line(void *ctx, const struct store_hist *h)
{
    struct text *t = ctx;
    char line[256];

    snprintf(line, sizeof(line), "%s %llu>%llu +%llu ~%llu -%llu %.*s|",
             store_hist_result_name(h->result), (unsigned long long)h->gen_before,
             (unsigned long long)h->gen_after, (unsigned long long)h->added,
             (unsigned long long)h->changed, (unsigned long long)h->removed, (int)h->errorlen,
             h->error);
    text_add(t, line, strlen(line));
    return 0;
}

/* every attempt goes to the sync history: a commit in its own transaction (with its
 * counts and generations), a refusal and a failure through apply_note_attempt(); dry runs
 * and aborted syncs leave none */
static void test_history(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct text t = {0};
    MDB_txn *txn;

    sync_ok(f->st, base, NBASE, &o, &s);
    sync_ok(f->st, base, NBASE, &o, &s); /* no change: recorded, generation kept */
    o.dry_run = 1;
    sync_ok(f->st, base, NBASE, &o, &s);
    o.dry_run = 0;
    assert_int_equal(sync_specs(f->st, base, 1, &o, &s), APPLY_REFUSED);
    assert_int_equal(apply_note_attempt(f->st, "ldif:/x", "refused", s.refusal, &s, 12), 0);
    assert_int_equal(apply_note_attempt(f->st, "ldif:/x", "failed", "ldif: line 3: bad", NULL, 7),
                     0);
    assert_int_equal(store_begin(f->st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_hist_each(txn, f->st, 0, hist_line, &t), 0);
    mdb_txn_abort(txn);
    assert_non_null(t.p);
    assert_non_null(strstr(t.p, "failed 1>1 +0 ~0 -0 ldif: line 3: bad|refused 1>1 +0 ~0 -3 "
                                "refused: the sync would remove 3 of 6"));
    assert_non_null(strstr(t.p, "|ok 1>1 +0 ~0 -0 |ok 0>1 +6 ~0 -0 |"));
    {
        size_t n = 0; /* four records: the dry run left none */
        for (const char *p = t.p; (p = strchr(p, '|')) != NULL; p++)
            n++;
        assert_int_equal(n, 4);
    }
    free(t.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resync_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_and_remove_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_churn_keeps_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changelog_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changelog_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
    };

    log_init("test_apply", 1, LOG_LEVEL_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
