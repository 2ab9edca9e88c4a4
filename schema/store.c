/*
 * store - open, check and describe the LMDB store; see store.h.
 */
#include "schema/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_NDB];
    unsigned flags;
    size_t mapsize;
    char *path;
};

static const char *const store_db_names[STORE_NDB] = {"addr", "domain", "entry", "log", "meta"};

const char *store_strerror(int rc)
{
    return err_strerror(rc);
}

/* store_check_names - every named database in the main db must be one of ours */
static int store_check_names(MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_dbi main;
    int rc;

    if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, main, &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        int ours = 0;
        for (int i = 0; i < STORE_NDB; i++)
            if (k.mv_size == strlen(store_db_names[i]) &&
                memcmp(k.mv_data, store_db_names[i], k.mv_size) == 0)
                ours = 1;
        if (!ours) {
            mdb_cursor_close(cur);
            return STORE_ERR_NOTSTORE;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* store_check_format - magic and format version, distinct errors for each */
static int store_check_format(MDB_txn *txn, struct store *st)
{
    char buf[64];
    uint64_t format;
    int rc;

    rc = store_meta_get(txn, st, STORE_META_MAGIC, buf, sizeof(buf));
    if (rc == MDB_NOTFOUND || (rc == 0 && strcmp(buf, STORE_MAGIC) != 0))
        return STORE_ERR_NOTSTORE;
    if (rc != 0)
        return rc;
    if ((rc = store_meta_get_u64(txn, st, STORE_META_FORMAT, &format)) != 0)
        return rc == STORE_ERR_CORRUPT ? STORE_ERR_NOTSTORE : rc;
    return format == STORE_FORMAT ? 0 : STORE_ERR_VERSION;
}

/* store_init_dbs - open (and with write, create) the databases; initialize a new store */
static int store_init_dbs(struct store *st)
{
    int write = !(st->flags & STORE_RDONLY);
    MDB_txn *txn;
    char buf[64];
    int rc;

    if ((rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &txn)) != 0)
        return rc;
    if ((rc = store_check_names(txn)) != 0)
        goto out;
    for (int i = 0; i < STORE_NDB; i++) {
        rc = mdb_dbi_open(txn, store_db_names[i], write ? MDB_CREATE : 0, &st->dbi[i]);
        if (rc == MDB_NOTFOUND) {
            rc = STORE_ERR_NOTSTORE;
            goto out;
        }
        if (rc != 0)
            goto out;
    }
    if (write && store_meta_get(txn, st, STORE_META_MAGIC, buf, sizeof(buf)) == MDB_NOTFOUND) {
        MDB_stat ms;
        if ((rc = mdb_stat(txn, st->dbi[STORE_ADDR], &ms)) != 0)
            goto out;
        if (ms.ms_entries != 0) {
            rc = STORE_ERR_NOTSTORE;
            goto out;
        }
        if ((rc = store_meta_put(txn, st, STORE_META_MAGIC, STORE_MAGIC)) != 0 ||
            (rc = store_meta_put_u64(txn, st, STORE_META_FORMAT, STORE_FORMAT)) != 0 ||
            (rc = store_meta_put_u64(txn, st, STORE_META_GENERATION, 0)) != 0)
            goto out;
    }
    if ((rc = store_check_format(txn, st)) != 0)
        goto out;
    return mdb_txn_commit(txn);
out:
    mdb_txn_abort(txn);
    return rc;
}

int store_open(struct store **stp, const char *path, unsigned flags, size_t mapsize)
{
    struct store *st;
    char data[4096];
    int rc;

    *stp = NULL;
    if (flags & STORE_RDONLY) {
        snprintf(data, sizeof(data), "%s/data.mdb", path);
        if (access(data, F_OK) != 0)
            return errno == ENOENT ? STORE_ERR_NOSTORE : errno;
    } else if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        return errno;
    }
    st = xcalloc(1, sizeof(*st));
    st->flags = flags;
    st->path = xstrdup(path);
    st->mapsize = mapsize ? mapsize : STORE_DEFAULT_MAPSIZE;
    if ((rc = mdb_env_create(&st->env)) != 0)
        goto fail;
    if ((rc = mdb_env_set_maxdbs(st->env, STORE_NDB + 2)) != 0)
        goto fail;
    if ((rc = mdb_env_set_maxreaders(st->env, STORE_MAXREADERS)) != 0)
        goto fail;
    if (!(flags & STORE_RDONLY) && (rc = mdb_env_set_mapsize(st->env, st->mapsize)) != 0)
        goto fail;
    rc = mdb_env_open(st->env, path,
                      MDB_NOTLS | ((flags & STORE_RDONLY) ? MDB_RDONLY : MDB_WRITEMAP), 0640);
    if (rc != 0)
        goto fail;
    if ((rc = store_init_dbs(st)) != 0)
        goto fail;
    {
        MDB_envinfo info;
        mdb_env_info(st->env, &info);
        st->mapsize = info.me_mapsize;
    }
    *stp = st;
    return 0;
fail:
    store_close(st);
    return rc;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->env != NULL)
        mdb_env_close(st->env);
    free(st->path);
    free(st);
}

int store_begin(struct store *st, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(st->env, NULL, flags, txn);

    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size and try again */
        MDB_envinfo info;
        if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
            return rc;
        mdb_env_info(st->env, &info);
        st->mapsize = info.me_mapsize;
        rc = mdb_txn_begin(st->env, NULL, flags, txn);
    }
    return rc;
}

int store_grow(struct store *st)
{
    MDB_envinfo info;
    int rc;

    mdb_env_info(st->env, &info);
    if ((rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2)) != 0)
        return rc;
    mdb_env_info(st->env, &info);
    st->mapsize = info.me_mapsize;
    return 0;
}

size_t store_mapsize(const struct store *st)
{
    return st->mapsize;
}

MDB_dbi store_dbi(const struct store *st, enum store_db db)
{
    return st->dbi[db];
}

MDB_env *store_env(const struct store *st)
{
    return st->env;
}

const char *store_path(const struct store *st)
{
    return st->path;
}

int store_meta_get(MDB_txn *txn, const struct store *st, const char *name, char *buf, size_t cap)
{
    MDB_val k = {strlen(name), (void *)(uintptr_t)name}, v;
    int rc;

    if ((rc = mdb_get(txn, st->dbi[STORE_META], &k, &v)) != 0)
        return rc;
    if (v.mv_size >= cap)
        return STORE_ERR_CORRUPT;
    memcpy(buf, v.mv_data, v.mv_size);
    buf[v.mv_size] = '\0';
    return 0;
}

int store_meta_get_u64(MDB_txn *txn, const struct store *st, const char *name, uint64_t *v)
{
    MDB_val k = {strlen(name), (void *)(uintptr_t)name}, val;
    int rc;

    *v = 0;
    rc = mdb_get(txn, st->dbi[STORE_META], &k, &val);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    return store_meta_u64_decode(val.mv_data, val.mv_size, v);
}

int store_meta_put(MDB_txn *txn, const struct store *st, const char *name, const char *value)
{
    size_t len = strlen(value);
    MDB_val k = {strlen(name), (void *)(uintptr_t)name};
    MDB_val v = {len < STORE_META_MAX ? len : STORE_META_MAX - 1, (void *)(uintptr_t)value};

    return mdb_put(txn, st->dbi[STORE_META], &k, &v, 0);
}

int store_meta_put_u64(MDB_txn *txn, const struct store *st, const char *name, uint64_t v)
{
    char buf[STORE_META_U64_SIZE];

    store_meta_u64_encode(buf, v);
    return store_meta_put(txn, st, name, buf);
}

int store_addr_get(MDB_txn *txn, const struct store *st, const char *key, size_t len,
                   struct rcpt *r)
{
    MDB_val k = {len, (void *)(uintptr_t)key}, v;
    int rc;

    if (len == 0 || len > ADDR_MAX)
        return MDB_NOTFOUND;
    if ((rc = mdb_get(txn, st->dbi[STORE_ADDR], &k, &v)) != 0)
        return rc;
    return rcpt_decode(r, v.mv_data, v.mv_size) == 0 ? 0 : STORE_ERR_CORRUPT;
}

int store_addr_any_catchall(MDB_txn *txn, const struct store *st, int *any)
{
    MDB_cursor *cur;
    MDB_val k = {1, (void *)(uintptr_t) "@"}, v;
    int rc;

    *any = 1; /* on an error, the caller still tries every candidate */
    if ((rc = mdb_cursor_open(txn, st->dbi[STORE_ADDR], &cur)) != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND || rc == 0)
        *any = rc == 0 && k.mv_size > 0 && *(const char *)k.mv_data == '@';
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_domain_has(MDB_txn *txn, const struct store *st, const char *dom, size_t len)
{
    MDB_val k = {len, (void *)(uintptr_t)dom}, v;

    if (len == 0 || len > ADDR_MAX)
        return MDB_NOTFOUND;
    return mdb_get(txn, st->dbi[STORE_DOMAIN], &k, &v);
}

int store_info_read(MDB_txn *txn, const struct store *st, struct store_info *info)
{
    static const struct {
        const char *name;
        size_t offset;
    } nums[] = {
        {STORE_META_GENERATION, offsetof(struct store_info, generation)},
        {STORE_META_LAST_ATTEMPT, offsetof(struct store_info, last_attempt)},
        {STORE_META_LAST_SUCCESS, offsetof(struct store_info, last_success)},
        {STORE_META_DURATION_MS, offsetof(struct store_info, duration_ms)},
        {STORE_META_ADDRESSES, offsetof(struct store_info, addresses)},
        {STORE_META_ENTRIES, offsetof(struct store_info, entries)},
        {STORE_META_DOMAINS, offsetof(struct store_info, domains)},
        {STORE_META_INVALID, offsetof(struct store_info, invalid)},
        {STORE_META_CONFLICTS, offsetof(struct store_info, conflicts)},
        {STORE_META_LOG_FLOOR, offsetof(struct store_info, log_floor)},
        {STORE_META_LAST_ADDED, offsetof(struct store_info, last_added)},
        {STORE_META_LAST_CHANGED, offsetof(struct store_info, last_changed)},
        {STORE_META_LAST_REMOVED, offsetof(struct store_info, last_removed)},
        {STORE_META_REFUSALS, offsetof(struct store_info, refusals)},
        {STORE_META_SYNC_CHANGE, offsetof(struct store_info, sync_last_change)},
    };
    static const struct {
        const char *name;
        size_t offset, size;
    } strs[] = {
        {STORE_META_SOURCE, offsetof(struct store_info, source), sizeof(info->source)},
        {STORE_META_LAST_RESULT, offsetof(struct store_info, last_result),
         sizeof(info->last_result)},
        {STORE_META_LAST_ERROR, offsetof(struct store_info, last_error), sizeof(info->last_error)},
        {STORE_META_SYNC_MODE, offsetof(struct store_info, sync_mode), sizeof(info->sync_mode)},
        {STORE_META_SYNC_PERSIST, offsetof(struct store_info, sync_persist),
         sizeof(info->sync_persist)},
    };
    int rc;

    memset(info, 0, sizeof(*info));
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        rc = store_meta_get_u64(txn, st, nums[i].name, (uint64_t *)((char *)info + nums[i].offset));
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        char *dst = (char *)info + strs[i].offset;
        rc = store_meta_get(txn, st, strs[i].name, dst, strs[i].size);
        if (rc == MDB_NOTFOUND)
            dst[0] = '\0';
        else if (rc == STORE_ERR_CORRUPT)
            str_copy(dst, "(too long)", strs[i].size);
        else if (rc != 0)
            return rc;
    }
    return 0;
}

/* store_hist_key - the meta key of history record seq; returns its length */
static size_t store_hist_key(char buf[64], uint64_t seq)
{
    return (size_t)snprintf(buf, 64, "%s%020llu", STORE_HIST_PREFIX, (unsigned long long)seq);
}

/* store_hist_seq - the sequence of a history key, 0 when k is none */
static uint64_t store_hist_seq(const MDB_val *k)
{
    size_t plen = strlen(STORE_HIST_PREFIX);
    uint64_t seq = 0;

    if (k->mv_size != plen + 20 || memcmp(k->mv_data, STORE_HIST_PREFIX, plen) != 0 ||
        store_meta_u64_decode((const char *)k->mv_data + plen, 20, &seq) != 0)
        return 0;
    return seq;
}

/* store_hist_last - position cur on the newest history record; its sequence, 0: none */
static int store_hist_last(MDB_cursor *cur, MDB_val *k, MDB_val *v, uint64_t *seq)
{
    char end[64];
    int rc;

    /* the first key after every history key: the prefix with its last byte plus one */
    str_copy(end, STORE_HIST_PREFIX, sizeof(end));
    end[strlen(end) - 1]++;
    k->mv_size = strlen(end);
    k->mv_data = end;
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, k, v, MDB_LAST);
    *seq = rc == 0 ? store_hist_seq(k) : 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_hist_append(MDB_txn *txn, const struct store *st, const struct store_hist *h,
                      unsigned keep)
{
    unsigned char rec[STORE_HIST_MAX];
    char key[64];
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t last, seq;
    int n, rc;

    if (keep == 0)
        keep = STORE_HIST_KEEP;
    if ((n = store_hist_encode(rec, sizeof(rec), h)) < 0)
        return EINVAL;
    if ((rc = mdb_cursor_open(txn, st->dbi[STORE_META], &cur)) != 0)
        return rc;
    if ((rc = store_hist_last(cur, &k, &v, &last)) != 0)
        goto out;
    seq = last + 1;
    k.mv_size = store_hist_key(key, seq);
    k.mv_data = key;
    v.mv_size = (size_t)n;
    v.mv_data = rec;
    if ((rc = mdb_put(txn, st->dbi[STORE_META], &k, &v, 0)) != 0)
        goto out;
    /* drop the oldest: every history key with a sequence <= seq - keep */
    k.mv_size = strlen(STORE_HIST_PREFIX);
    k.mv_data = (void *)(uintptr_t)STORE_HIST_PREFIX;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        uint64_t s = store_hist_seq(&k);
        if (s == 0 || s + keep > seq)
            break;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* after a delete: the next record */
    }
out:
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_hist_each(MDB_txn *txn, const struct store *st, size_t max,
                    int (*fn)(void *ctx, const struct store_hist *h), void *ctx)
{
    struct store_hist h;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t seq;
    size_t given = 0;
    int rc;

    if ((rc = mdb_cursor_open(txn, st->dbi[STORE_META], &cur)) != 0)
        return rc;
    rc = store_hist_last(cur, &k, &v, &seq);
    while (rc == 0 && seq != 0 && (max == 0 || given < max)) {
        if (store_hist_decode(&h, v.mv_data, v.mv_size) == 0) {
            given++;
            if (fn(ctx, &h) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        seq = rc == 0 ? store_hist_seq(&k) : 0;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
