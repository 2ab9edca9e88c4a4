/*
 * test_db - lookupd's store handle (lookupd/db.c) while another process grows the map: two
 * reader threads look up without pause, a child process writes past their mapping (LMDB
 * then answers MDB_MAP_RESIZED), and one of the threads adopts the new size while holding
 * every reader's lock. No lookup may fail or answer wrongly meanwhile, and both threads must
 * see the child's last record. The child grows the map four times, for four chances to catch
 * a reader left running during an adoption. One thread looks up in batches (one read for
 * several lookups, as the socketmap workers do), the other one read per lookup. Readers that
 * come and go (registered, closed) are covered too. A second test shows what a batch sees:
 * one snapshot, and a commit made during it from the next batch on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lookupd/db.h"

#define SMALL_MAP    ((size_t)256 * 1024)
#define FILL_RECORDS 3000 /* with FILL_PAD bytes each: several times SMALL_MAP */
#define FILL_PAD     500
#define FILL_ROUNDS  4 /* the map grows in each: four adoptions under running readers */
#define READERS      2

/* put_user - one active user record, its domain and fresh meta, in the open transaction */
static int put_user(MDB_txn *txn, struct store *st, const char *addr, size_t pad)
{
    static char entry[FILL_PAD];
    unsigned char buf[RCPT_MAX];
    struct rcpt r = {RCPT_USER, RCPT_ACTIVE, 0, addr, strlen(addr), entry, pad};
    MDB_val k = {strlen(addr), (void *)(uintptr_t)addr}, v, dk = {11, (void *)"example.org"},
            dv = {1, (void *)"c"};
    int n, rc;

    memset(entry, 'e', sizeof(entry));
    if ((n = rcpt_encode(buf, sizeof(buf), &r)) < 0)
        return -1;
    v.mv_size = (size_t)n;
    v.mv_data = buf;
    if ((rc = mdb_put(txn, store_dbi(st, STORE_ADDR), &k, &v, 0)) != 0 ||
        (rc = mdb_put(txn, store_dbi(st, STORE_DOMAIN), &dk, &dv, 0)) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_GENERATION, 1)) != 0)
        return rc;
    return store_meta_put_u64(txn, st, STORE_META_LAST_SUCCESS, (uint64_t)time(NULL));
}

/* fill_round - FILL_RECORDS padded users named after the round, growing the map as needed */
static int fill_round(struct store *st, int round)
{
    int rc = MDB_MAP_FULL;

    for (int attempt = 0; attempt < 10 && rc == MDB_MAP_FULL; attempt++) {
        MDB_txn *txn;
        char addr[64];

        if ((rc = store_begin(st, 0, &txn)) != 0)
            break;
        for (unsigned i = 0; rc == 0 && i < FILL_RECORDS; i++) {
            snprintf(addr, sizeof(addr), "user%d-%05u@example.org", round, i);
            rc = put_user(txn, st, addr, FILL_PAD);
        }
        if (rc == 0 && round == FILL_ROUNDS - 1)
            rc = put_user(txn, st, "last@example.org", 7);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL && store_grow(st) != 0)
            break;
    }
    return rc;
}

/* fill - FILL_ROUNDS commits, each growing the map, a pause between them for the readers */
static int fill(const char *path)
{
    struct store *st;
    int rc = 0;

    if (store_open(&st, path, 0, SMALL_MAP) != 0)
        return 20;
    for (int round = 0; rc == 0 && round < FILL_ROUNDS; round++) {
        rc = fill_round(st, round);
        usleep(20000);
    }
    store_close(st);
    return rc == 0 ? 0 : 21;
}

struct reader_arg {
    struct lk_db *db;
    int batch; /* lookups per batch; 0: one read per lookup */
    atomic_int *stop;
    atomic_long lookups, wrong;
    atomic_int seen_last;
};

static const struct lookup_opts opts = {0, "+", 86400};

/* reader - look alice up without pause until told to stop; count what is wrong */
static void *reader(void *p)
{
    struct reader_arg *a = p;
    struct lk_reader rd = {0};
    struct lookup_answer ans;

    while (!atomic_load(a->stop)) {
        if (a->batch > 0 && atomic_load(&a->lookups) % a->batch == 0) {
            lk_db_batch_end(a->db, &rd);
            lk_db_batch_begin(&rd);
        }
        if (lk_db_lookup(a->db, &rd, &opts, 0, "alice@example.org", 17, &ans) != 1 ||
            ans.result != LOOKUP_VALID)
            atomic_fetch_add(&a->wrong, 1);
        if (!atomic_load(&a->seen_last) &&
            lk_db_lookup(a->db, &rd, &opts, 0, "last@example.org", 16, &ans) == 1)
            atomic_store(&a->seen_last, 1);
        atomic_fetch_add(&a->lookups, 1);
    }
    lk_db_batch_end(a->db, &rd);
    lk_db_reader_close(a->db, &rd);
    return NULL;
}

/* WAIT_FOR - poll cond every millisecond for up to 20 s */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        for (int ms_ = 0; ms_ < 20000 && !(cond); ms_++)                                           \
            usleep(1000);                                                                          \
    } while (0)

/* store_with_alice - a new store in a new directory dir (a mkdtemp template), with alice */
static void store_with_alice(char *dir, char *path, size_t pathlen)
{
    struct store *w;
    MDB_txn *t;

    assert_non_null(mkdtemp(dir));
    snprintf(path, pathlen, "%s/store", dir);
    assert_int_equal(store_open(&w, path, 0, SMALL_MAP), 0);
    assert_int_equal(store_begin(w, 0, &t), 0);
    assert_int_equal(put_user(t, w, "alice@example.org", 7), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    store_close(w);
}

static void test_map_grown_under_readers(void **state)
{
    char dir[] = "/tmp/test_db.XXXXXX", path[64], cmd[128];
    struct reader_arg arg[READERS];
    pthread_t tid[READERS];
    atomic_int stop = 0;
    struct lk_db *db;
    struct lk_reader rd = {0};
    MDB_txn *txn;
    const struct store *st;
    int go[2], status;
    pid_t pid;
    char c;

    (void)state;
    store_with_alice(dir, path, sizeof(path));

    /* the writer is forked before this process opens the store (lmdb.h: no env across fork) */
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 ? fill(path) : 22);
    }
    close(go[0]);

    db = lk_db_new(path);
    assert_true(lk_db_is_open(db));
    for (int i = 0; i < READERS; i++) {
        memset(&arg[i], 0, sizeof(arg[i]));
        arg[i].db = db;
        arg[i].stop = &stop;
        arg[i].batch = i == 0 ? 8 : 0;
        assert_int_equal(pthread_create(&tid[i], NULL, reader, &arg[i]), 0);
    }
    for (int i = 0; i < READERS; i++)
        WAIT_FOR(atomic_load(&arg[i].lookups) > 1000);

    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    for (int i = 0; i < READERS; i++)
        WAIT_FOR(atomic_load(&arg[i].seen_last));
    atomic_store(&stop, 1);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        if (atomic_load(&arg[i].wrong) != 0)
            fail_msg("reader %d: %ld of %ld lookups failed", i, atomic_load(&arg[i].wrong),
                     atomic_load(&arg[i].lookups));
        assert_true(atomic_load(&arg[i].seen_last));
    }

    /* the handle now maps the grown store; a new reader starts on it */
    assert_int_equal(lk_db_begin(db, &rd, &txn, &st), 0);
    assert_true(store_mapsize(st) > SMALL_MAP);
    lk_db_end(db, &rd);
    lk_db_reader_close(db, &rd);
    lk_db_reader_close(db, &rd); /* twice is harmless */

    lk_db_free(db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* expect_alice_bob - lookup results for alice and bob */
static void expect_alice_bob(struct lk_db *db, struct lk_reader *rd, enum lookup_result bob)
{
    struct lookup_answer ans;

    lk_db_lookup(db, rd, &opts, 0, "alice@example.org", 17, &ans);
    assert_int_equal(ans.result, LOOKUP_VALID);
    lk_db_lookup(db, rd, &opts, 0, "bob@example.org", 15, &ans);
    assert_int_equal(ans.result, bob);
}

static void test_batch_is_one_snapshot(void **state)
{
    char dir[] = "/tmp/test_db.XXXXXX", path[64], cmd[128];
    struct lk_reader rd = {0};
    struct lk_db *db;
    int go[2], done[2], status;
    pid_t pid;
    char c;

    (void)state;
    store_with_alice(dir, path, sizeof(path));
    /* the child adds bob when told, and says when it has committed */
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *w;
        MDB_txn *t;
        int rc = 30;
        close(go[1]);
        close(done[0]);
        if (read(go[0], &c, 1) == 1 && store_open(&w, path, 0, 0) == 0) {
            rc = store_begin(w, 0, &t) != 0 || put_user(t, w, "bob@example.org", 7) != 0 ||
                 mdb_txn_commit(t) != 0;
            store_close(w);
        }
        _exit(write(done[1], "d", 1) == 1 ? rc : 31);
    }
    close(go[0]);
    close(done[1]);

    db = lk_db_new(path);
    lk_db_batch_begin(&rd);
    expect_alice_bob(db, &rd, LOOKUP_UNKNOWN);
    assert_int_equal(write(go[1], "g", 1), 1);
    assert_int_equal(read(done[0], &c, 1), 1);
    expect_alice_bob(db, &rd, LOOKUP_UNKNOWN); /* the batch's snapshot, from before bob */
    lk_db_batch_end(db, &rd);
    lk_db_batch_begin(&rd);
    expect_alice_bob(db, &rd, LOOKUP_VALID); /* the next batch sees him */
    lk_db_batch_end(db, &rd);
    lk_db_batch_end(db, &rd);                /* twice is harmless */
    expect_alice_bob(db, &rd, LOOKUP_VALID); /* and so does a lookup on its own */
    assert_false(rd.active);

    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(go[1]);
    close(done[0]);
    lk_db_reader_close(db, &rd);
    lk_db_free(db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_grown_under_readers),
        cmocka_unit_test(test_batch_is_one_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
