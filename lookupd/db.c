/*
 * db - the shared store handle and per-thread readers; see db.h.
 */
#include "lookupd/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct lk_db {
    char *path;
    _Atomic(struct store *) st;
    pthread_mutex_t readers_mu; /* the list below; taken first when adopting a grown map */
    struct lk_reader *readers;  /* every registered reader */
    pthread_mutex_t open_mu;    /* one opener at a time */
    time_t last_try;            /* under open_mu */
    int last_err;               /* under open_mu: last error logged */
    char detail[256];           /* under open_mu: the text of LK_DB_ERR_TRUNCATED */
};

/*
 * lk_db_check_size - is data.mdb as long as LMDB's newest meta page says (last page + 1
 * pages)? A shorter file would be mapped past its end, and the first read there kills
 * the process with SIGBUS. Read with a throwaway environment without a lock file
 * (MDB_NOLOCK: it touches nothing another process or handle uses), only while this process
 * has no environment open on the store. 0, or LK_DB_ERR_TRUNCATED with db->detail set; an
 * environment that cannot be opened at all is left to store_open() to report.
 */
static int lk_db_check_size(struct lk_db *db)
{
    char data[4096];
    struct stat sb;
    MDB_env *env;
    MDB_envinfo info;
    MDB_stat ms;
    int rc = 0;

    snprintf(data, sizeof(data), "%s/data.mdb", db->path);
    if (stat(data, &sb) < 0 || mdb_env_create(&env) != 0)
        return 0;
    if (mdb_env_open(env, db->path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0) == 0 &&
        mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &ms) == 0) {
        unsigned long long need = ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize;
        if ((unsigned long long)sb.st_size < need) {
            snprintf(
                db->detail, sizeof(db->detail),
                "%.120s is truncated: %lld bytes, but its pages reach %llu bytes (restore it, or "
                "remove it and sync again)",
                data, (long long)sb.st_size, need);
            rc = LK_DB_ERR_TRUNCATED;
        }
    }
    mdb_env_close(env);
    return rc;
}

const char *lk_db_strerror(struct lk_db *db, int err, char *buf, size_t len)
{
    if (err != LK_DB_ERR_TRUNCATED)
        return store_strerror(err);
    pthread_mutex_lock(&db->open_mu);
    snprintf(buf, len, "%s", db->detail[0] ? db->detail : "store file truncated");
    pthread_mutex_unlock(&db->open_mu);
    return buf;
}

/*
 * lk_db_try_open - open the store unless tried within LK_DB_RETRY seconds; 0 when open, else
 * why not (STORE_ERR_NOSTORE only when there is no store: another error is not "never synced")
 */
static int lk_db_try_open(struct lk_db *db)
{
    struct store *st;
    time_t now = time(NULL);
    int rc;

    pthread_mutex_lock(&db->open_mu);
    if (atomic_load(&db->st) != NULL ||
        (db->last_try != 0 && now - db->last_try < LK_DB_RETRY && now >= db->last_try)) {
        rc = atomic_load(&db->st) != NULL ? 0 : db->last_err ? db->last_err : STORE_ERR_NOSTORE;
        pthread_mutex_unlock(&db->open_mu);
        return rc;
    }
    db->last_try = now;
    rc = lk_db_check_size(db);
    if (rc == 0)
        rc = store_open(&st, db->path, STORE_RDONLY, 0);
    if (rc == 0) {
        atomic_store(&db->st, st);
        log_info("store: opened %s", db->path);
    } else if (rc != db->last_err) {
        db->last_err = rc;
        if (rc == STORE_ERR_NOSTORE)
            log_warnx("store: %s: %s; answering \"never synced\" until it appears", db->path,
                      store_strerror(rc));
        else if (rc == LK_DB_ERR_TRUNCATED)
            log_warnx("store: %s; answering TEMP until it is mended", db->detail);
        else
            log_warnx("store: %s: %s; answering TEMP until it opens", db->path, store_strerror(rc));
    }
    if (rc == 0)
        db->last_err = 0;
    pthread_mutex_unlock(&db->open_mu);
    return rc;
}

struct lk_db *lk_db_new(const char *path)
{
    struct lk_db *db = xcalloc(1, sizeof(*db));

    db->path = xstrdup(path);
    atomic_init(&db->st, NULL);
    pthread_mutex_init(&db->readers_mu, NULL);
    pthread_mutex_init(&db->open_mu, NULL);
    lk_db_try_open(db);
    return db;
}

void lk_db_free(struct lk_db *db)
{
    if (db == NULL)
        return;
    store_close(atomic_load(&db->st));
    pthread_mutex_destroy(&db->readers_mu);
    pthread_mutex_destroy(&db->open_mu);
    free(db->path);
    free(db);
}

int lk_db_is_open(struct lk_db *db)
{
    return atomic_load(&db->st) != NULL;
}

/* lk_db_register - put a new reader on the handle's list (first lk_db_begin) */
static void lk_db_register(struct lk_db *db, struct lk_reader *rd)
{
    pthread_mutex_init(&rd->mu, NULL);
    pthread_mutex_lock(&db->readers_mu);
    rd->next = db->readers;
    db->readers = rd;
    rd->registered = 1;
    pthread_mutex_unlock(&db->readers_mu);
}

/* lk_db_hold - this reader's lock: no map is adopted until lk_db_end() */
static void lk_db_hold(struct lk_reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    rd->active = 1;
}

/* lk_db_release - the reader's lock, given back */
static void lk_db_release(struct lk_reader *rd)
{
    rd->active = 0;
    pthread_mutex_unlock(&rd->mu);
}

/*
 * lk_db_resized - adopt a map grown by another process, holding every reader's lock (in
 * list order, under readers_mu); rd, the caller's, is not held on entry
 */
static int lk_db_resized(struct lk_db *db, struct lk_reader *rd, struct store *st)
{
    struct lk_reader *r;
    int rc;

    pthread_mutex_lock(&db->readers_mu);
    for (r = db->readers; r != NULL; r = r->next)
        pthread_mutex_lock(&r->mu);
    if (rd->txn != NULL) {
        mdb_txn_abort(rd->txn);
        rd->txn = NULL;
    }
    rc = store_begin(st, MDB_RDONLY, &rd->txn);
    if (rc == 0) {
        mdb_txn_reset(rd->txn);
        log_info("store: map grown by another process, now %zu bytes", store_mapsize(st));
    } else {
        rd->txn = NULL;
    }
    for (r = db->readers; r != NULL; r = r->next)
        pthread_mutex_unlock(&r->mu);
    pthread_mutex_unlock(&db->readers_mu);
    return rc;
}

int lk_db_begin(struct lk_db *db, struct lk_reader *rd, MDB_txn **txn, const struct store **stp)
{
    struct store *st = atomic_load(&db->st);
    int rc;

    *txn = NULL;
    *stp = NULL;
    if (!rd->registered)
        lk_db_register(db, rd);
    if (st == NULL) {
        rc = lk_db_try_open(db);
        if ((st = atomic_load(&db->st)) == NULL) {
            lk_db_hold(rd);
            return rc != 0 ? rc : STORE_ERR_NOSTORE;
        }
    }
    for (int tries = 0;; tries++) {
        lk_db_hold(rd);
        if (rd->txn == NULL)
            rc = mdb_txn_begin(store_env(st), NULL, MDB_RDONLY, &rd->txn);
        else
            rc = mdb_txn_renew(rd->txn);
        if (rc == 0) {
            *txn = rd->txn;
            *stp = st;
            return 0;
        }
        if (rc != MDB_MAP_RESIZED || tries > 0)
            return rc;
        lk_db_release(rd);
        if ((rc = lk_db_resized(db, rd, st)) != 0) {
            lk_db_hold(rd);
            return rc;
        }
    }
}

void lk_db_end(struct lk_db *db, struct lk_reader *rd)
{
    (void)db;
    if (!rd->active)
        return;
    if (rd->txn != NULL)
        mdb_txn_reset(rd->txn);
    lk_db_release(rd);
}

void lk_db_reader_close(struct lk_db *db, struct lk_reader *rd)
{
    struct lk_reader **p;

    if (rd->txn != NULL)
        mdb_txn_abort(rd->txn);
    rd->txn = NULL;
    if (!rd->registered)
        return;
    pthread_mutex_lock(&db->readers_mu);
    for (p = &db->readers; *p != NULL; p = &(*p)->next) {
        if (*p == rd) {
            *p = rd->next;
            break;
        }
    }
    pthread_mutex_unlock(&db->readers_mu);
    pthread_mutex_destroy(&rd->mu);
    rd->registered = 0;
}

void lk_db_batch_begin(struct lk_reader *rd)
{
    rd->batch = 1;
}

void lk_db_batch_end(struct lk_db *db, struct lk_reader *rd)
{
    rd->batch = 0;
    lk_db_end(db, rd);
}

/* lk_db_read - the reader's current read, started unless a batch already did */
static void lk_db_read(struct lk_db *db, struct lk_reader *rd)
{
    MDB_txn *txn;
    const struct store *st;

    if (rd->active)
        return;
    rd->err = lk_db_begin(db, rd, &txn, &st);
    rd->st = st;
    rd->now = time(NULL);
    if (rd->err != 0 && rd->err != STORE_ERR_NOSTORE) {
        static struct log_limit lim = LOG_LIMIT_DEFAULT; /* every lookup would say it */
        char buf[256];
        log_limited(&lim, "store: cannot read: %s", lk_db_strerror(db, rd->err, buf, sizeof(buf)));
    }
}

int lk_db_lookup(struct lk_db *db, struct lk_reader *rd, const struct lookup_opts *opts, int domain,
                 const char *key, size_t len, struct lookup_answer *ans)
{
    MDB_txn *txn;
    int rc;

    lk_db_read(db, rd);
    txn = rd->err == 0 ? rd->txn : NULL;
    /* without a store the key is still checked, so a malformed one stays "not found" */
    rc = domain ? lookup_domain(txn, rd->st, opts, rd->now, key, len, ans)
                : lookup_rcpt(txn, rd->st, opts, rd->now, key, len, ans);
    if (rc < 0 && rd->err != 0 && rd->err != STORE_ERR_NOSTORE) {
        ans->reason = LOOKUP_REASON_ERROR;
        ans->store_err = rd->err;
    }
    if (!rd->batch)
        lk_db_end(db, rd);
    return rc;
}
