/*
 * store - the LMDB layout both daemons share. A change here is a format change: bump
 * STORE_FORMAT and say so.
 *
 * One LMDB environment (a directory holding data.mdb and lock.mdb) with five named
 * databases, format 1:
 *
 *   "addr"    key: address key (addr_normalize(), or "@domain" for a catch-all)
 *             value: struct rcpt record (rcpt.h)
 *   "domain"  key: managed domain (lower case); value: enum store_domain_kind, 1 byte
 *   "entry"   key: entry id; value: the entry's state and address keys (entry list)
 *   "log"     key: (generation, sequence), STORE_LOG_KEY_SIZE bytes; value: a log record,
 *             one enum store_op on a key. Records of one generation are the net change
 *             from the one before.
 *   "meta"    key: name (STORE_META_*), value: text (numbers in decimal); and the sync
 *             history ring: key STORE_HIST_PREFIX + 20-digit sequence (they sort in order),
 *             value: a history record (store_rec.h), at most STORE_HIST_KEEP of them. Kept in
 *             meta rather than a sixth database so that a store of any age opens (older
 *             binaries ignore meta names they do not know): no format change.
 *
 * Every value and key has its codec: the address record in rcpt.h, the others in
 * store_rec.h, which gives their byte layouts. No other file writes or parses them.
 *
 * Opening keeps "no store here", "not a store" and "wrong format version" apart, as mdb.c
 * does with MDB_INVALID and MDB_VERSION_MISMATCH. A read-write open creates the store.
 *
 * Errors: every function returns 0, an errno value, an LMDB code (MDB_NOTFOUND, MDB_MAP_FULL,
 * ...) or one of the STORE_ERR_* codes of the error registry (schema/err.h); store_strerror()
 * is err_strerror() and names them all.
 * MDB_MAP_FULL aborts the caller's write transaction: call store_grow() and run it again.
 *
 * Ownership: struct store is opaque; store_close() frees it. Values read from the store are
 * borrowed from LMDB and valid until the transaction ends or the next write in it.
 * Open the store after fork(), never before (lmdb.h caveats).
 */
#ifndef RCPTDIR_STORE_H
#define RCPTDIR_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/err.h"
#include "schema/rcpt.h"
#include "schema/store_rec.h"

#define STORE_MAGIC  "rcptdir-store"
#define STORE_FORMAT 1

/* STORE_ERR_NOSTORE, _NOTSTORE, _VERSION, _CORRUPT: the error registry, schema/err.h */

/*
 * Reader slots in the lock file (LMDB's default is 126). lookupd holds at most threads (64)
 * + its HTTP thread + two per feed stream (feed_streams, at most 256) + one opener, 578 in
 * all, so a sync always finds one free; the first process to open the store sets the number
 * for all (lock.mdb).
 */
#define STORE_MAXREADERS 1024

/* store_open flags */
#define STORE_RDONLY 0x1

#define STORE_DEFAULT_MAPSIZE ((size_t)4 << 30)

enum store_db { STORE_ADDR = 0, STORE_DOMAIN, STORE_ENTRY, STORE_LOG, STORE_META, STORE_NDB };

/* Names in the meta database. */
#define STORE_META_MAGIC        "magic"
#define STORE_META_FORMAT       "format"
#define STORE_META_GENERATION   "generation"
#define STORE_META_SOURCE       "source"
#define STORE_META_LAST_ATTEMPT "last_attempt" /* unix time */
#define STORE_META_LAST_SUCCESS "last_success" /* unix time */
#define STORE_META_LAST_RESULT  "last_result"  /* ok, failed, refused, config */
#define STORE_META_LAST_ERROR   "last_error"   /* text; empty after a success */
#define STORE_META_ADDRESSES    "addresses"
#define STORE_META_ENTRIES      "entries"
#define STORE_META_DOMAINS      "domains"
#define STORE_META_INVALID      "invalid"     /* addresses skipped in the last sync */
#define STORE_META_CONFLICTS    "conflicts"   /* addresses on two entries, last sync */
#define STORE_META_DURATION_MS  "duration_ms" /* of the last successful sync */
#define STORE_META_LOG_FLOOR    "log_floor"   /* changes after G are logged iff G >= floor */
/* the last successful sync's changes, and the refused syncs so far (for /metrics) */
#define STORE_META_LAST_ADDED   "last_added"
#define STORE_META_LAST_CHANGED "last_changed"
#define STORE_META_LAST_REMOVED "last_removed"
#define STORE_META_REFUSALS     "refusals"
/* syncrepl (syncd/src_syncrepl.c): written with the data they describe */
#define STORE_META_SYNC_COOKIE  "sync_cookie"      /* the provider's RFC 4533 cookie */
#define STORE_META_SYNC_SEARCH  "sync_search"      /* hash of the search the cookie is for */
#define STORE_META_SYNC_MODE    "sync_mode"        /* paged, refresh, persist */
#define STORE_META_SYNC_PERSIST "sync_persist"     /* up or down: the persist connection */
#define STORE_META_SYNC_CHANGE  "sync_last_change" /* unix time a change last arrived */
#define STORE_META_DEL_WINDOW   "delete_window"    /* "v2 END BASE REMOVED ...": syncd/delwin.h */

#define STORE_META_MAX 1024 /* longest meta value */

struct store;

int store_open(struct store **stp, const char *path, unsigned flags, size_t mapsize);
void store_close(struct store *st);
const char *store_strerror(int rc);

/* store_begin - begin a transaction (MDB_RDONLY or 0); adopts a map grown by another process */
int store_begin(struct store *st, unsigned flags, MDB_txn **txn);
/* store_grow - double the map after MDB_MAP_FULL; no transaction of this process may be open */
int store_grow(struct store *st);
size_t store_mapsize(const struct store *st);
MDB_dbi store_dbi(const struct store *st, enum store_db db);
MDB_env *store_env(const struct store *st);
const char *store_path(const struct store *st);

/* store_meta_get - copy a meta value into buf (cap bytes, NUL-terminated); MDB_NOTFOUND if unset */
int store_meta_get(MDB_txn *txn, const struct store *st, const char *name, char *buf, size_t cap);
/* store_meta_get_u64 - a numeric meta value; 0 when unset */
int store_meta_get_u64(MDB_txn *txn, const struct store *st, const char *name, uint64_t *v);
int store_meta_put(MDB_txn *txn, const struct store *st, const char *name, const char *value);
int store_meta_put_u64(MDB_txn *txn, const struct store *st, const char *name, uint64_t v);

/* store_addr_get - the record of a key (borrowed); MDB_NOTFOUND or STORE_ERR_CORRUPT */
int store_addr_get(MDB_txn *txn, const struct store *st, const char *key, size_t len,
                   struct rcpt *r);
/*
 * store_addr_any_catchall - *any = 1 when the addr db holds a catch-all key ("@domain"; no
 * other key starts with '@', and they sort together), else 0. Returns 0 or an LMDB error.
 */
int store_addr_any_catchall(MDB_txn *txn, const struct store *st, int *any);
/* store_domain_has - 0 when the domain is managed, else MDB_NOTFOUND (or an error) */
int store_domain_has(MDB_txn *txn, const struct store *st, const char *dom, size_t len);

/* ---- sync history (a ring of records in meta, newest last) ---- */

#define STORE_HIST_PREFIX "history:"
#define STORE_HIST_KEEP   500 /* records kept; the oldest go first */

/*
 * store_hist_append - add one attempt's record in txn (a write transaction), dropping the
 * oldest so that at most keep (0: STORE_HIST_KEEP) remain. 0 or an LMDB error.
 */
int store_hist_append(MDB_txn *txn, const struct store *st, const struct store_hist *h,
                      unsigned keep);
/*
 * store_hist_each - call fn on each record, newest first, until it returns non-zero or max
 * (0: all) were given; records that do not decode are skipped. The record borrows LMDB's
 * bytes for the call. 0 or an LMDB error.
 */
int store_hist_each(MDB_txn *txn, const struct store *st, size_t max,
                    int (*fn)(void *ctx, const struct store_hist *h), void *ctx);

/* What status pages and syncd report about the store. */
struct store_info {
    uint64_t generation;
    uint64_t last_attempt, last_success, duration_ms;
    uint64_t addresses, entries, domains, invalid, conflicts;
    uint64_t log_floor;
    uint64_t last_added, last_changed, last_removed, refusals;
    char source[256];
    char last_result[32];
    char last_error[STORE_META_MAX];
    uint64_t sync_last_change; /* syncrepl: unix time a change last arrived (0: none) */
    char sync_mode[32];        /* syncrepl: refresh or persist ("": another source) */
    char sync_persist[8];      /* syncrepl: up or down, the persist connection */
};

int store_info_read(MDB_txn *txn, const struct store *st, struct store_info *info);

#endif
