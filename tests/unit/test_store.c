/*
 * test_store - the LMDB store: create and reopen, meta, the three kinds of "not this
 * store", corrupt records, a full map grown and retried, a map grown by another process,
 * store_info_read and the change-log key order.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema/rcpt.h"
#include "schema/store.h"

#define SMALL_MAP ((size_t)256 * 1024)

struct fixture {
    char dir[64];   /* the temporary directory */
    char path[128]; /* the store inside it (not created yet) */
};

static int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void expect_rc(int got, int want, const char *what)
{
    if (got != want)
        fail_msg("%s: expected %d (%s), got %d (%s)", what, want, store_strerror(want), got,
                 store_strerror(got));
}

/* put_record - an address record for key i, with an entry id padded to pad bytes */
static int put_record(MDB_txn *txn, const struct store *st, unsigned i, size_t pad)
{
    char key[64], entry[RCPT_ENTRY_MAX];
    unsigned char val[RCPT_MAX];
    struct rcpt r;
    MDB_val k, v;
    int n;

    snprintf(key, sizeof(key), "user%06u@example.org", i);
    memset(entry, 'e', sizeof(entry));
    snprintf(entry, sizeof(entry), "entry-%06u", i);
    entry[strlen(entry)] = '-';
    r = (struct rcpt){RCPT_USER, RCPT_ACTIVE, 0, key, strlen(key), entry, pad};
    n = rcpt_encode(val, sizeof(val), &r);
    assert_true(n > 0);
    k.mv_size = strlen(key);
    k.mv_data = key;
    v.mv_size = (size_t)n;
    v.mv_data = val;
    return mdb_put(txn, store_dbi(st, STORE_ADDR), &k, &v, 0);
}

static void check_record(MDB_txn *txn, const struct store *st, unsigned i, size_t pad)
{
    char key[64];
    struct rcpt r;

    snprintf(key, sizeof(key), "user%06u@example.org", i);
    expect_rc(store_addr_get(txn, st, key, strlen(key), &r), 0, key);
    assert_int_equal(r.kind, RCPT_USER);
    assert_int_equal(r.primary_len, strlen(key));
    assert_memory_equal(r.primary, key, strlen(key));
    assert_int_equal(r.entry_len, pad);
}

/* write_records - records [from, to) in one write transaction; returns 0 or the LMDB error */
static int write_records(struct store *st, unsigned from, unsigned to, size_t pad)
{
    MDB_txn *txn;
    int rc;

    if ((rc = store_begin(st, 0, &txn)) != 0)
        return rc;
    for (unsigned i = from; i < to; i++) {
        if ((rc = put_record(txn, st, i, pad)) != 0) {
            mdb_txn_abort(txn);
            return rc;
        }
    }
    if ((rc = store_meta_put_u64(txn, st, STORE_META_ADDRESSES, to)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static void test_create_reopen(void **state)
{
    struct fixture *f = *state;
    struct store *st = (struct store *)1;
    MDB_txn *txn;
    char buf[64];
    uint64_t v;
    struct stat sb;

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    assert_non_null(st);
    assert_string_equal(store_path(st), f->path);
    assert_true(store_mapsize(st) >= SMALL_MAP);
    assert_non_null(store_env(st));
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    for (int a = 0; a < STORE_NDB; a++)
        for (int b = 0; b < a; b++)
            assert_int_not_equal(store_dbi(st, (enum store_db)a), store_dbi(st, (enum store_db)b));
    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin");
    expect_rc(store_meta_get(txn, st, STORE_META_MAGIC, buf, sizeof(buf)), 0, "magic");
    assert_string_equal(buf, STORE_MAGIC);
    expect_rc(store_meta_get_u64(txn, st, STORE_META_FORMAT, &v), 0, "format");
    assert_int_equal(v, STORE_FORMAT);
    expect_rc(store_meta_get(txn, st, STORE_META_GENERATION, buf, sizeof(buf)), 0, "generation");
    assert_string_equal(buf, "0");
    mdb_txn_abort(txn);
    expect_rc(write_records(st, 0, 10, 16), 0, "write");
    store_close(st);

    /* a second read-write open keeps what is there */
    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "reopen rw");
    store_close(st);

    expect_rc(store_open(&st, f->path, STORE_RDONLY, 0), 0, "reopen rdonly");
    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin rdonly");
    for (unsigned i = 0; i < 10; i++)
        check_record(txn, st, i, 16);
    expect_rc(store_meta_get_u64(txn, st, STORE_META_ADDRESSES, &v), 0, "addresses");
    assert_int_equal(v, 10);
    mdb_txn_abort(txn);
    /* no write transaction on a read-only store */
    assert_int_not_equal(store_begin(st, 0, &txn), 0);
    store_close(st);
    store_close(NULL);
}

static void test_meta(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    MDB_txn *txn;
    char buf[STORE_META_MAX + 16], big[3000];
    uint64_t v = 99;

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    expect_rc(store_begin(st, 0, &txn), 0, "begin");
    expect_rc(store_meta_put(txn, st, STORE_META_SOURCE, "ldap://ldap.example.org"), 0, "put");
    expect_rc(store_meta_put_u64(txn, st, STORE_META_LAST_SUCCESS, 1700000000), 0, "put u64");
    expect_rc(store_meta_put_u64(txn, st, "max", UINT64_MAX), 0, "put max");
    expect_rc(store_meta_put(txn, st, "empty", ""), 0, "put empty");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_rc(store_meta_put(txn, st, STORE_META_LAST_ERROR, big), 0, "put big");
    expect_rc(mdb_txn_commit(txn), 0, "commit");

    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin");
    expect_rc(store_meta_get(txn, st, STORE_META_SOURCE, buf, sizeof(buf)), 0, "get");
    assert_string_equal(buf, "ldap://ldap.example.org");
    /* cap: the value and its NUL must fit */
    expect_rc(store_meta_get(txn, st, STORE_META_SOURCE, buf, 24), 0, "get exact");
    expect_rc(store_meta_get(txn, st, STORE_META_SOURCE, buf, 23), STORE_ERR_CORRUPT, "get short");
    expect_rc(store_meta_get_u64(txn, st, STORE_META_LAST_SUCCESS, &v), 0, "get u64");
    assert_int_equal(v, 1700000000);
    expect_rc(store_meta_get_u64(txn, st, "max", &v), 0, "get max");
    assert_true(v == UINT64_MAX);
    expect_rc(store_meta_get(txn, st, "nosuch", buf, sizeof(buf)), MDB_NOTFOUND, "missing");
    v = 99;
    expect_rc(store_meta_get_u64(txn, st, "nosuch", &v), 0, "missing u64");
    assert_int_equal(v, 0);
    expect_rc(store_meta_get(txn, st, "empty", buf, sizeof(buf)), 0, "empty");
    assert_string_equal(buf, "");
    expect_rc(store_meta_get_u64(txn, st, "empty", &v), STORE_ERR_CORRUPT, "empty u64");
    /* values are cut to STORE_META_MAX - 1 bytes */
    expect_rc(store_meta_get(txn, st, STORE_META_LAST_ERROR, buf, sizeof(buf)), 0, "big");
    assert_int_equal(strlen(buf), STORE_META_MAX - 1);
    mdb_txn_abort(txn);

    /* numbers that do not decode */
    {
        static const char *const bad[] = {"abc", "-1", " 5", "5x", "+5", "18446744073709551616",
                                          "1e3"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            expect_rc(store_begin(st, 0, &txn), 0, "begin");
            expect_rc(store_meta_put(txn, st, "num", bad[i]), 0, "put");
            v = 7;
            if (store_meta_get_u64(txn, st, "num", &v) != STORE_ERR_CORRUPT)
                fail_msg("meta value '%s' read as the number %llu", bad[i], (unsigned long long)v);
            mdb_txn_abort(txn);
        }
    }
    store_close(st);
}

static void test_nostore(void **state)
{
    struct fixture *f = *state;
    struct store *st = (struct store *)1;
    char empty[160];

    expect_rc(store_open(&st, f->path, STORE_RDONLY, 0), STORE_ERR_NOSTORE, "missing dir");
    assert_null(st);
    snprintf(empty, sizeof(empty), "%s/empty", f->dir);
    assert_int_equal(mkdir(empty, 0700), 0);
    st = (struct store *)1;
    expect_rc(store_open(&st, empty, STORE_RDONLY, 0), STORE_ERR_NOSTORE, "empty dir");
    assert_null(st);
    assert_string_not_equal(store_strerror(STORE_ERR_NOSTORE), store_strerror(STORE_ERR_NOTSTORE));
}

/* make_foreign - an LMDB environment written by someone else */
static void make_foreign(const char *path, const char *dbname, const char *key, const char *val)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {strlen(val), (void *)(uintptr_t)val};

    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 10), 0);
    assert_int_equal(mdb_env_set_mapsize(env, SMALL_MAP), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, dbname, MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_notstore(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    char path[160];

    /* another application's named database */
    snprintf(path, sizeof(path), "%s/foreign", f->dir);
    make_foreign(path, "foo", "k", "v");
    expect_rc(store_open(&st, path, STORE_RDONLY, 0), STORE_ERR_NOTSTORE, "foreign rdonly");
    expect_rc(store_open(&st, path, 0, SMALL_MAP), STORE_ERR_NOTSTORE, "foreign rw");
    assert_null(st);

    /* plain keys in the main database (postmap lmdb: style) */
    snprintf(path, sizeof(path), "%s/plain", f->dir);
    make_foreign(path, NULL, "user@example.org", "OK");
    expect_rc(store_open(&st, path, STORE_RDONLY, 0), STORE_ERR_NOTSTORE, "plain rdonly");
    expect_rc(store_open(&st, path, 0, SMALL_MAP), STORE_ERR_NOTSTORE, "plain rw");

    /* our database names but no magic, and addresses in it: not adopted */
    snprintf(path, sizeof(path), "%s/nomagic", f->dir);
    make_foreign(path, "addr", "user@example.org", "x");
    expect_rc(store_open(&st, path, STORE_RDONLY, 0), STORE_ERR_NOTSTORE, "nomagic rdonly");
    expect_rc(store_open(&st, path, 0, SMALL_MAP), STORE_ERR_NOTSTORE, "nomagic rw");

    /* a wrong magic */
    snprintf(path, sizeof(path), "%s/badmagic", f->dir);
    make_foreign(path, "meta", STORE_META_MAGIC, "something-else");
    expect_rc(store_open(&st, path, STORE_RDONLY, 0), STORE_ERR_NOTSTORE, "badmagic rdonly");
    expect_rc(store_open(&st, path, 0, SMALL_MAP), STORE_ERR_NOTSTORE, "badmagic rw");
}

static void set_meta(const char *path, const char *name, const char *value)
{
    struct store *st;
    MDB_txn *txn;

    expect_rc(store_open(&st, path, 0, SMALL_MAP), 0, "open");
    expect_rc(store_begin(st, 0, &txn), 0, "begin");
    expect_rc(store_meta_put(txn, st, name, value), 0, "put");
    expect_rc(mdb_txn_commit(txn), 0, "commit");
    store_close(st);
}

static void test_version(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;

    set_meta(f->path, STORE_META_FORMAT, "2");
    expect_rc(store_open(&st, f->path, STORE_RDONLY, 0), STORE_ERR_VERSION, "format 2 rdonly");
    assert_null(st);
    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), STORE_ERR_VERSION, "format 2 rw");
    assert_null(st);
    assert_string_not_equal(store_strerror(STORE_ERR_VERSION), store_strerror(STORE_ERR_NOTSTORE));
}

static void test_corrupt_record(void **state)
{
    struct fixture *f = *state;
    static const unsigned char junk[][12] = {
        {1, 1, 1, 0, 5, 0, 5, 0, 'a', 'b'}, /* lengths claim more than there is */
        {9, 1, 1, 0, 1, 0, 1, 0, 'a', 'b'}, /* version 9 */
        {1, 7, 1, 0, 1, 0, 1, 0, 'a', 'b'}, /* kind 7 */
    };
    static const size_t junklen[] = {10, 10, 10};
    struct store *st;
    MDB_txn *txn;
    struct rcpt r;
    MDB_val k, v;
    char key[300];

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    expect_rc(write_records(st, 0, 3, 20), 0, "write");
    for (size_t i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "bad%zu@example.org", i);
        expect_rc(store_begin(st, 0, &txn), 0, "begin");
        k = (MDB_val){strlen(key), key};
        v = (MDB_val){junklen[i], (void *)(uintptr_t)junk[i]};
        expect_rc(mdb_put(txn, store_dbi(st, STORE_ADDR), &k, &v, 0), 0, "put junk");
        expect_rc(mdb_txn_commit(txn), 0, "commit");
    }
    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin");
    for (size_t i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "bad%zu@example.org", i);
        expect_rc(store_addr_get(txn, st, key, strlen(key), &r), STORE_ERR_CORRUPT, key);
    }
    check_record(txn, st, 1, 20);
    expect_rc(store_addr_get(txn, st, "nobody@example.org", 18, &r), MDB_NOTFOUND, "missing");
    expect_rc(store_addr_get(txn, st, "", 0, &r), MDB_NOTFOUND, "empty key");
    memset(key, 'k', sizeof(key));
    expect_rc(store_addr_get(txn, st, key, ADDR_MAX + 1, &r), MDB_NOTFOUND, "long key");
    expect_rc(store_domain_has(txn, st, "example.org", 11), MDB_NOTFOUND, "no domain");
    expect_rc(store_domain_has(txn, st, "", 0), MDB_NOTFOUND, "empty domain");
    mdb_txn_abort(txn);

    expect_rc(store_begin(st, 0, &txn), 0, "begin");
    k = (MDB_val){11, "example.org"};
    v = (MDB_val){1, "c"};
    expect_rc(mdb_put(txn, store_dbi(st, STORE_DOMAIN), &k, &v, 0), 0, "put domain");
    expect_rc(store_domain_has(txn, st, "example.org", 11), 0, "domain");
    expect_rc(store_domain_has(txn, st, "example.org.x", 11), 0, "domain, length bounds");
    expect_rc(store_domain_has(txn, st, "example.com", 11), MDB_NOTFOUND, "other domain");
    mdb_txn_abort(txn);
    store_close(st);
    assert_string_not_equal(store_strerror(STORE_ERR_CORRUPT), store_strerror(MDB_NOTFOUND));
    assert_string_equal(store_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
    assert_string_equal(store_strerror(ENOENT), mdb_strerror(ENOENT));
}

#define FILL_RECORDS 3000
#define FILL_PAD     200

/* the same write transaction, retried after store_grow() until it fits */
static void test_map_full_grow(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    MDB_txn *txn;
    int rc, fulls = 0;
    size_t before;

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    before = store_mapsize(st);
    assert_true(before >= SMALL_MAP && before < 2 * SMALL_MAP);
    for (int attempt = 0; attempt < 8; attempt++) {
        rc = write_records(st, 0, FILL_RECORDS, FILL_PAD);
        if (rc != MDB_MAP_FULL)
            break;
        fulls++;
        {
            size_t old = store_mapsize(st);
            expect_rc(store_grow(st), 0, "grow");
            assert_int_equal(store_mapsize(st), 2 * old);
        }
    }
    expect_rc(rc, 0, "write after growing");
    assert_true(fulls >= 1);
    assert_true(store_mapsize(st) >= before * 2);
    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin");
    for (unsigned i = 0; i < FILL_RECORDS; i += 97)
        check_record(txn, st, i, FILL_PAD);
    check_record(txn, st, FILL_RECORDS - 1, FILL_PAD);
    mdb_txn_abort(txn);
    store_close(st);

    /* the grown size stays with the store */
    expect_rc(store_open(&st, f->path, STORE_RDONLY, 0), 0, "reopen");
    assert_true(store_mapsize(st) >= before * 2);
    store_close(st);
}

/* child side of test_map_resized: exit status says what went wrong */
static int resized_child(const char *path, int rd, int wr, int check_mapsize)
{
    struct store *st;
    MDB_txn *txn;
    MDB_envinfo info;
    uint64_t v;
    char c;
    int rc;

    if (store_open(&st, path, STORE_RDONLY, 0) != 0)
        return 10;
    if (store_begin(st, MDB_RDONLY, &txn) != 0)
        return 11;
    if (store_meta_get_u64(txn, st, STORE_META_ADDRESSES, &v) != 0 || v != 10)
        return 12;
    mdb_txn_abort(txn);
    if (write(wr, "r", 1) != 1 || read(rd, &c, 1) != 1 || c != 'g')
        return 13;
    /* the other process grew the map and wrote past our mapping: LMDB says so... */
    rc = mdb_txn_begin(store_env(st), NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        mdb_txn_abort(txn);
    if (rc != MDB_MAP_RESIZED)
        return 19;
    /* ...and store_begin() adopts the new size */
    if ((rc = store_begin(st, MDB_RDONLY, &txn)) != 0) {
        fprintf(stderr, "child: store_begin: %s\n", store_strerror(rc));
        return 14;
    }
    if (store_meta_get_u64(txn, st, STORE_META_ADDRESSES, &v) != 0 || v != FILL_RECORDS)
        return 15;
    {
        char key[64];
        struct rcpt r;
        snprintf(key, sizeof(key), "user%06u@example.org", FILL_RECORDS - 1);
        if (store_addr_get(txn, st, key, strlen(key), &r) != 0 || r.entry_len != FILL_PAD)
            return 16;
    }
    mdb_txn_abort(txn);
    mdb_env_info(store_env(st), &info);
    if (info.me_mapsize <= SMALL_MAP)
        return 17;
    /* store_mapsize() reports the size in use */
    if (check_mapsize && store_mapsize(st) != info.me_mapsize) {
        fprintf(stderr, "child: store_mapsize %zu, LMDB map %zu\n", store_mapsize(st),
                info.me_mapsize);
        return 18;
    }
    store_close(st);
    return 0;
}

/* run_resized - grow the map in this process while another one has the store open */
static void run_resized(struct fixture *f, int check_mapsize)
{
    int p2c[2], c2p[2], status, rc, fulls = 0;
    struct store *st;
    char c;
    pid_t pid;

    /* a small store, closed again before the fork (lmdb.h: open after fork) */
    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    expect_rc(write_records(st, 0, 10, 20), 0, "write");
    store_close(st);

    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        _exit(resized_child(f->path, p2c[0], c2p[1], check_mapsize));
    }
    close(p2c[0]);
    close(c2p[1]);
    if (read(c2p[0], &c, 1) != 1) {
        waitpid(pid, &status, 0);
        fail_msg("child failed before the grow: status %d", WEXITSTATUS(status));
    }

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "open rw");
    for (int attempt = 0; attempt < 8; attempt++) {
        rc = write_records(st, 0, FILL_RECORDS, FILL_PAD);
        if (rc != MDB_MAP_FULL)
            break;
        fulls++;
        expect_rc(store_grow(st), 0, "grow");
    }
    expect_rc(rc, 0, "write after growing");
    assert_true(fulls >= 1);
    store_close(st);

    assert_int_equal(write(p2c[1], "g", 1), 1);
    close(p2c[1]);
    close(c2p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    switch (WEXITSTATUS(status)) {
    case 0:
        break;
    case 14:
        fail_msg("store_begin in the other process failed after the map grew");
        break;
    case 19:
        fail_msg("the test did not reach LMDB's MDB_MAP_RESIZED case");
        break;
    case 18:
        fail_msg("after adopting a map grown by another process, store_mapsize() still "
                 "reports the old size");
        break;
    default:
        fail_msg("child failed with status %d", WEXITSTATUS(status));
    }
}

static void test_map_resized(void **state)
{
    run_resized(*state, 0);
}

/* the same, and the reader's store_mapsize() follows the map it adopted */
static void test_map_resized_mapsize(void **state)
{
    run_resized(*state, 1);
}

static void test_info_read(void **state)
{
    struct fixture *f = *state;
    struct store_info info;
    struct store *st;
    MDB_txn *txn;
    char longsrc[400];

    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    expect_rc(store_begin(st, MDB_RDONLY, &txn), 0, "begin");
    memset(&info, 0x5a, sizeof(info));
    expect_rc(store_info_read(txn, st, &info), 0, "info of a new store");
    assert_int_equal(info.generation, 0);
    assert_int_equal(info.last_attempt, 0);
    assert_int_equal(info.last_success, 0);
    assert_int_equal(info.addresses, 0);
    assert_int_equal(info.log_floor, 0);
    assert_string_equal(info.source, "");
    assert_string_equal(info.last_result, "");
    assert_string_equal(info.last_error, "");
    assert_string_equal(info.sync_mode, "");
    assert_string_equal(info.sync_persist, "");
    assert_int_equal(info.sync_last_change, 0);
    mdb_txn_abort(txn);

    expect_rc(store_begin(st, 0, &txn), 0, "begin");
    store_meta_put_u64(txn, st, STORE_META_GENERATION, 42);
    store_meta_put_u64(txn, st, STORE_META_LAST_ATTEMPT, 1700000100);
    store_meta_put_u64(txn, st, STORE_META_LAST_SUCCESS, 1700000000);
    store_meta_put_u64(txn, st, STORE_META_DURATION_MS, 1234);
    store_meta_put_u64(txn, st, STORE_META_ADDRESSES, 2460000);
    store_meta_put_u64(txn, st, STORE_META_ENTRIES, 1000000);
    store_meta_put_u64(txn, st, STORE_META_DOMAINS, 3);
    store_meta_put_u64(txn, st, STORE_META_INVALID, 17);
    store_meta_put_u64(txn, st, STORE_META_CONFLICTS, 2);
    store_meta_put_u64(txn, st, STORE_META_LOG_FLOOR, 40);
    store_meta_put(txn, st, STORE_META_SOURCE, "ldap://ldap.example.org");
    store_meta_put(txn, st, STORE_META_LAST_RESULT, "failed");
    store_meta_put(txn, st, STORE_META_LAST_ERROR, "ldap: Can't contact LDAP server");
    expect_rc(store_info_read(txn, st, &info), 0, "info");
    assert_int_equal(info.generation, 42);
    assert_int_equal(info.last_attempt, 1700000100);
    assert_int_equal(info.last_success, 1700000000);
    assert_int_equal(info.duration_ms, 1234);
    assert_int_equal(info.addresses, 2460000);
    assert_int_equal(info.entries, 1000000);
    assert_int_equal(info.domains, 3);
    assert_int_equal(info.invalid, 17);
    assert_int_equal(info.conflicts, 2);
    assert_int_equal(info.log_floor, 40);
    assert_string_equal(info.source, "ldap://ldap.example.org");
    assert_string_equal(info.last_result, "failed");
    assert_string_equal(info.last_error, "ldap: Can't contact LDAP server");
    /* syncrepl's state (src_syncrepl writes the time as decimal text) */
    store_meta_put(txn, st, STORE_META_SYNC_MODE, "persist");
    store_meta_put(txn, st, STORE_META_SYNC_PERSIST, "down");
    store_meta_put(txn, st, STORE_META_SYNC_CHANGE, "1700000050");
    expect_rc(store_info_read(txn, st, &info), 0, "info, syncrepl");
    assert_string_equal(info.sync_mode, "persist");
    assert_string_equal(info.sync_persist, "down");
    assert_int_equal(info.sync_last_change, 1700000050);

    /* a source longer than its field reads as "(too long)" */
    memset(longsrc, 's', sizeof(longsrc) - 1);
    longsrc[sizeof(longsrc) - 1] = '\0';
    store_meta_put(txn, st, STORE_META_SOURCE, longsrc);
    expect_rc(store_info_read(txn, st, &info), 0, "info, long source");
    assert_string_equal(info.source, "(too long)");
    /* the longest storable error fits */
    {
        char err[STORE_META_MAX * 2];
        memset(err, 'e', sizeof(err) - 1);
        err[sizeof(err) - 1] = '\0';
        store_meta_put(txn, st, STORE_META_LAST_ERROR, err);
        expect_rc(store_info_read(txn, st, &info), 0, "info, long error");
        assert_int_equal(strlen(info.last_error), STORE_META_MAX - 1);
    }
    /* a number that does not decode */
    store_meta_put(txn, st, STORE_META_ENTRIES, "many");
    expect_rc(store_info_read(txn, st, &info), STORE_ERR_CORRUPT, "info, corrupt number");
    mdb_txn_abort(txn);
    store_close(st);
}

static void test_log_key(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint64_t g;
        uint32_t s;
    } order[] = {
        {0, 0},
        {0, 1},
        {0, 255},
        {0, 256},
        {0, UINT32_MAX},
        {1, 0},
        {1, 1},
        {255, 7},
        {256, 0},
        {65536, 3},
        {1ULL << 32, 0},
        {(1ULL << 56) + 1, 0},
        {UINT64_MAX - 1, UINT32_MAX},
        {UINT64_MAX, 0},
    };
    const size_t n = sizeof(order) / sizeof(order[0]);
    unsigned char key[STORE_LOG_KEY_SIZE], prev[STORE_LOG_KEY_SIZE];
    struct store *st;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t i;

    (void)state;
    store_log_key(key, 0x0102030405060708ULL, 0x090a0b0cU);
    assert_memory_equal(key, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
    for (i = 0; i < n; i++) {
        uint64_t g;
        uint32_t sq;
        store_log_key(key, order[i].g, order[i].s);
        assert_int_equal(store_log_key_decode(key, sizeof(key), &g, &sq), 0);
        assert_true(g == order[i].g && sq == order[i].s);
        if (i > 0 && memcmp(prev, key, 12) >= 0)
            fail_msg("log key of (%llu, %u) does not sort after the one before",
                     (unsigned long long)order[i].g, order[i].s);
        memcpy(prev, key, 12);
    }

    /* LMDB returns them in (generation, sequence) order whatever the insertion order */
    expect_rc(store_open(&st, f->path, 0, SMALL_MAP), 0, "create");
    expect_rc(store_begin(st, 0, &txn), 0, "begin");
    for (i = n; i-- > 0;) {
        size_t j = (i * 5) % n; /* 5 is prime to n: a permutation */
        store_log_key(key, order[j].g, order[j].s);
        k = (MDB_val){12, key};
        v = (MDB_val){1, "-"};
        expect_rc(mdb_put(txn, store_dbi(st, STORE_LOG), &k, &v, 0), 0, "put log");
    }
    expect_rc(mdb_cursor_open(txn, store_dbi(st, STORE_LOG), &cur), 0, "cursor");
    for (i = 0; mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0; i++) {
        assert_true(i < n);
        assert_int_equal(k.mv_size, 12);
        store_log_key(key, order[i].g, order[i].s);
        assert_memory_equal(k.mv_data, key, 12);
    }
    assert_int_equal(i, n);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    store_close(st);
}

static int hist_collect(void *ctx, const struct store_hist *h)
{
    uint64_t **out = ctx;

    *(*out)++ = h->gen_after;
    return 0;
}

/* hist_append - one history record (gen_after = g) in its own transaction */
static void hist_append(struct store *st, uint64_t g, unsigned keep)
{
    struct store_hist h = {.time = 1000 + g,
                           .result = STORE_HIST_OK,
                           .gen_after = g,
                           .source = "ldif",
                           .sourcelen = 4,
                           .error = "",
                           .errorlen = 0};
    MDB_txn *txn;

    assert_int_equal(store_begin(st, 0, &txn), 0);
    assert_int_equal(store_hist_append(txn, st, &h, keep), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/* hist_read - the gen_after of up to max records, newest first; returns how many */
static size_t hist_read(struct store *st, size_t max, uint64_t *out)
{
    uint64_t *p = out;
    MDB_txn *txn;

    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_hist_each(txn, st, max, hist_collect, &p), 0);
    mdb_txn_abort(txn);
    return (size_t)(p - out);
}

/* the sync history ring: empty on a store written before it existed, ordered newest first,
 * bounded, limited on read, kept across a reopen; other meta names untouched */
static void test_history(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    uint64_t got[64], gen;
    MDB_txn *txn;

    assert_int_equal(store_open(&st, f->path, 0, SMALL_MAP), 0);
    assert_int_equal(hist_read(st, 0, got), 0); /* a store from before the history */
    for (uint64_t g = 1; g <= 3; g++)
        hist_append(st, g, 10);
    assert_int_equal(hist_read(st, 0, got), 3);
    assert_true(got[0] == 3 && got[1] == 2 && got[2] == 1);
    for (uint64_t g = 4; g <= 25; g++)
        hist_append(st, g, 10);
    assert_int_equal(hist_read(st, 0, got), 10); /* bounded */
    for (size_t i = 0; i < 10; i++)
        assert_true(got[i] == 25 - i);
    assert_int_equal(hist_read(st, 4, got), 4); /* ?limit= */
    assert_true(got[0] == 25 && got[3] == 22);
    store_close(st);

    assert_int_equal(store_open(&st, f->path, STORE_RDONLY, 0), 0); /* survives a reopen */
    assert_int_equal(hist_read(st, 0, got), 10);
    assert_true(got[0] == 25 && got[9] == 16);
    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    assert_int_equal(store_meta_get_u64(txn, st, STORE_META_GENERATION, &gen), 0);
    assert_true(gen == 0);
    mdb_txn_abort(txn);
    store_close(st);

    assert_int_equal(store_open(&st, f->path, 0, SMALL_MAP), 0); /* the default bound */
    for (uint64_t g = 26; g < 26 + STORE_HIST_KEEP; g++)
        hist_append(st, g, 0);
    assert_int_equal(store_begin(st, MDB_RDONLY, &txn), 0);
    {
        MDB_stat ms;
        assert_int_equal(mdb_stat(txn, store_dbi(st, STORE_META), &ms), 0);
        assert_true(ms.ms_entries <= STORE_HIST_KEEP + 10); /* a few meta names besides */
    }
    mdb_txn_abort(txn);
    assert_int_equal(hist_read(st, 1, got), 1);
    assert_true(got[0] == 25 + STORE_HIST_KEEP);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nostore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notstore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_resized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_resized_mapsize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
    };

    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
