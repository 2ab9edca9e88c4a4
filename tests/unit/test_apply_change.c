/*
 * test_apply_change - the entry-change driver (syncd/apply_change.h) over a real store:
 *   - put, modify, delete by entry id: counts, change-log records, generation, an unknown id;
 *   - the conflict rule: the winner of an address leaves (deleted, disabled, drops it) and
 *     the best remaining claim takes the address, whether the conflict came from a full sync
 *     or from a change;
 *   - the safety rules: a mass delete beyond max_delete_ratio refused (store unchanged),
 *     applied with --force; deleting everything refused;
 *   - a sweep (apply_change_sweep): entries not in the kept set are deleted, with the
 *     safety rules of a full sync; a meta value written in the sync commits with it;
 *   - call order: changes without apply_change_start(), a second driver;
 *   - entry lists written without the entry's state: a change that needs them is refused;
 *   - equivalence: random sequences of changes, in batches, leave the store exactly as a
 *     full sync of the resulting directory does (address, entry and domain databases, key by
 *     key), with derived and with configured domains, from an empty store and from a full
 *     sync; and an edge that follows the change log (apply_feed.h) holds the same addresses
 *     and domains after every batch.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "schema/rcpt.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "schema/feed.h"
#include "syncd/apply_change.h"
#include "syncd/apply_feed.h"
#include "syncd/apply_full.h"
#include "tests/unit/apply_helpers.h"

static int setup(void **state)
{
    return fixture_setup(state, "/tmp/test_apply_change.XXXXXX");
}

/* one change: a spec to put, or (del) the id to delete */
struct chg {
    int del;
    struct spec s;
};

#define PUT(...)                                                                                   \
    {                                                                                              \
        0,                                                                                         \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }
#define DEL(id)                                                                                    \
    {                                                                                              \
        1,                                                                                         \
        {                                                                                          \
            (id), 0, 0,                                                                            \
            {                                                                                      \
                NULL                                                                               \
            }                                                                                      \
        }                                                                                          \
    }

static uint64_t chg_window; /* apply_delete_window() of each changes() sync */

/* changes - one change sync of n changes; returns the commit's code */
static int changes(struct store *st, const struct chg *c, size_t n, const struct apply_opts *o,
                   struct apply_stats *s)
{
    struct sync_entry e;
    struct apply *a;
    int rc;

    memset(&e, 0, sizeof(e));
    memset(s, 0, sizeof(*s));
    assert_int_equal(apply_begin(&a, st, o), 0);
    assert_int_equal(apply_change_start(a), 0);
    apply_delete_window(a, chg_window);
    for (size_t i = 0; i < n; i++) {
        if (c[i].del) {
            rc = apply_change_delete(a, c[i].s.id, strlen(c[i].s.id));
        } else {
            build(&e, &c[i].s);
            rc = apply_change_put(a, &e);
        }
        if (rc != 0) {
            apply_abort(a);
            entry_free(&e);
            return rc;
        }
    }
    entry_free(&e);
    return apply_commit(a, 0, s);
}

/* owner - the entry id that holds key now ("" when the key is not there) */
static const char *owner(struct store *st, const char *key)
{
    static char id[RCPT_ENTRY_MAX + 1];
    MDB_txn *txn;
    struct rcpt r;
    int rc;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    rc = store_addr_get(txn, st, key, strlen(key), &r);
    id[0] = '\0';
    if (rc == 0)
        snprintf(id, sizeof(id), "%.*s", (int)r.entry_len, r.entry);
    else
        assert_int_equal(rc, MDB_NOTFOUND);
    mdb_txn_abort(txn);
    return id;
}

static const struct spec base[] = {
    {"id-alice", 0, 0, {"alice@example.org", "a@example.org"}},
    {"id-bob", 0, 0, {"bob@example.org"}},
    {"id-carol", 0, 0, {"carol@example.org"}},
    {"id-dave", 0, 0, {"dave@example.org"}},
    {"id-erin", 0, 0, {"erin@example.org"}},
    {"id-frank", 0, 0, {"frank@example.org"}},
    {"id-grace", 0, 0, {"grace@example.org"}},
    {"id-heidi", 0, 0, {"heidi@example.org"}},
    {"id-ivan", 0, 0, {"ivan@example.org"}},
    {"id-judy", 0, 0, {"judy@example.org"}},
};
#define NBASE (sizeof(base) / sizeof(base[0]))

static void test_put_modify_delete(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    struct logrec log[16];
    size_t n;

    sync_ok(f->st, base, NBASE, &o, &s); /* generation 1, not logged */

    /* a new entry in a new domain, and alice loses an alias and gains one */
    {
        const struct chg c[] = {
            PUT("id-new", 0, 0, {"new@example.net"}),
            PUT("id-alice", 0, 0, {"alice@example.org", "al@example.org"}),
        };
        assert_int_equal(changes(f->st, c, 2, &o, &s), 0);
    }
    assert_int_equal(s.committed, 1);
    assert_int_equal(s.added, 2);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.unchanged, 1); /* alice@ itself */
    assert_int_equal(s.domains_added, 1);
    assert_int_equal(s.generation, 2);
    assert_int_equal(s.addresses, 12);
    assert_int_equal(s.entries, 11);
    assert_string_equal(owner(f->st, "new@example.net"), "id-new");
    assert_string_equal(owner(f->st, "al@example.org"), "id-alice");
    assert_string_equal(owner(f->st, "a@example.org"), "");
    expect_domains(f->st, "example.net:d example.org:d");
    n = read_log(f->st, log, 16);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_true(log[i].gen == 2);
    assert_int_equal(log[0].op, '+');
    assert_string_equal(log[0].key, "new@example.net");
    assert_int_equal(log[1].op, '+');
    assert_string_equal(log[1].key, "al@example.org");
    assert_int_equal(log[2].op, '-');
    assert_string_equal(log[2].key, "a@example.org");
    assert_int_equal(log[3].op, 'D');
    assert_string_equal(log[3].key, "example.net");

    /* disabled: the record changes; deleting the only entry of a domain removes it */
    {
        const struct chg c[] = {
            PUT("id-bob", 1, 0, {"bob@example.org"}), DEL("id-new"),
            DEL("id-nobody"), /* an unknown id: no change */
        };
        assert_int_equal(changes(f->st, c, 3, &o, &s), 0);
    }
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.domains_removed, 1);
    assert_int_equal(s.generation, 3);
    expect_domains(f->st, "example.org:d");
    assert_string_equal(owner(f->st, "new@example.net"), "");
    assert_int_equal(db_count(f->st, STORE_ENTRY), 10);
    n = read_log(f->st, log, 16);
    assert_int_equal(n, 7);
    assert_int_equal(log[4].op, '~');
    assert_string_equal(log[4].key, "bob@example.org");
    assert_int_equal(log[4].r.state, RCPT_DISABLED);
    assert_int_equal(log[5].op, '-');
    assert_int_equal(log[6].op, 'X');

    /* a put that changes nothing, a put then a delete of the same new entry: no generation */
    {
        const struct chg c[] = {
            PUT("id-carol", 0, 0, {"carol@example.org"}),
            PUT("id-tmp", 0, 0, {"tmp@example.org"}),
            DEL("id-tmp"),
        };
        char *before = dump_data(f->st), *after;
        assert_int_equal(changes(f->st, c, 3, &o, &s), 0);
        assert_int_equal(s.added + s.changed + s.removed, 0);
        assert_int_equal(s.generation, 3);
        after = dump_data(f->st);
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
}

static void test_conflicts(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    /* shared@ is claimed by two entries: the active one wins, then the smaller id */
    const struct spec dir[] = {
        {"id-a", 1, 0, {"a@example.org", "shared@example.org"}},
        {"id-b", 0, 0, {"b@example.org", "shared@example.org"}},
        {"id-c", 0, 0, {"c@example.org"}},
        {"id-d", 0, 0, {"d@example.org"}},
        {"id-e", 0, 0, {"e@example.org"}},
        {"id-f", 0, 0, {"f@example.org"}},
        {"id-g", 0, 0, {"g@example.org"}},
        {"id-h", 0, 0, {"h@example.org"}},
    };

    o.max_delete_ratio = 1.0;
    sync_ok(f->st, dir, 8, &o, &s);
    assert_int_equal(s.conflicts, 1);
    assert_string_equal(owner(f->st, "shared@example.org"), "id-b");
    /* the winner leaves: the loser (from the full sync) takes the address */
    {
        const struct chg c[] = {DEL("id-b")};
        assert_int_equal(changes(f->st, c, 1, &o, &s), 0);
    }
    assert_string_equal(owner(f->st, "shared@example.org"), "id-a");
    assert_int_equal(s.changed, 1); /* shared@: now a's (disabled) */
    assert_int_equal(s.removed, 1); /* b@ */
    /* a change makes a conflict: c claims shared@ and wins (active over disabled) */
    {
        const struct chg c[] = {PUT("id-c", 0, 0, {"c@example.org", "shared@example.org"})};
        assert_int_equal(changes(f->st, c, 1, &o, &s), 0);
    }
    assert_string_equal(owner(f->st, "shared@example.org"), "id-c");
    assert_true(s.conflicts >= 1);
    /* the winner drops the address (keeps the entry): a takes it back */
    {
        const struct chg c[] = {PUT("id-c", 0, 0, {"c@example.org"})};
        assert_int_equal(changes(f->st, c, 1, &o, &s), 0);
    }
    assert_string_equal(owner(f->st, "shared@example.org"), "id-a");
    /* the owner becomes disabled while an active claimant appears in the same sync */
    {
        const struct chg c[] = {
            PUT("id-a", 0, 0, {"a@example.org", "shared@example.org"}),
            PUT("id-d", 0, 0, {"d@example.org", "shared@example.org"}),
            PUT("id-a", 1, 0, {"a@example.org", "shared@example.org"}),
        };
        assert_int_equal(changes(f->st, c, 3, &o, &s), 0);
    }
    assert_string_equal(owner(f->st, "shared@example.org"), "id-d");
}

static void test_safety(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    const struct chg two[] = {DEL("id-bob"), DEL("id-carol")};
    const struct chg one[] = {DEL("id-bob")};
    struct chg all[NBASE];
    char *before;

    sync_ok(f->st, base, NBASE, &o, &s); /* 11 addresses */
    before = dump_all(f->st);
    /* 2 of 11 is over 10 %: refused, the store as it was */
    assert_int_equal(changes(f->st, two, 2, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "would remove 2 of 11"));
    assert_int_equal(s.committed, 0);
    {
        char *after = dump_all(f->st);
        assert_string_equal(before, after);
        free(after);
    }
    free(before);
    /* 1 of 11 is within the ratio */
    assert_int_equal(changes(f->st, one, 1, &o, &s), 0);
    assert_int_equal(s.removed, 1);
    /* everything: refused even with the ratio at 100 %, applied with --force */
    for (size_t i = 0; i < NBASE; i++)
        all[i] = (struct chg){1, {base[i].id, 0, 0, {NULL}}};
    o.max_delete_ratio = 1.0;
    assert_int_equal(changes(f->st, all, NBASE, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "no addresses"));
    o.force = 1;
    assert_int_equal(changes(f->st, all, NBASE, &o, &s), 0);
    assert_int_equal(s.addresses, 0);
    assert_int_equal(db_count(f->st, STORE_ENTRY), 0);
}

/* meta_text - a meta value now ("" when unset) */
static const char *meta_text(struct store *st, const char *name)
{
    static char buf[STORE_META_MAX];
    MDB_txn *txn;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    if (store_meta_get(txn, st, name, buf, sizeof(buf)) != 0)
        buf[0] = '\0';
    mdb_txn_abort(txn);
    return buf;
}

/* window_put - set the stored delete window, as printf */
static void __attribute__((format(printf, 2, 3))) window_put(struct store *st, const char *fmt, ...)
{
    char buf[STORE_META_MAX];
    MDB_txn *txn;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_int_equal(store_begin(st, 0, &txn), 0);
    assert_int_equal(store_meta_put(txn, st, STORE_META_DEL_WINDOW, buf), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/*
 * window_read - the stored delete window ("v2 END BASE REMOVED ..."): its number of buckets,
 * the addresses removed in them and the oldest one's base; -1 when it is not in that form
 */
static int window_read(struct store *st, unsigned long long *n, unsigned long long *removed,
                       unsigned long long *base0)
{
    const char *p = meta_text(st, STORE_META_DEL_WINDOW);
    unsigned long long e, b, r;
    int used;

    *n = *removed = *base0 = 0;
    if (strncmp(p, "v2", 2) != 0)
        return -1;
    for (p += 2; sscanf(p, " %llu %llu %llu%n", &e, &b, &r, &used) == 3; p += used) {
        if ((*n)++ == 0)
            *base0 = b;
        *removed += r;
    }
    return *p == '\0' ? 0 : -1;
}

/* expect_window - the stored window holds gone removals, its oldest bucket base0; its buckets */
static unsigned long long expect_window(struct store *st, unsigned long long gone,
                                        unsigned long long base0)
{
    unsigned long long n, g, b;

    assert_int_equal(window_read(st, &n, &g, &b), 0);
    assert_int_equal(g, gone);
    assert_int_equal(b, base0);
    return n;
}

/*
 * window_age - make the stored delete window `secs` seconds older, whichever form it has
 * (this release's buckets, or the previous release's "START BASE REMOVED"): the clock of
 * these tests
 */
static void window_age(struct store *st, unsigned long long secs)
{
    char in[STORE_META_MAX], out[STORE_META_MAX];
    unsigned long long e, b, r;
    size_t len = 0;
    const char *p = in;
    int used;

    snprintf(in, sizeof(in), "%s", meta_text(st, STORE_META_DEL_WINDOW));
    out[0] = '\0';
    if (strncmp(p, "v2", 2) == 0) {
        len = (size_t)snprintf(out, sizeof(out), "v2");
        for (p += 2; sscanf(p, " %llu %llu %llu%n", &e, &b, &r, &used) == 3; p += used)
            len +=
                (size_t)snprintf(out + len, sizeof(out) - len, " %llu %llu %llu", e - secs, b, r);
    } else if (sscanf(p, "%llu %llu %llu", &e, &b, &r) == 3) {
        snprintf(out, sizeof(out), "%llu %llu %llu", e - secs, b, r);
    }
    window_put(st, "%s", out);
}

/* the delete window: removals of several syncs add up against max_delete_ratio */
static void test_delete_window(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    const struct chg bob[] = {DEL("id-bob")}, carol[] = {DEL("id-carol")},
                     dave[] = {DEL("id-dave")}, erin[] = {DEL("id-erin")},
                     frank[] = {DEL("id-frank")}, grace[] = {DEL("id-grace")},
                     add[] = {PUT("id-new", 0, 0, {"new@example.org"})};

    o.max_delete_ratio = 0.25; /* of 11 addresses: 2 may go, 3 may not */
    sync_ok(f->st, base, NBASE, &o, &s);
    chg_window = 3600;
    assert_int_equal(changes(f->st, bob, 1, &o, &s), 0);
    assert_int_equal(changes(f->st, add, 1, &o, &s), 0); /* no removal: the window unchanged */
    assert_int_equal(changes(f->st, carol, 1, &o, &s), 0);
    expect_window(f->st, 2, 11);
    /* the third: 1 of 10 alone, 3 of 11 within the window */
    assert_int_equal(changes(f->st, dave, 1, &o, &s), APPLY_REFUSED);
    assert_non_null(
        strstr(s.refusal, "3 addresses removed within delete_window (3600 s) of the 11"));
    assert_string_equal(owner(f->st, "dave@example.org"), "id-dave");
    /* an add still passes */
    assert_int_equal(changes(f->st, add, 1, &o, &s), 0);
    /* no window: each sync alone, and the stored window is left as it was */
    chg_window = 0;
    assert_int_equal(changes(f->st, dave, 1, &o, &s), 0);
    assert_string_equal(owner(f->st, "dave@example.org"), "");
    expect_window(f->st, 2, 11);
    /* the window is still there (bob and carol); --force applies and empties it */
    chg_window = 3600;
    assert_int_equal(changes(f->st, erin, 1, &o, &s), APPLY_REFUSED);
    o.force = 1;
    assert_int_equal(changes(f->st, erin, 1, &o, &s), 0);
    assert_string_equal(meta_text(f->st, STORE_META_DEL_WINDOW), "");
    o.force = 0;
    assert_int_equal(changes(f->st, frank, 1, &o, &s), 0); /* a new window, base 8 */
    assert_int_equal(expect_window(f->st, 1, 8), 1);
    /* what ended long ago is not counted */
    window_put(f->st, "v2 1 8 100");
    assert_int_equal(changes(f->st, grace, 1, &o, &s), 0);
    assert_int_equal(expect_window(f->st, 1, 7), 1);
    chg_window = 0;
}

/*
 * the window slides: removals count for delete_window seconds each, not until the end of a
 * window that opened at the first of them, and they leave it bucket by bucket
 */
static void test_delete_window_slides(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    const struct chg bob[] = {DEL("id-bob")}, carol[] = {DEL("id-carol")},
                     dave[] = {DEL("id-dave")}, erin[] = {DEL("id-erin")},
                     dave_erin[] = {DEL("id-dave"), DEL("id-erin")},
                     erin_frank[] = {DEL("id-erin"), DEL("id-frank")}, frank[] = {DEL("id-frank")};

    o.max_delete_ratio = 0.25; /* 2 of 11 may go within the window, 3 may not */
    sync_ok(f->st, base, NBASE, &o, &s);
    chg_window = 3600;
    assert_int_equal(changes(f->st, bob, 1, &o, &s), 0);
    window_age(f->st, 3500);
    assert_int_equal(changes(f->st, carol, 1, &o, &s), 0); /* 2 of 11 */
    window_age(f->st, 400);
    /*
     * bob left 3900 s ago (out), carol 400 s ago (in). A window fixed at bob's removal has
     * ended: it would let dave and erin go, 3 removals of 10 within 400 s
     */
    assert_int_equal(changes(f->st, dave_erin, 2, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "with this sync's 2, 3 addresses removed within "
                                      "delete_window (3600 s) of the 10"));
    assert_string_equal(owner(f->st, "dave@example.org"), "id-dave");
    assert_int_equal(changes(f->st, dave, 1, &o, &s), 0); /* 2 of 10 */
    window_age(f->st, 3500);
    /* carol's bucket has left (3900 s), dave's not (3500 s): the base is the 9 before dave */
    assert_int_equal(changes(f->st, erin_frank, 2, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "with this sync's 2, 3 addresses removed within "
                                      "delete_window (3600 s) of the 9"));
    assert_int_equal(changes(f->st, erin, 1, &o, &s), 0); /* 2 of 9 */
    assert_int_equal(expect_window(f->st, 2, 9), 2);      /* dave's and erin's; carol's dropped */
    /* all out: a new window from the 7 left */
    window_age(f->st, 4000);
    assert_int_equal(changes(f->st, frank, 1, &o, &s), 0);
    assert_int_equal(expect_window(f->st, 1, 7), 1);
    chg_window = 0;
}

/*
 * the stored window's forms: the previous release's "START BASE REMOVED" is one bucket that
 * counts until delete_window after that window's end; a value that is not a window is an
 * empty one (logged), never a refusal
 */
static void test_delete_window_formats(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    const struct chg bob[] = {DEL("id-bob")}, put[] = {PUT("id-new", 0, 0, {"new@example.org"})},
                     del[] = {DEL("id-new")};
    unsigned long long now = (unsigned long long)time(NULL);
    char many[STORE_META_MAX];
    size_t len;

    o.max_delete_ratio = 0.25;
    sync_ok(f->st, base, NBASE, &o, &s);
    chg_window = 3600;
    /* an old window still open */
    window_put(f->st, "%llu 11 2", now - 100);
    assert_int_equal(changes(f->st, bob, 1, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "with this sync's 1, 3 addresses removed within "
                                      "delete_window (3600 s) of the 11"));
    /* ended 100 s ago: its removals may have been made 101 s ago, so they still count */
    window_put(f->st, "%llu 11 2", now - 3700);
    assert_int_equal(changes(f->st, bob, 1, &o, &s), APPLY_REFUSED);
    /* ended more than delete_window ago */
    window_put(f->st, "%llu 11 2", now - 7300);
    assert_int_equal(changes(f->st, bob, 1, &o, &s), 0);
    assert_int_equal(expect_window(f->st, 1, 11), 1);

    /* not windows: each is an empty window, and this sync's removal starts a new one */
    len = (size_t)snprintf(many, sizeof(many), "v2");
    for (unsigned i = 0; i < 18; i++) /* one bucket too many */
        len += (size_t)snprintf(many + len, sizeof(many) - len, " %llu 10 0", now + i);
    const char *junk[] = {
        "junk",
        "v2 1 2",
        "v2 x 1 1",
        "v2 5 1 1 5 1 1",
        "v2 0 1 1",
        "v3 1 1 1",
        "1 2",
        "1 2 3 4",
        "-1 2 3",
        "99999999999999999999999 10 100",
        "v2 1 10 99999999999999999999999",
        "1\t10 100",
        many,
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        assert_int_equal(changes(f->st, put, 1, &o, &s), 0);
        window_put(f->st, "%s", junk[i]);
        assert_int_equal(changes(f->st, del, 1, &o, &s), 0);
        assert_int_equal(s.removed, 1);
        assert_int_equal(expect_window(f->st, 1, 11), 1);
    }
    /* a sync that removes nothing replaces it too: logged once */
    window_put(f->st, "junk");
    assert_int_equal(changes(f->st, put, 1, &o, &s), 0);
    assert_string_equal(meta_text(f->st, STORE_META_DEL_WINDOW), "");
    chg_window = 0;
}

static void test_sweep_and_meta(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct apply_stats s;
    struct sync_entry e;
    struct hset keep = {0};
    struct apply *a;
    char buf[64];

    memset(&e, 0, sizeof(e));
    o.max_delete_ratio = 0.5;
    sync_ok(f->st, base, NBASE, &o, &s);
    /* keep alice (put in this sync) and bob..judy but carol: carol goes, the rest stays */
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_change_start(a), 0);
    build(&e, &(struct spec){"id-alice", 0, 0, {"alice@example.org"}});
    assert_int_equal(apply_change_put(a, &e), 0);
    for (size_t i = 0; i < NBASE; i++)
        if (strcmp(base[i].id, "id-carol") != 0)
            hset_add(&keep, hset_hash(base[i].id, strlen(base[i].id)));
    assert_int_equal(apply_change_sweep(a, &keep), 0);
    assert_int_equal(apply_meta_put(a, "test_cookie", "c1"), 0);
    assert_int_equal(apply_meta_get(a, "test_cookie", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "c1");
    assert_int_equal(apply_commit(a, 0, &s), 0);
    assert_int_equal(s.removed, 2); /* carol@, a@ */
    assert_string_equal(owner(f->st, "carol@example.org"), "");
    assert_string_equal(owner(f->st, "bob@example.org"), "id-bob");
    assert_string_equal(owner(f->st, "alice@example.org"), "id-alice");

    /* a sweep that keeps nothing but one entry: refused as a mass delete, meta not written */
    hset_free(&keep);
    hset_add(&keep, hset_hash("id-bob", 6));
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_change_start(a), 0);
    assert_int_equal(apply_change_sweep(a, &keep), 0);
    assert_int_equal(apply_meta_put(a, "test_cookie", "c2"), 0);
    assert_int_equal(apply_commit(a, 0, &s), APPLY_REFUSED);
    assert_string_equal(owner(f->st, "dave@example.org"), "id-dave");
    {
        MDB_txn *txn;
        assert_int_equal(store_begin(f->st, MDB_RDONLY, &txn), 0);
        assert_int_equal(store_meta_get(txn, f->st, "test_cookie", buf, sizeof(buf)), 0);
        mdb_txn_abort(txn);
    }
    assert_string_equal(buf, "c1");
    hset_free(&keep);
    entry_free(&e);
}

static void test_call_order(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    struct sync_entry e;
    struct apply *a;

    memset(&e, 0, sizeof(e));
    build(&e, &base[0]);
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_change_put(a, &e), EINVAL);
    assert_int_equal(apply_change_delete(a, "id-x", 4), EINVAL);
    assert_int_equal(apply_change_start(a), 0);
    assert_int_equal(apply_change_start(a), EINVAL);
    assert_int_equal(apply_full_start(a), EINVAL);
    assert_int_equal(apply_full_entry(a, &e), EINVAL);
    apply_abort(a);
    entry_free(&e);
}

/* an entry list as written before it carried the entry's state: keys only */
static void test_unmarked_lists(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = base_opts("changes");
    const struct spec dir[] = {
        {"id-a", 0, 0, {"a@example.org", "shared@example.org"}},
        {"id-b", 0, 0, {"b@example.org", "shared@example.org"}},
    };
    const struct chg c[] = {DEL("id-a")};
    struct apply_stats s;
    MDB_txn *txn;
    MDB_val k = {4, "id-b"}, v = {35, "\x0d\x00"
                                      "b@example.org\x12\x00"
                                      "shared@example.org"};

    o.max_delete_ratio = 1.0;
    sync_ok(f->st, dir, 2, &o, &s);
    assert_int_equal(store_begin(f->st, 0, &txn), 0);
    assert_int_equal(mdb_put(txn, store_dbi(f->st, STORE_ENTRY), &k, &v, 0), 0);
    k = (MDB_val){4, "id-a"};
    v = (MDB_val){35, "\x0d\x00"
                      "a@example.org\x12\x00"
                      "shared@example.org"};
    assert_int_equal(mdb_put(txn, store_dbi(f->st, STORE_ENTRY), &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(changes(f->st, c, 1, &o, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "full sync"));
    /* a full sync rewrites the lists; then the change goes through */
    sync_ok(f->st, dir, 2, &o, &s);
    assert_int_equal(changes(f->st, c, 1, &o, &s), 0);
    assert_string_equal(owner(f->st, "shared@example.org"), "id-b");
}

/* ---- equivalence with a full sync ---------------------------------------------------- */

#define NSLOT 12
#define NPOOL 16

static const char *const pool[NPOOL] = {
    "p0@one.example", "p1@one.example", "p2@one.example",   "p3@two.example",
    "p4@two.example", "p5@two.example", "p6@three.example", "p7@three.example",
    "x0@one.example", "x1@one.example", "x2@two.example",   "x3@three.example",
    "@one.example",   "@two.example",   "@four.example",    "x4@four.example",
};

struct model {
    int present[NSLOT];
    struct spec s[NSLOT];
    char ids[NSLOT][16];
};

static uint32_t rnd(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*seed >> 33);
}

/* model_entry - a random entry for slot i: a primary, up to 3 aliases from the pool */
static void model_entry(struct model *m, size_t i, uint64_t *seed)
{
    struct spec *s = &m->s[i];
    size_t n = 0, want = 1 + rnd(seed) % 4;

    memset(s, 0, sizeof(*s));
    s->id = m->ids[i];
    s->disabled = rnd(seed) % 4 == 0;
    s->group = rnd(seed) % 5 == 0;
    s->addrs[n++] = pool[rnd(seed) % 12]; /* a primary: never a catch-all */
    while (n < want) {
        const char *k = pool[rnd(seed) % NPOOL];
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            dup |= strcmp(s->addrs[j], k) == 0;
        if (!dup)
            s->addrs[n++] = k;
    }
    m->present[i] = 1;
}

/* model_specs - the present entries, for a full sync */
static size_t model_specs(const struct model *m, struct spec *out)
{
    size_t n = 0;

    for (size_t i = 0; i < NSLOT; i++)
        if (m->present[i])
            out[n++] = m->s[i];
    return n;
}

static void expect_same_db(struct store *a, struct store *b, enum store_db db, const char *what,
                           int round)
{
    char *x = dump(a, db), *y = dump(b, db);

    if (strcmp(x, y) != 0)
        fail_msg("round %d: %s database differs:\n%s\nagainst:\n%s", round, what, x, y);
    free(x);
    free(y);
}

/*
 * follow - bring the edge store to the hub's generation the way an edge does: a snapshot of
 * the hub's address and domain databases when the edge has nothing, else the hub's change
 * log after the edge's generation as a change feed (apply_feed.h)
 */
static void follow(struct store *hub, struct store *edge)
{
    struct apply_opts o = base_opts("edge");
    uint64_t from = meta_u64(edge, STORE_META_GENERATION),
             to = meta_u64(hub, STORE_META_GENERATION);
    struct feed_header h = {from == 0 ? FEED_SNAPSHOT : FEED_CHANGES, from == 0 ? 0 : from, to};
    unsigned char lk[STORE_LOG_KEY_SIZE];
    struct apply_stats s;
    struct apply *a;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    int rc;

    o.force = 1;
    o.max_delete_ratio = 1.0;
    assert_int_equal(apply_begin(&a, edge, &o), 0);
    assert_int_equal(apply_feed_header(a, &h), 0);
    assert_int_equal(store_begin(hub, MDB_RDONLY, &txn), 0);
    for (int db = 0; db < 3; db++) {
        enum store_db which =
            h.kind == FEED_SNAPSHOT ? (db == 0 ? STORE_ADDR : STORE_DOMAIN) : STORE_LOG;
        if ((h.kind == FEED_SNAPSHOT && db == 2) || (h.kind == FEED_CHANGES && db > 0))
            break;
        assert_int_equal(mdb_cursor_open(txn, store_dbi(hub, which), &cur), 0);
        op = MDB_FIRST;
        if (which == STORE_LOG) {
            store_log_key(lk, from + 1, 0);
            k = (MDB_val){sizeof(lk), lk};
            op = MDB_SET_RANGE;
        }
        for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            struct feed_record r = {which == STORE_ADDR ? FEED_ADDR : FEED_DOMAIN, k.mv_data,
                                    k.mv_size, v.mv_data, v.mv_size};
            if (which == STORE_LOG) {
                struct store_log_rec l;
                assert_int_equal(store_log_decode(&l, v.mv_data, v.mv_size), 0);
                r = (struct feed_record){(int)l.op, l.key, l.keylen, l.rec, l.reclen};
            }
            assert_int_equal(apply_feed_record(a, &r), 0);
        }
        assert_int_equal(rc, MDB_NOTFOUND);
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    assert_int_equal(apply_commit(a, 0, &s), 0);
    assert_true(s.generation == to);
}

/* equivalence - rounds of random change batches on f->st against full syncs of the model */
static void equivalence(struct fixture *f, int from_full, const struct cfg_list *domains,
                        uint64_t seed)
{
    struct apply_opts o = base_opts("changes");
    struct model m;
    struct store *full, *edge;
    struct apply_stats s;
    struct spec specs[NSLOT];
    char path[256];

    memset(&m, 0, sizeof(m));
    o.max_delete_ratio = 1.0;
    o.force = 1;
    o.domains = domains;
    snprintf(path, sizeof(path), "%s/full", f->dir);
    assert_int_equal(store_open(&full, path, 0, MAPSIZE), 0);
    snprintf(path, sizeof(path), "%s/edge", f->dir);
    assert_int_equal(store_open(&edge, path, 0, MAPSIZE), 0);
    for (size_t i = 0; i < NSLOT; i++)
        snprintf(m.ids[i], sizeof(m.ids[i]), "id-%02zu", i);
    for (size_t i = 0; i < NSLOT / 2; i++)
        model_entry(&m, rnd(&seed) % NSLOT, &seed);
    if (from_full)
        sync_ok(f->st, specs, model_specs(&m, specs), &o, &s);
    else { /* into an empty store, entry by entry */
        struct chg c[NSLOT];
        size_t n = 0;
        for (size_t i = 0; i < NSLOT; i++)
            if (m.present[i])
                c[n++] = (struct chg){0, m.s[i]};
        assert_int_equal(changes(f->st, c, n, &o, &s), 0);
    }
    for (int round = 0; round < 150; round++) {
        struct chg c[6];
        size_t n = 1 + rnd(&seed) % 5;
        for (size_t j = 0; j < n; j++) {
            size_t i = rnd(&seed) % NSLOT;
            if (m.present[i] && rnd(&seed) % 3 == 0) {
                m.present[i] = 0;
                c[j] = (struct chg){1, {m.ids[i], 0, 0, {NULL}}};
            } else {
                model_entry(&m, i, &seed);
                c[j] = (struct chg){0, m.s[i]};
            }
        }
        assert_int_equal(changes(f->st, c, n, &o, &s), 0);
        sync_ok(full, specs, model_specs(&m, specs), &o, &s);
        expect_same_db(f->st, full, STORE_ADDR, "changes vs full sync: address", round);
        expect_same_db(f->st, full, STORE_ENTRY, "changes vs full sync: entry", round);
        expect_same_db(f->st, full, STORE_DOMAIN, "changes vs full sync: domain", round);
        /* an edge following the change log ends up with the same addresses and domains */
        follow(f->st, edge);
        expect_same_db(edge, f->st, STORE_ADDR, "edge vs hub: address", round);
        expect_same_db(edge, f->st, STORE_DOMAIN, "edge vs hub: domain", round);
    }
    store_close(edge);
    store_close(full);
}

static void test_equivalence_derived_empty(void **state)
{
    equivalence(*state, 0, NULL, 1);
}

static void test_equivalence_derived_full(void **state)
{
    equivalence(*state, 1, NULL, 2);
}

static void test_equivalence_configured(void **state)
{
    static char *doms[] = {"one.example", "two.example"};
    static const struct cfg_list list = {doms, 2};

    equivalence(*state, 1, &list, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_modify_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safety, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_window_slides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_window_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_and_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmarked_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equivalence_derived_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equivalence_derived_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equivalence_configured, setup, teardown),
    };

    return cmocka_run_group_tests_name("apply_change", tests, NULL, NULL);
}
