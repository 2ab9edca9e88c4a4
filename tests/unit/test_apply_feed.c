/*
 * test_apply_feed - an upstream hub's feed applied to a real store in a temporary directory
 * (syncd/apply.h, "Feeds from an upstream hub"), driving apply_feed_header(), apply_feed_record()
 * and apply_commit() directly with decoded records:
 *   - a snapshot into an empty store (the MDB_APPEND path): exact addresses, domains and
 *     their kinds, generation = the feed's, entry and log databases empty,
 *     log_floor = the feed's generation;
 *   - a snapshot into a store a directory sync filled: exact added/changed/removed/
 *     unchanged, the store becomes the snapshot, configured domains are ignored, entry
 *     database and log emptied;
 *   - the safety rules on snapshots and change feeds (no addresses, max_delete_ratio,
 *     --force), a feed older than the store (refused, "older"; forced: the generation
 *     goes back);
 *   - change feeds: from must be the store's generation, records applied in order, stats,
 *     the effective changes logged under the feed's generation, no-ops not logged,
 *     log_floor kept; an up-to-date feed (from == to, no records);
 *   - APPLY_BADFEED: keys and domains that are not normalized, an address twice in a
 *     snapshot (empty store and populated store), an out-of-order key into an empty store;
 *     after apply_abort() the store is as it was;
 *   - a dry-run snapshot, and a change feed that overflows changelog_max.

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

#include <cmocka.h>

#include "common/log.h"
#include "schema/feed.h"
#include "schema/rcpt.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "tests/unit/apply_helpers.h"

static int setup(void **state)
{
    return fixture_setup(state, "/tmp/test_apply_feed.XXXXXX");
}

static struct apply_opts opts(void)
{
    return base_opts("https://hub.example");
}

/* ---- feed records ------------------------------------------------------------------- */

/* one feed record as the tests write it; addresses get an rcpt record encoded from it */
struct frec {
    int type;
    const char *key;
    enum rcpt_kind kind;
    enum rcpt_state state;
    const char *primary, *entry; /* 'A', '+', '~' */
    const char *raw;             /* 'M': "c" or "d" */
    size_t rawlen;
};

#define U  RCPT_USER
#define G  RCPT_GROUP
#define AL RCPT_ALIAS
#define ON RCPT_ACTIVE
#define DI RCPT_DISABLED
/* REC - an address record: type 'A', '+' or '~' */
/* DEL - '-' of an address; DOM - 'M' (with kind), 'D', 'X' */
// clang-format off
#define REC(t, k, kind, st, p, e) {(t), (k), (kind), (st), (p), (e), NULL, 0}
#define DEL(k)                    {'-', (k), 0, 0, NULL, NULL, NULL, 0}
#define DOM(t, d, v)              {(t), (d), 0, 0, NULL, NULL, (v), (v) == NULL ? 0 : 1}
// clang-format on

static size_t encode_rcpt(unsigned char *buf, size_t cap, const struct frec *fr)
{
    struct rcpt r = {
        fr->kind,         fr->state,           fr->key[0] == '@' ? RCPT_FLAG_CATCHALL : 0,
        fr->primary,      strlen(fr->primary), fr->entry,
        strlen(fr->entry)};
    int n = rcpt_encode(buf, cap, &r);

    assert_true(n > 0);
    return (size_t)n;
}

/* feed_rec - fr as the decoder would deliver it (val in buf) */
static struct feed_record feed_rec(const struct frec *fr, unsigned char *buf, size_t cap)
{
    struct feed_record r;

    memset(&r, 0, sizeof(r));
    r.type = fr->type;
    r.key = fr->key;
    r.keylen = strlen(fr->key);
    r.val = buf;
    if (fr->primary != NULL) {
        r.vallen = encode_rcpt(buf, cap, fr);
    } else if (fr->raw != NULL) {
        r.vallen = fr->rawlen;
        memcpy(buf, fr->raw, r.vallen);
    }
    return r;
}

/* apply_one - apply_feed_record() of one frec */
static int apply_one(struct apply *a, const struct frec *fr)
{
    unsigned char buf[RCPT_MAX + 8];
    struct feed_record r = feed_rec(fr, buf, sizeof(buf));

    return apply_feed_record(a, &r);
}

/*
 * run_feed - one whole feed: apply_begin, apply_feed_header, apply_feed_record for each, then
 * apply_commit; on an error before the commit, apply_abort. Returns the first error.
 */
static int run_feed(struct store *st, const struct apply_opts *o, enum feed_kind kind,
                    uint64_t from, uint64_t to, const struct frec *recs, size_t n,
                    struct apply_stats *stats)
{
    struct feed_header h = {kind, from, to};
    struct apply *a;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if ((rc = apply_begin(&a, st, o)) != 0)
        return rc;
    if ((rc = apply_feed_header(a, &h)) != 0) {
        snprintf(stats->refusal, sizeof(stats->refusal), "%s", apply_refusal(a));
        apply_abort(a);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = apply_one(a, &recs[i])) != 0) {
            apply_abort(a);
            return rc;
        }
    }
    return apply_commit(a, 0, stats);
}

static void feed_ok(struct store *st, const struct apply_opts *o, enum feed_kind kind,
                    uint64_t from, uint64_t to, const struct frec *recs, size_t n,
                    struct apply_stats *stats)
{
    int rc = run_feed(st, o, kind, from, to, recs, n, stats);

    if (rc != 0)
        fail_msg("feed %c %llu..%llu failed: %d %s (%s)", (char)kind, (unsigned long long)from,
                 (unsigned long long)to, rc,
                 rc == APPLY_REFUSED   ? "refused"
                 : rc == APPLY_BADFEED ? "bad feed"
                                       : store_strerror(rc),
                 stats->refusal);
}

#define NREC(a) (sizeof(a) / sizeof((a)[0]))

/* ---- reading the store back (more in apply_helpers.h) ------------------------------- */

static void expect_unchanged(struct store *st, const char *before, const char *what)
{
    char *after = dump_all(st);

    if (strcmp(before, after) != 0)
        fail_msg("%s: the store changed\nbefore:\n%s\nafter:\n%s", what, before, after);
    free(after);
}

/*
 * expect_addrs - the addr database is exactly the address records of recs (in key order,
 * other types skipped), byte for byte
 */
static void expect_addrs(struct store *st, const struct frec *recs, size_t n)
{
    struct text want = {0};
    char *got;

    text_add(&want, "", 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char buf[RCPT_MAX];
        size_t len;
        if (recs[i].primary == NULL)
            continue;
        len = encode_rcpt(buf, sizeof(buf), &recs[i]);
        text_hex(&want, recs[i].key, strlen(recs[i].key));
        text_add(&want, "=", 1);
        text_hex(&want, buf, len);
        text_add(&want, "\n", 1);
    }
    got = dump(st, STORE_ADDR);
    if (strcmp(want.p, got) != 0)
        fail_msg("addr database:\nexpected\n%s\ngot\n%s", want.p, got);
    free(got);
    free(want.p);
}

/* expect_log - log record l is (gen, seq, op, key) and, for '+' and '~', carries fr's record */
static void expect_log(const struct logrec *l, uint64_t gen, uint32_t seq, char op, const char *key,
                       const struct frec *fr)
{
    if (l->gen != gen || l->seq != seq || l->op != op || strcmp(l->key, key) != 0)
        fail_msg("log record: expected %llu.%u %c %s, got %llu.%u %c %s", (unsigned long long)gen,
                 seq, op, key, (unsigned long long)l->gen, l->seq, l->op, l->key);
    if (fr != NULL) {
        unsigned char buf[RCPT_MAX];
        size_t len = encode_rcpt(buf, sizeof(buf), fr);
        assert_int_equal(l->reclen, len);
        assert_memory_equal(l->rec, buf, len);
    } else {
        assert_int_equal(l->reclen, 0);
    }
}

/* ---- data used by several tests ----------------------------------------------------- */

/* a hub's snapshot: addresses in key order, two managed domains, an entry list */
static const struct frec snap1[] = {
    REC('A', "@example.net", AL, ON, "staff@example.org", "id-staff"),
    REC('A', "a@example.org", AL, ON, "alice@example.org", "id-alice"),
    REC('A', "alice@example.org", U, ON, "alice@example.org", "id-alice"),
    REC('A', "bob@example.org", U, DI, "bob@example.org", "id-bob"),
    REC('A', "staff@example.org", G, ON, "staff@example.org", "id-staff"),
    DOM('M', "example.net", "d"),
    DOM('M', "example.org", "c"),
};
#define NSNAP1 5 /* addresses in snap1 */

/* ten addresses u0..u9@example.org (a fill for the safety and change-feed tests) */
static const struct frec ten[] = {
    REC('A', "u0@example.org", U, ON, "u0@example.org", "id-0"),
    REC('A', "u1@example.org", U, ON, "u1@example.org", "id-1"),
    REC('A', "u2@example.org", U, ON, "u2@example.org", "id-2"),
    REC('A', "u3@example.org", U, ON, "u3@example.org", "id-3"),
    REC('A', "u4@example.org", U, ON, "u4@example.org", "id-4"),
    REC('A', "u5@example.org", U, ON, "u5@example.org", "id-5"),
    REC('A', "u6@example.org", U, ON, "u6@example.org", "id-6"),
    REC('A', "u7@example.org", U, ON, "u7@example.org", "id-7"),
    REC('A', "u8@example.org", U, ON, "u8@example.org", "id-8"),
    REC('A', "u9@example.org", U, ON, "u9@example.org", "id-9"),
    DOM('M', "example.org", "d"),
};

/* fill_ten - the store holds ten at generation gen (a snapshot into the empty store) */
static void fill_ten(struct store *st, uint64_t gen)
{
    struct apply_opts o = opts();
    struct apply_stats s;

    feed_ok(st, &o, FEED_SNAPSHOT, 0, gen, ten, NREC(ten), &s);
    assert_int_equal(s.added, 10);
    assert_int_equal(meta_u64(st, STORE_META_GENERATION), gen);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static void test_snapshot_into_empty_store(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;

    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 0);
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 7, snap1, NREC(snap1), &s);

    assert_int_equal(s.added, NSNAP1);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.removed, 0);
    assert_int_equal(s.unchanged, 0);
    assert_int_equal(s.previous, 0);
    assert_int_equal(s.addresses, NSNAP1);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.domains, 2);
    assert_int_equal(s.domains_added, 2);
    assert_int_equal(s.domains_removed, 0);
    assert_int_equal(s.generation, 7);
    assert_int_equal(s.committed, 1);

    expect_addrs(f->st, snap1, NREC(snap1));
    expect_domains(f->st, "example.net:d example.org:c");
    assert_int_equal(db_count(f->st, STORE_ENTRY), 0);
    assert_int_equal(db_count(f->st, STORE_LOG), 0);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 7);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 7);
    assert_int_equal(meta_u64(f->st, STORE_META_ADDRESSES), NSNAP1);
    assert_int_equal(meta_u64(f->st, STORE_META_DOMAINS), 2);
    assert_int_equal(meta_u64(f->st, STORE_META_ENTRIES), 0);
}

/* a snapshot over a store a directory sync filled (configured domains, entries, a log) */
static void test_snapshot_replaces_directory_store(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    static char *conf_v[] = {"example.org", "example.net", "conf.example"};
    const struct cfg_list conf = {conf_v, 3};
    const struct spec dir[] = {
        {"id-1", 0, 0, {"a@example.org", "a2@example.org"}},
        {"id-2", 0, 0, {"b@example.org"}},
        {"id-3", 0, 0, {"c@example.org", "@example.net"}},
        {"id-4", 0, 0, {"d@other.example"}},
        {"id-5", 0, 0, {"e@example.org"}},
    };
    /* in key order: 4 as stored, b disabled now, d and e gone, n new */
    const struct frec snap[] = {
        REC('A', "@example.net", AL, ON, "c@example.org", "id-3"),
        REC('A', "a2@example.org", AL, ON, "a@example.org", "id-1"),
        REC('A', "a@example.org", U, ON, "a@example.org", "id-1"),
        REC('A', "b@example.org", U, DI, "b@example.org", "id-2"),
        REC('A', "c@example.org", U, ON, "c@example.org", "id-3"),
        REC('A', "n@new.example", U, ON, "n@new.example", "id-n"),
        DOM('M', "example.org", "d"),
        DOM('M', "new.example", "c"),
    };

    o.domains = &conf;
    sync_ok(f->st, dir, 4, &o, &s); /* generation 1 */
    sync_ok(f->st, dir, 5, &o, &s); /* generation 2: + e@example.org, logged */
    assert_int_equal(s.generation, 2);
    assert_int_equal(db_count(f->st, STORE_ADDR), 7);
    assert_int_equal(db_count(f->st, STORE_ENTRY), 5);
    assert_int_equal(db_count(f->st, STORE_LOG), 1);
    expect_domains(f->st, "conf.example:c example.net:c example.org:c");

    o.max_delete_ratio = 0.5; /* 2 of 7 may go */
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 20, snap, NREC(snap), &s);
    assert_int_equal(s.previous, 7);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.removed, 2);
    assert_int_equal(s.unchanged, 4);
    assert_int_equal(s.addresses, 6);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.domains, 2);
    assert_int_equal(s.domains_added, 1);   /* new.example */
    assert_int_equal(s.domains_removed, 2); /* conf.example, example.net */
    assert_int_equal(s.generation, 20);

    expect_addrs(f->st, snap, NREC(snap));
    /* the snapshot's domains and kinds, not the configured ones */
    expect_domains(f->st, "example.org:d new.example:c");
    assert_int_equal(db_count(f->st, STORE_ENTRY), 0);
    assert_int_equal(db_count(f->st, STORE_LOG), 0);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 20);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 20);
    assert_int_equal(meta_u64(f->st, STORE_META_ADDRESSES), 6);
    assert_int_equal(meta_u64(f->st, STORE_META_ENTRIES), 0);
}

/* the same snapshot again: nothing changes but the generation may stay */
static void test_snapshot_again_unchanged(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;

    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 7, snap1, NREC(snap1), &s);
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 9, snap1, NREC(snap1), &s);
    assert_int_equal(s.added + s.changed + s.removed, 0);
    assert_int_equal(s.domains_added + s.domains_removed, 0);
    assert_int_equal(s.unchanged, NSNAP1);
    assert_int_equal(s.generation, 9);
    expect_addrs(f->st, snap1, NREC(snap1));
    expect_domains(f->st, "example.net:d example.org:c");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 9);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 9);
}

static void test_snapshot_without_addresses_refused(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct frec none[] = {DOM('M', "example.org", "d")};
    char *before;

    /* an empty store */
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 3, none, 1, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "no addresses"));
    assert_int_equal(s.committed, 0);
    expect_unchanged(f->st, before, "empty snapshot into an empty store");
    free(before);

    /* a populated one */
    fill_ten(f->st, 5);
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 6, none, 1, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "no addresses"));
    assert_int_equal(s.removed, 10);
    expect_unchanged(f->st, before, "empty snapshot into a populated store");
    free(before);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 5);

    /* forced: the store is emptied */
    o.force = 1;
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 6, none, 1, &s);
    assert_int_equal(s.removed, 10);
    assert_int_equal(s.addresses, 0);
    assert_int_equal(db_count(f->st, STORE_ADDR), 0);
    expect_domains(f->st, "example.org:d");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 6);
}

static void test_snapshot_delete_ratio(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    char *before;
    /* ten without u3 and u7: 2 of 10 > 10 % */
    struct frec eight[NREC(ten)];
    size_t n = 0;

    for (size_t i = 0; i < NREC(ten); i++)
        if (i != 3 && i != 7)
            eight[n++] = ten[i];
    fill_ten(f->st, 5);
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 6, eight, n, &s), APPLY_REFUSED);
    assert_int_equal(s.removed, 2);
    assert_int_equal(s.previous, 10);
    assert_int_equal(s.committed, 0);
    assert_non_null(strstr(s.refusal, "2 of 10"));
    expect_unchanged(f->st, before, "snapshot removing 20 %");
    free(before);

    o.force = 1;
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 6, eight, n, &s);
    assert_int_equal(s.committed, 1);
    assert_int_equal(s.removed, 2);
    assert_int_equal(s.unchanged, 8);
    assert_int_equal(s.addresses, 8);
    expect_addrs(f->st, eight, n);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 6);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 6);
}

/* a feed older than the store is refused; forced, the store goes back to it */
static void test_older_generation(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct feed_header h = {FEED_SNAPSHOT, 0, 9};
    struct apply *a;
    char *before;

    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 10, snap1, NREC(snap1), &s);
    before = dump_all(f->st);
    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_generation(a), 10);
    assert_int_equal(apply_feed_header(a, &h), APPLY_REFUSED);
    assert_non_null(strstr(apply_refusal(a), "older"));
    assert_non_null(strstr(apply_refusal(a), "generation 9"));
    apply_abort(a);
    expect_unchanged(f->st, before, "older snapshot");
    free(before);

    /* forced: taken, generation 9, and ten's data */
    o.force = 1;
    o.max_delete_ratio = 1;
    feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 9, ten, NREC(ten), &s);
    assert_int_equal(s.generation, 9);
    assert_int_equal(s.added, 10);
    assert_int_equal(s.removed, NSNAP1);
    expect_addrs(f->st, ten, NREC(ten));
    expect_domains(f->st, "example.org:d");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 9);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 9);
    assert_int_equal(db_count(f->st, STORE_LOG), 0);
}

/* apply_feed_record before the header, a second header */
static void test_feed_call_order(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct feed_header h = {FEED_SNAPSHOT, 0, 1};
    struct apply *a;
    char *before = dump_all(f->st);

    assert_int_equal(apply_begin(&a, f->st, &o), 0);
    assert_int_equal(apply_one(a, &snap1[0]), EINVAL);
    assert_int_equal(apply_feed_header(a, &h), 0);
    assert_int_equal(apply_feed_header(a, &h), EINVAL);
    apply_abort(a);
    expect_unchanged(f->st, before, "aborted");
    free(before);
}

/* ---- change feeds ------------------------------------------------------------------- */

static void test_changes_from_must_match(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct frec add[] = {REC('+', "new@example.org", U, ON, "new@example.org", "id-new")};
    char *before;

    fill_ten(f->st, 10);
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_CHANGES, 9, 11, add, 1, &s), EINVAL);
    assert_int_equal(run_feed(f->st, &o, FEED_CHANGES, 11, 12, add, 1, &s), EINVAL);
    o.force = 1; /* --force does not make a change feed of another generation fit */
    assert_int_equal(run_feed(f->st, &o, FEED_CHANGES, 9, 11, add, 1, &s), EINVAL);
    expect_unchanged(f->st, before, "change feed from another generation");
    free(before);
}

static void test_changes_applied_and_logged(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    const struct frec chg[] = {
        REC('+', "new@example.org", U, ON, "new@example.org", "id-new"),
        REC('~', "u1@example.org", U, DI, "u1@example.org", "id-1"),
        DEL("u2@example.org"),
        DOM('D', "new.example", NULL),
        DOM('X', "example.org", NULL),
    };
    /* what the store holds afterwards, in key order */
    const struct frec after[] = {
        REC('A', "new@example.org", U, ON, "new@example.org", "id-new"),
        ten[0],
        REC('A', "u1@example.org", U, DI, "u1@example.org", "id-1"),
        ten[3],
        ten[4],
        ten[5],
        ten[6],
        ten[7],
        ten[8],
        ten[9],
    };

    fill_ten(f->st, 10);
    feed_ok(f->st, &o, FEED_CHANGES, 10, 12, chg, NREC(chg), &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.unchanged, 0);
    assert_int_equal(s.domains_added, 1);
    assert_int_equal(s.domains_removed, 1);
    assert_int_equal(s.previous, 10);
    assert_int_equal(s.addresses, 10);
    assert_int_equal(s.generation, 12);
    assert_int_equal(s.committed, 1);

    expect_addrs(f->st, after, NREC(after));
    expect_domains(f->st, "new.example:d");
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 12);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);
    assert_int_equal(meta_u64(f->st, STORE_META_ADDRESSES), 10);
    assert_int_equal(meta_u64(f->st, STORE_META_DOMAINS), 1);

    /* the store's own log: the feed's records under generation 12, in order */
    assert_int_equal(read_log(f->st, log, 16), 5);
    expect_log(&log[0], 12, 0, '+', "new@example.org", &chg[0]);
    expect_log(&log[1], 12, 1, '~', "u1@example.org", &chg[1]);
    expect_log(&log[2], 12, 2, '-', "u2@example.org", NULL);
    expect_log(&log[3], 12, 3, 'D', "new.example", NULL);
    expect_log(&log[4], 12, 4, 'X', "example.org", NULL);

    /* the next feed starts where this one ended and appends under its own generation */
    feed_ok(f->st, &o, FEED_CHANGES, 12, 13, chg + 2, 0, &s); /* nothing: 12 -> 13 */
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 13);
    {
        const struct frec one[] = {DEL("u3@example.org")};
        feed_ok(f->st, &o, FEED_CHANGES, 13, 14, one, 1, &s);
    }
    assert_int_equal(read_log(f->st, log, 16), 6);
    expect_log(&log[5], 14, 0, '-', "u3@example.org", NULL);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);
}

/* records apply in the order they come: the same key added, removed, added again */
static void test_changes_in_order(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    const struct frec chg[] = {
        REC('+', "x@example.org", U, ON, "x@example.org", "id-x"),
        DEL("x@example.org"),
        REC('+', "x@example.org", AL, ON, "u0@example.org", "id-0"),
        DEL("u5@example.org"),
        REC('+', "u5@example.org", U, DI, "u5@example.org", "id-5"),
        REC('~', "u6@example.org", AL, ON, "u0@example.org", "id-0"),
        REC('~', "u6@example.org", U, ON, "u6@example.org", "id-6"),
    };

    fill_ten(f->st, 10);
    o.max_delete_ratio = 0.5;
    feed_ok(f->st, &o, FEED_CHANGES, 10, 11, chg, NREC(chg), &s);
    /* 3 adds, 2 removals, 2 changes */
    assert_int_equal(s.added, 3);
    assert_int_equal(s.removed, 2);
    assert_int_equal(s.changed, 2);
    assert_int_equal(s.addresses, 11);
    {
        const struct frec want[] = {
            ten[0],
            ten[1],
            ten[2],
            ten[3],
            ten[4],
            REC('A', "u5@example.org", U, DI, "u5@example.org", "id-5"),
            ten[6],
            ten[7],
            ten[8],
            ten[9],
            REC('A', "x@example.org", AL, ON, "u0@example.org", "id-0"),
        };
        expect_addrs(f->st, want, NREC(want));
    }
    assert_int_equal(read_log(f->st, log, 16), 7);
    expect_log(&log[0], 11, 0, '+', "x@example.org", &chg[0]);
    expect_log(&log[1], 11, 1, '-', "x@example.org", NULL);
    expect_log(&log[2], 11, 2, '+', "x@example.org", &chg[2]);
    expect_log(&log[3], 11, 3, '-', "u5@example.org", NULL);
    expect_log(&log[4], 11, 4, '+', "u5@example.org", &chg[4]);
    expect_log(&log[5], 11, 5, '~', "u6@example.org", &chg[5]);
    expect_log(&log[6], 11, 6, '~', "u6@example.org", &chg[6]);
}

/* records that change nothing here are counted as such and not logged */
static void test_changes_noops_not_logged(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    const struct frec chg[] = {
        DEL("absent@example.org"),                                   /* not there */
        REC('+', "u1@example.org", U, ON, "u1@example.org", "id-1"), /* identical */
        REC('~', "u2@example.org", U, ON, "u2@example.org", "id-2"), /* identical */
        DOM('D', "example.org", NULL),                               /* already managed */
        DOM('X', "absent.example", NULL),                            /* not managed */
        REC('+', "y@example.org", U, ON, "y@example.org", "id-y"),   /* the one change */
    };
    char *data;

    fill_ten(f->st, 10);
    feed_ok(f->st, &o, FEED_CHANGES, 10, 11, chg, NREC(chg), &s);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.changed, 0);
    assert_int_equal(s.removed, 0);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(s.domains_added + s.domains_removed, 0);
    assert_int_equal(s.generation, 11);
    assert_int_equal(read_log(f->st, log, 16), 1);
    expect_log(&log[0], 11, 0, '+', "y@example.org", &chg[5]);
    expect_domains(f->st, "example.org:d");

    /* a feed of nothing but no-ops: the generation moves, the data and the log do not */
    data = dump(f->st, STORE_ADDR);
    feed_ok(f->st, &o, FEED_CHANGES, 11, 12, chg, 5, &s);
    assert_int_equal(s.added + s.changed + s.removed, 0);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(s.generation, 12);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 12);
    {
        char *now = dump(f->st, STORE_ADDR);
        assert_string_equal(data, now);
        free(now);
    }
    free(data);
    assert_int_equal(read_log(f->st, log, 16), 1);
    expect_log(&log[0], 11, 0, '+', "y@example.org", &chg[5]);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);
}

/* an up-to-date poll: from == to, no records: data, domains, generation, floor stay */
static void test_changes_up_to_date(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    char *addr, *dom;

    fill_ten(f->st, 10);
    addr = dump(f->st, STORE_ADDR);
    dom = dump(f->st, STORE_DOMAIN);
    feed_ok(f->st, &o, FEED_CHANGES, 10, 10, NULL, 0, &s);
    assert_int_equal(s.added + s.changed + s.removed + s.unchanged, 0);
    assert_int_equal(s.generation, 10);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 10);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);
    {
        char *a2 = dump(f->st, STORE_ADDR), *d2 = dump(f->st, STORE_DOMAIN);
        assert_string_equal(addr, a2);
        assert_string_equal(dom, d2);
        free(a2);
        free(d2);
    }
    free(addr);
    free(dom);
    assert_int_equal(db_count(f->st, STORE_LOG), 0);
}

/*
 * An up-to-date change feed (from == to == the store's generation G, no records) keeps the
 * log records of G: a chained edge at G-1 must still get them. (apply_commit once dropped
 * "this sync's unpublished generation" here, which for a feed is G itself.)
 */
static void test_changes_up_to_date_keeps_log(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct frec chg[] = {
        REC('+', "new@example.org", U, ON, "new@example.org", "id-new"),
        DEL("u2@example.org"),
    };
    char *log_before, *log_after;

    fill_ten(f->st, 10);
    feed_ok(f->st, &o, FEED_CHANGES, 10, 11, chg, NREC(chg), &s);
    assert_int_equal(db_count(f->st, STORE_LOG), 2);
    log_before = dump(f->st, STORE_LOG);
    feed_ok(f->st, &o, FEED_CHANGES, 11, 11, NULL, 0, &s);
    assert_int_equal(s.generation, 11);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 11);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);
    /* expected: generation 11's '+' and '-' still logged; got: an empty log */
    log_after = dump(f->st, STORE_LOG);
    assert_string_equal(log_before, log_after);
    free(log_before);
    free(log_after);
}

/* the safety rules hold for change feeds too: a hub's forced sync must be forced here */
static void test_changes_safety_rules(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    const struct frec three[] = {DEL("u0@example.org"), DEL("u1@example.org"),
                                 DEL("u2@example.org")};
    struct frec all[10];
    char *before;

    for (size_t i = 0; i < 10; i++)
        all[i] = (struct frec)DEL(ten[i].key);
    fill_ten(f->st, 10);
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_CHANGES, 10, 11, three, 3, &s), APPLY_REFUSED);
    assert_int_equal(s.removed, 3);
    assert_non_null(strstr(s.refusal, "3 of 10"));
    expect_unchanged(f->st, before, "change feed removing 30 %");
    o.max_delete_ratio = 1;
    assert_int_equal(run_feed(f->st, &o, FEED_CHANGES, 10, 11, all, 10, &s), APPLY_REFUSED);
    assert_non_null(strstr(s.refusal, "no addresses"));
    expect_unchanged(f->st, before, "change feed removing everything");
    free(before);

    o.max_delete_ratio = 0.10;
    o.force = 1;
    feed_ok(f->st, &o, FEED_CHANGES, 10, 11, three, 3, &s);
    assert_int_equal(s.removed, 3);
    assert_int_equal(s.addresses, 7);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 11);
    assert_int_equal(db_count(f->st, STORE_LOG), 3);
}

/* more changes than changelog_max: the log is dropped and its floor is the new generation */
static void test_changes_log_overflow(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    struct logrec log[16];
    const struct frec one[] = {REC('+', "a@example.org", U, ON, "a@example.org", "id-a")};
    const struct frec five[] = {
        REC('+', "b@example.org", U, ON, "b@example.org", "id-b"),
        REC('+', "c@example.org", U, ON, "c@example.org", "id-c"),
        REC('~', "u1@example.org", U, DI, "u1@example.org", "id-1"),
        DEL("u2@example.org"),
        DOM('D', "new.example", NULL),
    };

    o.changelog_max = 2;
    fill_ten(f->st, 10);
    feed_ok(f->st, &o, FEED_CHANGES, 10, 11, one, 1, &s);
    assert_int_equal(read_log(f->st, log, 16), 1);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 10);

    feed_ok(f->st, &o, FEED_CHANGES, 11, 12, five, NREC(five), &s);
    assert_int_equal(s.added, 2);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.domains_added, 1);
    assert_int_equal(s.generation, 12);
    assert_int_equal(db_count(f->st, STORE_LOG), 0); /* generation 11's record went too */
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 12);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 12);
    assert_int_equal(db_count(f->st, STORE_ADDR), 12);
    expect_domains(f->st, "example.org:d new.example:d");

    /* logging goes on after it */
    feed_ok(f->st, &o, FEED_CHANGES, 12, 13, five + 3, 1, &s); /* u2 is gone: a no-op */
    feed_ok(f->st, &o, FEED_CHANGES, 13, 14, one, 1, &s);      /* a is there: a no-op */
    {
        const struct frec d[] = {DEL("a@example.org")};
        feed_ok(f->st, &o, FEED_CHANGES, 14, 15, d, 1, &s);
    }
    assert_int_equal(read_log(f->st, log, 16), 1);
    expect_log(&log[0], 15, 0, '-', "a@example.org", NULL);
    assert_int_equal(meta_u64(f->st, STORE_META_LOG_FLOOR), 12);
}

/* ---- feeds that cannot be right ----------------------------------------------------- */

/*
 * expect_badfeed - after the good records, bad is APPLY_BADFEED; apply_abort() leaves the
 * store as it was
 */
static void expect_badfeed(struct store *st, enum feed_kind kind, uint64_t from, uint64_t to,
                           const struct frec *good, size_t ngood, const struct frec *bad)
{
    struct apply_opts o = opts();
    struct feed_header h = {kind, from, to};
    struct apply *a;
    char *before = dump_all(st);
    int rc;

    o.force = 1;
    assert_int_equal(apply_begin(&a, st, &o), 0);
    assert_int_equal(apply_feed_header(a, &h), 0);
    for (size_t i = 0; i < ngood; i++)
        assert_int_equal(apply_one(a, &good[i]), 0);
    rc = apply_one(a, bad);
    if (rc != APPLY_BADFEED)
        fail_msg("%c record \"%s\" in a %s feed: expected APPLY_BADFEED, got %d", bad->type,
                 bad->key, kind == FEED_SNAPSHOT ? "snapshot" : "change", rc);
    apply_abort(a);
    expect_unchanged(st, before, bad->key);
    free(before);
}

static const char *const bad_keys[] = {
    "Alice@example.org",           /* upper case */
    "alice@Example.org",  "alice", /* no '@' */
    "alice@example.org.",          /* trailing dot */
    " alice@example.org",          /* space */
    "alice@@example.org", "alice@exa mple.org",
};

static void test_badfeed_address_keys(void **state)
{
    struct fixture *f = *state;
    const struct frec good[] = {REC('A', "@example.net", AL, ON, "a@example.org", "id-a"),
                                REC('A', "a@example.org", U, ON, "a@example.org", "id-a")};

    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        const char *k = bad_keys[i];
        const struct frec snap = REC('A', k, U, ON, "zz@example.org", "id-z");
        const struct frec add = REC('+', k, U, ON, "zz@example.org", "id-z");
        const struct frec del = DEL(k);

        /* an empty store (generation 0), then below a populated one */
        expect_badfeed(f->st, FEED_SNAPSHOT, 0, 1, NULL, 0, &snap);
        expect_badfeed(f->st, FEED_CHANGES, 0, 1, NULL, 0, &add);
        expect_badfeed(f->st, FEED_CHANGES, 0, 1, NULL, 0, &del);
    }
    fill_ten(f->st, 10);
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        const char *k = bad_keys[i];
        const struct frec snap = REC('A', k, U, ON, "zz@example.org", "id-z");
        const struct frec add = REC('+', k, U, ON, "zz@example.org", "id-z");
        const struct frec chg = REC('~', k, U, ON, "zz@example.org", "id-z");
        const struct frec del = DEL(k);

        expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, good, 2, &snap);
        expect_badfeed(f->st, FEED_CHANGES, 10, 11, good, 0, &add);
        expect_badfeed(f->st, FEED_CHANGES, 10, 11, good, 0, &chg);
        expect_badfeed(f->st, FEED_CHANGES, 10, 11, good, 0, &del);
    }
}

static void test_badfeed_domains(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {"Example.org", "example.org.", "example..org", "exa mple.org",
                                      "@example.org"};

    fill_ten(f->st, 10);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct frec m = DOM('M', bad[i], "d");
        const struct frec d = DOM('D', bad[i], NULL);
        const struct frec x = DOM('X', bad[i], NULL);

        expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, ten, 10, &m);
        expect_badfeed(f->st, FEED_CHANGES, 10, 11, NULL, 0, &d);
        expect_badfeed(f->st, FEED_CHANGES, 10, 11, NULL, 0, &x);
    }
}

/* the same address twice, or out of key order, in a snapshot into an empty store */
static void test_badfeed_snapshot_into_empty_store(void **state)
{
    struct fixture *f = *state;
    const struct frec a = REC('A', "a@example.org", U, ON, "a@example.org", "id-a");
    const struct frec a2 = REC('A', "a@example.org", U, DI, "a@example.org", "id-a");
    const struct frec b = REC('A', "b@example.org", U, ON, "b@example.org", "id-b");
    const struct frec ab[] = {a, b};

    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 1, &a, 1, &a);  /* twice, the same */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 1, &a, 1, &a2); /* twice, another record */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 1, ab, 2, &a);  /* twice, not adjacent */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 1, &b, 1, &a);  /* out of order */
    assert_int_equal(db_count(f->st, STORE_ADDR), 0);
    assert_int_equal(meta_u64(f->st, STORE_META_GENERATION), 0);
}

/* the same address twice in a snapshot into a populated store (the seen-set path) */
static void test_badfeed_snapshot_twice_populated(void **state)
{
    struct fixture *f = *state;
    const struct frec n = REC('A', "n@example.org", U, ON, "n@example.org", "id-n");
    const struct frec n2 = REC('A', "n@example.org", G, ON, "n@example.org", "id-n");
    const struct frec u1b = REC('A', "u1@example.org", U, DI, "u1@example.org", "id-1");

    fill_ten(f->st, 10);
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, ten, 3, &ten[1]); /* stored, twice */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, ten, 3, &u1b);    /* stored, another record */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, &n, 1, &n);       /* new, twice */
    expect_badfeed(f->st, FEED_SNAPSHOT, 0, 11, &n, 1, &n2);      /* new, another record */
    {
        /* out of order is fine into a populated store: the same set in reverse */
        struct apply_opts o = opts();
        struct apply_stats s;
        struct frec rev[NREC(ten)];
        for (size_t i = 0; i < NREC(ten); i++)
            rev[i] = ten[NREC(ten) - 1 - i];
        feed_ok(f->st, &o, FEED_SNAPSHOT, 0, 11, rev, NREC(rev), &s);
        assert_int_equal(s.unchanged, 10);
        assert_int_equal(s.added + s.changed + s.removed, 0);
        expect_addrs(f->st, ten, NREC(ten));
    }
}

/* ---- dry run ------------------------------------------------------------------------ */

static void test_snapshot_dry_run(void **state)
{
    struct fixture *f = *state;
    struct apply_opts o = opts();
    struct apply_stats s;
    char *before;
    const struct frec snap[] = {
        REC('A', "new@example.org", U, ON, "new@example.org", "id-new"),
        ten[0],
        REC('A', "u1@example.org", G, ON, "u1@example.org", "id-1"),
        ten[2],
        ten[3],
        ten[4],
        ten[5],
        ten[6],
        ten[7],
        ten[8], /* u9 goes */
        DOM('M', "example.org", "c"),
        DOM('M', "new.example", "d"),
    };

    /* into an empty store */
    o.dry_run = 1;
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 4, snap1, NREC(snap1), &s), 0);
    assert_int_equal(s.added, NSNAP1);
    assert_int_equal(s.addresses, NSNAP1);
    assert_int_equal(s.domains_added, 2);
    assert_int_equal(s.generation, 4);
    assert_int_equal(s.committed, 0);
    expect_unchanged(f->st, before, "dry run into an empty store");
    free(before);

    /* into a populated one */
    o.dry_run = 0;
    fill_ten(f->st, 10);
    o.dry_run = 1;
    before = dump_all(f->st);
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 11, snap, NREC(snap), &s), 0);
    assert_int_equal(s.added, 1);
    assert_int_equal(s.changed, 1);
    assert_int_equal(s.removed, 1);
    assert_int_equal(s.unchanged, 8);
    assert_int_equal(s.previous, 10);
    assert_int_equal(s.addresses, 10);
    assert_int_equal(s.domains_added, 1);
    assert_int_equal(s.domains_removed, 0);
    assert_int_equal(s.generation, 11);
    assert_int_equal(s.committed, 0);
    expect_unchanged(f->st, before, "dry run into a populated store");

    /* a dry run the safety rules refuse is refused */
    assert_int_equal(run_feed(f->st, &o, FEED_SNAPSHOT, 0, 11, ten, 5, &s), APPLY_REFUSED);
    expect_unchanged(f->st, before, "refused dry run");
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_into_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_replaces_directory_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_again_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_without_addresses_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_delete_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_call_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_from_must_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_applied_and_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_noops_not_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_up_to_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_up_to_date_keeps_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_safety_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_log_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_badfeed_address_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_badfeed_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_badfeed_snapshot_into_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_badfeed_snapshot_twice_populated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_dry_run, setup, teardown),
    };

    log_init("test_apply_feed", 1, LOG_LEVEL_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
