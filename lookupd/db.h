/*
 * db - lookupd's shared, read-only handle on the store, and each thread's reader.
 *
 * The store may not exist yet when lookupd starts (no sync has run): lk_db_begin() then
 * tries to open it again, at most once per LK_DB_RETRY seconds, on demand, until it
 * appears; no restart is needed. Once open, it stays open: LMDB's MVCC shows every sync
 * committed by another process to the next transaction.
 *
 * Each thread owns one struct lk_reader with one read-only transaction, renewed before and
 * reset after each request (mdb_txn_renew/mdb_txn_reset, lmdb.h), or once for a batch of
 * requests (lk_db_batch_begin/lk_db_batch_end): the socketmap workers answer everything one
 * epoll_wait() returned in one snapshot, which saves a renew and a reset per lookup. A batch
 * takes microseconds; a sync committed during it is seen by the next one. A map grown by another
 * process (MDB_MAP_RESIZED) must be adopted while no transaction of this process is active
 * (mdb_env_set_mapsize()). So each reader holds a lock of its own from lk_db_begin() to
 * lk_db_end(), and the thread adopting a grown map takes every reader's lock. A lookup thus
 * touches no lock another thread writes: with one shared lock, its cache line would travel
 * between the cores on every lookup.
 *
 * Ownership: lk_db_new() keeps the path (copied); lk_db_free() closes the store. Readers
 * are the caller's: zero them, and pass them to lk_db_reader_close() before they go away
 * (lk_db_begin() registers a reader with the handle; lk_db_reader_close() removes it). A
 * registered reader must not move in memory.
 * Before the store is first opened, data.mdb's size is checked against LMDB's meta page: a
 * truncated file (a copy cut short, a full disk) would be mapped past its end and kill
 * lookupd with SIGBUS at the first lookup; it is answered TEMP instead, with the sizes in
 * /v1/status. An open error other than "no store" is reported as itself, not as "never
 * synced". (A file truncated after it was opened is not caught.)
 * Errors: store.h codes and LK_DB_ERR_TRUNCATED; lookup.h maps them onto a temporary failure.
 */
#ifndef RCPTDIR_LK_DB_H
#define RCPTDIR_LK_DB_H

#include <pthread.h>
#include <time.h>

#include "lookupd/lookup.h"
#include "schema/store.h"

#define LK_DB_RETRY 1 /* seconds between attempts to open a missing store */
/* data.mdb is shorter than its pages (lk_db_strerror() says by how much); below store.h's */
#define LK_DB_ERR_TRUNCATED (-30650)

struct lk_db;

struct lk_reader {
    MDB_txn *txn; /* reset between requests; NULL before the first */
    int active;
    int batch;              /* lk_db_batch_begin(): lookups keep the read open */
    int err;                /* while active: what lk_db_begin() returned */
    const struct store *st; /* while active and err == 0: the store read */
    time_t now;             /* while active: wall clock at lk_db_begin(), for staleness */
    int registered;         /* mu is initialized and the reader is on the handle's list */
    pthread_mutex_t mu;     /* held from lk_db_begin() to lk_db_end() */
    struct lk_reader *next; /* the handle's list of readers, under its readers_mu */
};

/* lk_db_new - a handle on the store at path; tries to open it once, now */
struct lk_db *lk_db_new(const char *path);
void lk_db_free(struct lk_db *db);

/*
 * lk_db_begin - start a read for one request. Returns 0 with *txn and *st set, or an error
 * (STORE_ERR_NOSTORE while there is no store) with *txn and *st NULL. Either way the
 * caller must call lk_db_end() afterwards.
 */
int lk_db_begin(struct lk_db *db, struct lk_reader *rd, MDB_txn **txn, const struct store **st);

/* lk_db_end - finish the read: reset the transaction, release the reader's lock */
void lk_db_end(struct lk_db *db, struct lk_reader *rd);

/* lk_db_reader_close - abort the reader's transaction (thread exit, before lk_db_free) */
void lk_db_reader_close(struct lk_db *db, struct lk_reader *rd);

/*
 * lk_db_lookup - one whole lookup (lk_db_begin, lookup_rcpt or lookup_domain, lk_db_end).
 * Returns what lookup_rcpt() returns; a store that cannot be read is a temporary failure.
 */
int lk_db_lookup(struct lk_db *db, struct lk_reader *rd, const struct lookup_opts *opts, int domain,
                 const char *key, size_t len, struct lookup_answer *ans);

/*
 * lk_db_batch_begin - the lookups until lk_db_batch_end() share one read (one snapshot,
 * one staleness clock); the first of them starts it. Keep a batch short: a map grown by
 * another process is adopted only when every batch has ended.
 */
void lk_db_batch_begin(struct lk_reader *rd);
/* lk_db_batch_end - end the batch and its read, if one was started */
void lk_db_batch_end(struct lk_db *db, struct lk_reader *rd);

/*
 * lk_db_strerror - the text of an error of lk_db_begin(): store_strerror(), or for
 * LK_DB_ERR_TRUNCATED the sizes found, copied into buf. Returns a string valid while buf is.
 */
const char *lk_db_strerror(struct lk_db *db, int err, char *buf, size_t len);

/* lk_db_is_open - 1 once the store has been opened */
int lk_db_is_open(struct lk_db *db);

#endif
