/*
 * apply_helpers.h - what test_apply.c and test_apply_feed.c share: a real store in a
 * temporary directory, directory-entry syncs, and reading the store back.
 *
 *   - struct fixture, fixture_setup() and teardown(): cmocka setup/teardown of a store at
 *     <dir>/store, dir made by mkdtemp() from the caller's template; teardown closes the
 *     store, removes the whole directory and frees the fixture;
 *   - base_opts(): apply options with the caller's source, max_delete_ratio 0.10 and
 *     changelog_max 1000 (source is not copied: pass a string that outlives the options);
 *   - struct spec, build(), sync_specs() and sync_ok(): one whole directory sync of specs
 *     (sync_ok fails the test unless it commits); build() grows e->addrs, which the caller
 *     frees with entry_free();
 *   - struct text, text_add() and text_hex(): a growing NUL-terminated string (t.p, which
 *     the caller frees; start from {0});
 *   - dump(), dump_data() and dump_all(): databases as hex text to compare before and
 *     after; each returns a malloc'ed string the caller frees;
 *   - meta_u64(), db_count(), expect_domains(), struct logrec and read_log(): the meta
 *     values, record counts, domain database and change log; read_log() fills the caller's
 *     array and allocates nothing.
 *
 * Everything is static inline, so a test that leaves a helper unused gets no warning.
 */
#ifndef TESTS_UNIT_APPLY_HELPERS_H
#define TESTS_UNIT_APPLY_HELPERS_H

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

#include "schema/rcpt.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "syncd/apply_feed.h"
#include "syncd/apply_full.h"

#define MAPSIZE ((size_t)64 << 20)
#define MAXA    8

/* ---- the fixture: a store in a temporary directory --------------------------------- */

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
};

static inline int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(p);
}

/* fixture_setup - a fixture whose dir is made from tmpl ("/tmp/NAME.XXXXXX") */
static inline int fixture_setup(void **state, const char *tmpl)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
    if (store_open(&f->st, f->path, 0, MAPSIZE) != 0)
        return -1;
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static inline struct apply_opts base_opts(const char *source)
{
    struct apply_opts o;

    memset(&o, 0, sizeof(o));
    o.source = source;
    o.max_delete_ratio = 0.10;
    o.changelog_max = 1000;
    return o;
}

/* ---- directory entries -------------------------------------------------------------- */

/* one entry as the tests write it: addrs[0] is the primary */
struct spec {
    const char *id;
    int disabled, group;
    const char *addrs[MAXA];
};

/* build - a sync_entry from a spec (keys already normalized) */
static inline void build(struct sync_entry *e, const struct spec *s)
{
    e->naddrs = 0;
    e->id_len = strlen(s->id);
    memcpy(e->id, s->id, e->id_len + 1);
    e->state = s->disabled ? RCPT_DISABLED : RCPT_ACTIVE;
    e->primary_len = 0;
    for (size_t i = 0; i < MAXA && s->addrs[i] != NULL; i++) {
        if (e->naddrs == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 4;
            e->addrs = realloc(e->addrs, e->cap * sizeof(*e->addrs));
            assert_non_null(e->addrs);
        }
        e->addrs[e->naddrs].len = strlen(s->addrs[i]);
        memcpy(e->addrs[e->naddrs].key, s->addrs[i], e->addrs[e->naddrs].len + 1);
        e->addrs[e->naddrs].kind = i > 0 ? RCPT_ALIAS : s->group ? RCPT_GROUP : RCPT_USER;
        e->naddrs++;
    }
    if (e->naddrs > 0) {
        e->primary_len = e->addrs[0].len;
        memcpy(e->primary, e->addrs[0].key, e->primary_len + 1);
    }
}

/* sync_specs - one whole sync of n specs into st; returns the first error */
static inline int sync_specs(struct store *st, const struct spec *specs, size_t n,
                             const struct apply_opts *o, struct apply_stats *stats)
{
    struct sync_entry e;
    struct apply *a;
    int rc;

    memset(&e, 0, sizeof(e));
    memset(stats, 0, sizeof(*stats));
    if ((rc = apply_begin(&a, st, o)) != 0)
        return rc;
    assert_int_equal(apply_full_start(a), 0);
    for (size_t i = 0; i < n; i++) {
        build(&e, &specs[i]);
        if ((rc = apply_full_entry(a, &e)) != 0) {
            apply_abort(a);
            entry_free(&e);
            return rc;
        }
    }
    entry_free(&e);
    return apply_commit(a, 0, stats);
}

static inline void sync_ok(struct store *st, const struct spec *specs, size_t n,
                           const struct apply_opts *o, struct apply_stats *stats)
{
    int rc = sync_specs(st, specs, n, o, stats);

    if (rc != 0)
        fail_msg("sync failed: %d %s (%s)", rc,
                 rc == APPLY_REFUSED ? "refused" : store_strerror(rc), stats->refusal);
}

/* ---- reading the store back ---------------------------------------------------------- */

struct text {
    char *p;
    size_t len, cap;
};

static inline void text_add(struct text *t, const void *s, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->len, s, len);
    t->len += len;
    t->p[t->len] = '\0';
}

static inline void text_hex(struct text *t, const void *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        char two[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        text_add(t, two, 2);
    }
}

/* dump - every record of one database as "key=value\n" in hex (caller frees) */
static inline char *dump(struct store *st, enum store_db db)
{
    struct text t = {0};
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    text_add(&t, "", 0);
    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, store_dbi(st, db), &cur), 0);
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        text_hex(&t, k.mv_data, k.mv_size);
        text_add(&t, "=", 1);
        text_hex(&t, v.mv_data, v.mv_size);
        text_add(&t, "\n", 1);
    }
    assert_int_equal(rc, MDB_NOTFOUND);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return t.p;
}

/* dump_data - addr, domain, entry and log databases together (caller frees) */
static inline char *dump_data(struct store *st)
{
    static const enum store_db dbs[] = {STORE_ADDR, STORE_DOMAIN, STORE_ENTRY, STORE_LOG};
    struct text t = {0};

    text_add(&t, "", 0);
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        char *d = dump(st, dbs[i]);
        text_add(&t, "--\n", 3);
        text_add(&t, d, strlen(d));
        free(d);
    }
    return t.p;
}

/* dump_all - dump_data and meta: every database (caller frees) */
static inline char *dump_all(struct store *st)
{
    char *d = dump_data(st), *m = dump(st, STORE_META);
    struct text t = {0};

    text_add(&t, d, strlen(d));
    text_add(&t, "--meta\n", 7);
    text_add(&t, m, strlen(m));
    free(d);
    free(m);
    return t.p;
}

static inline uint64_t meta_u64(struct store *st, const char *name)
{
    MDB_txn *txn;
    uint64_t v;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_meta_get_u64(txn, st, name, &v), 0);
    mdb_txn_abort(txn);
    return v;
}

static inline uint64_t db_count(struct store *st, enum store_db db)
{
    MDB_txn *txn;
    MDB_stat ms;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_stat(txn, store_dbi(st, db), &ms), 0);
    mdb_txn_abort(txn);
    return ms.ms_entries;
}

/* expect_domains - the domain database is exactly "dom:kind dom:kind ..." in key order */
static inline void expect_domains(struct store *st, const char *want)
{
    struct text t = {0};
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;

    text_add(&t, "", 0);
    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, store_dbi(st, STORE_DOMAIN), &cur), 0);
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        if (t.len > 0)
            text_add(&t, " ", 1);
        text_add(&t, k.mv_data, k.mv_size);
        text_add(&t, ":", 1);
        text_add(&t, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    assert_string_equal(t.p, want);
    free(t.p);
}

/*
 * one change-log record: the record after the key as stored (rec, reclen) and, when there
 * is one (has_rec), decoded into r with primary and entry copied out as strings
 */
struct logrec {
    uint64_t gen;
    uint32_t seq;
    char op;
    char key[ADDR_KEY_SIZE];
    unsigned char rec[RCPT_MAX];
    size_t reclen;
    int has_rec;
    struct rcpt r;
    char primary[ADDR_KEY_SIZE], entry[RCPT_ENTRY_MAX + 1];
};

/* read_log - the whole log, decoded into out[0..max); returns the number of records */
static inline size_t read_log(struct store *st, struct logrec *out, size_t max)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_cursor_open(txn, store_dbi(st, STORE_LOG), &cur), 0);
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        struct store_log_rec lr;
        struct logrec *l;

        assert_true(n < max);
        l = &out[n++];
        memset(l, 0, sizeof(*l));
        assert_int_equal(store_log_key_decode(k.mv_data, k.mv_size, &l->gen, &l->seq), 0);
        assert_int_equal(store_log_decode(&lr, v.mv_data, v.mv_size), 0);
        l->op = (char)lr.op;
        assert_true(lr.keylen < ADDR_KEY_SIZE);
        memcpy(l->key, lr.key, lr.keylen);
        l->reclen = lr.reclen;
        assert_true(l->reclen <= sizeof(l->rec));
        if (l->reclen > 0)
            memcpy(l->rec, lr.rec, l->reclen);
        if (l->reclen > 0) {
            l->has_rec = 1;
            assert_int_equal(rcpt_decode(&l->r, l->rec, l->reclen), 0);
            memcpy(l->primary, l->r.primary, l->r.primary_len);
            memcpy(l->entry, l->r.entry, l->r.entry_len);
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return n;
}

#endif /* TESTS_UNIT_APPLY_HELPERS_H */
