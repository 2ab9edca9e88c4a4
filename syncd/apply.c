/*
 * apply - the apply core: one sync, one write transaction, the safety rules; see apply.h
 * (callers) and apply_core.h (drivers). It never calls a driver by name: the attached
 * driver's finish step comes through struct apply_driver.
 *
 * Ownership: struct apply owns its two transactions, the noted domains, the keys two
 * entries fought over and (through free_state) the driver's state.
 */
#include "syncd/apply_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hset.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "syncd/delwin.h"

struct apply {
    struct store *st;
    struct apply_opts o;
    MDB_txn *txn; /* the one write transaction */
    MDB_txn *pre; /* read transaction: the store as it was before this sync */
    struct hset domain_set;
    char **domains; /* derived or configured managed domains */
    char *dkinds;   /* each noted domain's kind (else NULL: as the options say) */
    size_t ndomains;
    struct apply_stats s;
    uint64_t gen_before;
    uint64_t entries_before;
    uint64_t log_gen; /* generation this sync's changes are logged under */
    uint64_t log_seq;
    int follow;             /* the generation becomes log_gen whatever changed (feeds) */
    int log_reset;          /* the log was emptied: its floor becomes the new generation */
    int logging;            /* change log enabled for this sync */
    int fresh;              /* the store was empty: nothing to compare with or remove */
    int log_dropped;        /* the log overflowed this sync and was emptied */
    struct hset conflicted; /* keys two entries claimed: logged once, at the end */
    char **ckeys;
    size_t nckeys;
    const struct apply_driver *drv;
    void *drv_state;
    struct timespec start;
    uint64_t window;   /* apply_delete_window(): seconds, 0 none */
    struct delwin win; /* the removals still in the window (delwin.h) */
    int win_junk;      /* meta held something else: rewritten with the sync */
};

/* ---- the sync ---- */

int apply_attach(struct apply *a, const struct apply_driver *d, void *state)
{
    if (a->drv != NULL)
        return EINVAL;
    a->drv = d;
    a->drv_state = state;
    return 0;
}

void *apply_driver_state(const struct apply *a, const struct apply_driver *d)
{
    return a->drv == d ? a->drv_state : NULL;
}

MDB_txn *apply_txn(const struct apply *a)
{
    return a->txn;
}

struct store *apply_store(const struct apply *a)
{
    return a->st;
}

int apply_state_get(struct apply *a, const char *name, char *buf, size_t cap)
{
    char key[128];

    snprintf(key, sizeof(key), "src.%s", name);
    return store_meta_get(a->txn, a->st, key, buf, cap);
}

int apply_state_put(struct apply *a, const char *name, const char *value)
{
    char key[128];

    snprintf(key, sizeof(key), "src.%s", name);
    return store_meta_put(a->txn, a->st, key, value);
}

const struct apply_opts *apply_opts_of(const struct apply *a)
{
    return &a->o;
}

struct apply_stats *apply_stats_of(struct apply *a)
{
    return &a->s;
}

int apply_fresh(const struct apply *a)
{
    return a->fresh;
}

uint64_t apply_entries_before(const struct apply *a)
{
    return a->entries_before;
}

void apply_delete_window(struct apply *a, uint64_t seconds)
{
    a->window = seconds;
}

/*
 * apply_window_load - the removals still in the delete window at now, from meta; a value
 * that is not a window counts as none (logged once: the sync rewrites it): it must not
 * refuse good data. 0 or an LMDB error.
 */
static int apply_window_load(struct apply *a, uint64_t now)
{
    char buf[STORE_META_MAX], safe[LOG_SAFE_MAX + 4];
    int rc;

    a->win.n = 0;
    a->win_junk = 0;
    if (a->window == 0)
        return 0;
    rc = store_meta_get(a->txn, a->st, STORE_META_DEL_WINDOW, buf, sizeof(buf));
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 && rc != STORE_ERR_CORRUPT)
        return rc;
    if (rc != 0 || delwin_parse(&a->win, buf, a->window) != 0) {
        log_warnx("apply: the store's %s value is not a delete window (\"%s\"); starting a new "
                  "one",
                  STORE_META_DEL_WINDOW,
                  rc != 0 ? "too long" : log_safe(safe, sizeof(safe), buf, strlen(buf)));
        a->win.n = 0;
        a->win_junk = 1;
    }
    delwin_expire(&a->win, a->window, now);
    return 0;
}

_Static_assert(DELWIN_TEXT <= STORE_META_MAX / 2, "a delete window fits a meta value, twice");

/*
 * apply_window_save - this sync's removals into the window; emptied by a forced refusal; a
 * value that was not a window is replaced even when this sync removed nothing
 */
static int apply_window_save(struct apply *a, int refused, uint64_t now)
{
    char buf[DELWIN_TEXT];

    if (a->window == 0 || (a->s.removed == 0 && !refused && !a->win_junk))
        return 0;
    if (refused) /* the operator took what the source says: a new window from here */
        return store_meta_put(a->txn, a->st, STORE_META_DEL_WINDOW, "");
    delwin_add(&a->win, a->window, now, a->s.removed, a->s.previous);
    if (delwin_format(&a->win, buf, sizeof(buf)) != 0)
        return EINVAL;
    return store_meta_put(a->txn, a->st, STORE_META_DEL_WINDOW, buf);
}

uint64_t apply_generation(const struct apply *a)
{
    return a->gen_before;
}

const char *apply_refusal(const struct apply *a)
{
    return a->s.refusal;
}

void apply_follow(struct apply *a, uint64_t gen, int logged)
{
    a->follow = 1;
    a->log_gen = gen;
    if (logged) {
        a->fresh = 0;
        a->logging = a->o.changelog_max > 0;
    } else {
        a->logging = 0;
    }
}

/* apply_log - append one change to the log (and print it for --dry-run) */
static int apply_log(struct apply *a, enum store_op op, const char *key, size_t klen,
                     const MDB_val *rec)
{
    unsigned char lk[STORE_LOG_KEY_SIZE], buf[STORE_LOG_MAX];
    struct store_log_rec l = {op, key, klen, rec != NULL ? rec->mv_data : NULL,
                              rec != NULL ? rec->mv_size : 0};
    MDB_val k = {sizeof(lk), lk}, v;
    int n;

    if (a->o.print)
        printf("%c %.*s\n", op, (int)klen, key);
    if (!a->logging)
        return 0;
    if (a->log_seq >= a->o.changelog_max) {
        /* more changes than the log keeps: readers behind must take a snapshot */
        int rc = mdb_drop(a->txn, store_dbi(a->st, STORE_LOG), 0);
        a->logging = 0;
        a->log_dropped = 1;
        return rc;
    }
    if ((n = store_log_encode(buf, sizeof(buf), &l)) < 0)
        return STORE_ERR_CORRUPT;
    v.mv_size = (size_t)n;
    v.mv_data = buf;
    store_log_key(lk, a->log_gen, (uint32_t)a->log_seq++);
    return mdb_put(a->txn, store_dbi(a->st, STORE_LOG), &k, &v, MDB_APPEND);
}

int apply_log_reset(struct apply *a)
{
    a->logging = 0;
    a->log_reset = 1;
    return mdb_drop(a->txn, store_dbi(a->st, STORE_LOG), 0);
}

int apply_begin(struct apply **ap, struct store *st, const struct apply_opts *o)
{
    struct apply *a = xcalloc(1, sizeof(*a));
    MDB_stat ms;
    int rc;

    a->st = st;
    a->o = *o;
    clock_gettime(CLOCK_MONOTONIC, &a->start);
    if ((rc = store_begin(st, 0, &a->txn)) != 0)
        goto fail;
    if ((rc = store_begin(st, MDB_RDONLY, &a->pre)) != 0)
        goto fail;
    if ((rc = store_meta_get_u64(a->txn, st, STORE_META_GENERATION, &a->gen_before)) != 0)
        goto fail;
    a->log_gen = a->gen_before + 1;
    if ((rc = mdb_stat(a->txn, store_dbi(st, STORE_ADDR), &ms)) != 0)
        goto fail;
    a->s.previous = ms.ms_entries;
    if ((rc = mdb_stat(a->txn, store_dbi(st, STORE_ENTRY), &ms)) != 0)
        goto fail;
    a->entries_before = ms.ms_entries;
    /* Into an empty store every key is new: a key met twice can only be a conflict within
     * this sync, which MDB_NOOVERWRITE reports, so the seen-sets and sweeps are not needed. */
    a->fresh = a->s.previous == 0 && ms.ms_entries == 0;
    /* A first sync is not logged: an edge that has nothing takes a snapshot anyway. */
    a->logging = !a->fresh && o->changelog_max > 0;
    for (size_t i = 0; o->domains != NULL && i < o->domains->n; i++) {
        char dom[ADDR_KEY_SIZE];
        int n = addr_normalize_domain(dom, sizeof(dom), o->domains->v[i], strlen(o->domains->v[i]));
        if (n > 0)
            apply_domain_note(a, dom, (size_t)n, 0);
    }
    *ap = a;
    return 0;
fail:
    apply_abort(a);
    *ap = NULL;
    return rc;
}

static void apply_free(struct apply *a)
{
    if (a->drv != NULL && a->drv->free_state != NULL)
        a->drv->free_state(a->drv_state);
    hset_free(&a->domain_set);
    hset_free(&a->conflicted);
    for (size_t i = 0; i < a->nckeys; i++)
        free(a->ckeys[i]);
    free(a->ckeys);
    for (size_t i = 0; i < a->ndomains; i++)
        free(a->domains[i]);
    free(a->domains);
    free(a->dkinds);
    free(a);
}

void apply_abort(struct apply *a)
{
    if (a == NULL)
        return;
    if (a->pre != NULL)
        mdb_txn_abort(a->pre);
    if (a->txn != NULL)
        mdb_txn_abort(a->txn);
    apply_free(a);
}

/* ---- addresses ---- */

int apply_claim_wins(const struct rcpt *cand, const struct rcpt *cur)
{
    int cp = cand->kind == RCPT_ALIAS, up = cur->kind == RCPT_ALIAS;
    size_t n;
    int c;

    if (cand->state != cur->state)
        return cand->state == RCPT_ACTIVE;
    if (cp != up)
        return cp < up;
    n = cand->entry_len < cur->entry_len ? cand->entry_len : cur->entry_len;
    c = memcmp(cand->entry, cur->entry, n);
    return c != 0 ? c < 0 : cand->entry_len < cur->entry_len;
}

static int apply_val_equal(const MDB_val *x, const MDB_val *y)
{
    return x->mv_size == y->mv_size && memcmp(x->mv_data, y->mv_data, x->mv_size) == 0;
}

int apply_addr_put(struct apply *a, const char *key, size_t klen, const MDB_val *rec,
                   unsigned flags)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_ADDR);
    MDB_val k = {klen, (void *)(uintptr_t)key}, v = *rec;
    int rc;

    rc = mdb_put(a->txn, dbi, &k, &v, (flags & APPLY_PUT_APPEND) ? MDB_APPEND : MDB_NOOVERWRITE);
    if (rc == 0) {
        a->s.added++;
        return apply_log(a, STORE_OP_ADD, key, klen, rec);
    }
    if (rc != MDB_KEYEXIST)
        return rc;
    if (flags & (APPLY_PUT_NOOVERWRITE | APPLY_PUT_APPEND))
        return APPLY_KEYEXIST;
    if (apply_val_equal(&v, rec)) {
        a->s.unchanged++;
        return 0;
    }
    if ((rc = mdb_put(a->txn, dbi, &k, (MDB_val *)(uintptr_t)rec, 0)) != 0)
        return rc;
    a->s.changed++;
    return apply_log(a, STORE_OP_CHANGE, key, klen, rec);
}

/* apply_del - the key leaves db: counted and logged (op) when it was there */
static int apply_del(struct apply *a, enum store_db db, const char *key, size_t klen,
                     enum store_op op, uint64_t *count)
{
    MDB_val k = {klen, (void *)(uintptr_t)key};
    int rc = mdb_del(a->txn, store_dbi(a->st, db), &k, NULL);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    (*count)++;
    return apply_log(a, op, key, klen, NULL);
}

int apply_addr_del(struct apply *a, const char *key, size_t klen)
{
    return apply_del(a, STORE_ADDR, key, klen, STORE_OP_REMOVE, &a->s.removed);
}

int apply_addr_contest(struct apply *a, const char *key, size_t klen, const MDB_val *rec,
                       const struct rcpt *cand)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_ADDR);
    MDB_val k = {klen, (void *)(uintptr_t)key}, cur_v, pre_v;
    struct rcpt cur;
    int rc, has_pre, first_changed, final_changed;

    a->s.conflicts++;
    if ((rc = mdb_get(a->txn, dbi, &k, &cur_v)) != 0)
        return rc;
    if (rcpt_decode(&cur, cur_v.mv_data, cur_v.mv_size) != 0)
        return STORE_ERR_CORRUPT;
    if (!apply_claim_wins(cand, &cur))
        return 0;
    rc = mdb_get(a->pre, dbi, &k, &pre_v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    has_pre = rc == 0;
    first_changed = !has_pre || !apply_val_equal(&cur_v, &pre_v);
    final_changed = !has_pre || !apply_val_equal(rec, &pre_v);
    if ((rc = mdb_put(a->txn, dbi, &k, (MDB_val *)(uintptr_t)rec, 0)) != 0)
        return rc;
    if (first_changed && !final_changed)
        a->s.changed--, a->s.unchanged++;
    else if (!first_changed && final_changed)
        a->s.changed++, a->s.unchanged--;
    /* the log gets the key's net change once, at the end (apply_log_conflicts) */
    if (hset_add(&a->conflicted, hset_hash(key, klen))) {
        a->ckeys = xreallocarray(a->ckeys, a->nckeys + 1, sizeof(*a->ckeys));
        a->ckeys[a->nckeys++] = xstrndup(key, klen);
    }
    return 0;
}

int apply_addr_write(struct apply *a, const char *key, size_t klen, const MDB_val *rec)
{
    MDB_val k = {klen, (void *)(uintptr_t)key};
    int rc;

    if (rec != NULL)
        return mdb_put(a->txn, store_dbi(a->st, STORE_ADDR), &k, (MDB_val *)(uintptr_t)rec, 0);
    rc = mdb_del(a->txn, store_dbi(a->st, STORE_ADDR), &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int apply_addr_get(struct apply *a, const char *key, size_t klen, MDB_val *raw, struct rcpt *r)
{
    MDB_val k = {klen, (void *)(uintptr_t)key};
    int rc = mdb_get(a->txn, store_dbi(a->st, STORE_ADDR), &k, raw);

    if (rc != 0)
        return rc;
    return rcpt_decode(r, raw->mv_data, raw->mv_size) == 0 ? 0 : STORE_ERR_CORRUPT;
}

int apply_addr_settle(struct apply *a, const char *key, size_t klen)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_ADDR);
    MDB_val k = {klen, (void *)(uintptr_t)key}, now, pre;
    int rc, has_now, has_pre;

    if ((rc = mdb_get(a->txn, dbi, &k, &now)) != 0 && rc != MDB_NOTFOUND)
        return rc;
    has_now = rc == 0;
    if ((rc = mdb_get(a->pre, dbi, &k, &pre)) != 0 && rc != MDB_NOTFOUND)
        return rc;
    has_pre = rc == 0;
    if (has_now && has_pre && apply_val_equal(&now, &pre)) {
        a->s.unchanged++;
        return 0;
    }
    if (has_now && has_pre) {
        a->s.changed++;
        return apply_log(a, STORE_OP_CHANGE, key, klen, &now);
    }
    if (has_now) {
        a->s.added++;
        return apply_log(a, STORE_OP_ADD, key, klen, &now);
    }
    if (has_pre) {
        a->s.removed++;
        return apply_log(a, STORE_OP_REMOVE, key, klen, NULL);
    }
    return 0;
}

int apply_sweep(struct apply *a, enum store_db db, const struct hset *seen, enum store_op log_op,
                uint64_t *removed)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(a->txn, store_dbi(a->st, db), &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        if (hset_has(seen, hset_hash(k.mv_data, k.mv_size)))
            continue;
        (*removed)++;
        if ((log_op && (rc = apply_log(a, log_op, k.mv_data, k.mv_size, NULL)) != 0) ||
            (rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int apply_domains(struct apply *a)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_DOMAIN);
    char kind = (a->o.domains != NULL && a->o.domains->n > 0) ? STORE_DOMAIN_CONFIGURED
                                                              : STORE_DOMAIN_DERIVED;
    int rc;

    for (size_t i = 0; i < a->ndomains; i++) {
        MDB_val dk = {strlen(a->domains[i]), a->domains[i]}, dv = {1, &kind};
        if (a->dkinds != NULL)
            kind = a->dkinds[i];
        rc = mdb_put(a->txn, dbi, &dk, &dv, MDB_NOOVERWRITE);
        if (rc == 0) {
            a->s.domains_added++;
            if ((rc = apply_log(a, STORE_OP_DOMAIN_ADD, dk.mv_data, dk.mv_size, NULL)) != 0)
                return rc;
        } else if (rc == MDB_KEYEXIST) {
            if (dv.mv_size != 1 || *(char *)dv.mv_data != kind) {
                MDB_val nv = {1, &kind};
                if ((rc = mdb_put(a->txn, dbi, &dk, &nv, 0)) != 0)
                    return rc;
            }
        } else {
            return rc;
        }
    }
    return apply_sweep(a, STORE_DOMAIN, &a->domain_set, STORE_OP_DOMAIN_REMOVE,
                       &a->s.domains_removed);
}

/* ---- entries ---- */

void apply_entry_rcpt(const struct sync_entry *e, size_t i, struct rcpt *r)
{
    const struct sync_addr *ad = &e->addrs[i];

    r->kind = ad->kind;
    r->state = e->state;
    r->flags = ad->key[0] == '@' ? RCPT_FLAG_CATCHALL : 0;
    r->primary = e->primary;
    r->primary_len = e->primary_len;
    r->entry = e->id;
    r->entry_len = e->id_len;
}

void apply_stored_rcpt(const char *id, size_t idlen, const struct store_entry *se,
                       const char *primary, size_t plen, size_t index, const char *key, size_t klen,
                       struct rcpt *r)
{
    r->kind = index == 0 ? se->kind : RCPT_ALIAS;
    r->state = se->state;
    r->flags = klen > 0 && key[0] == '@' ? RCPT_FLAG_CATCHALL : 0;
    r->primary = primary;
    r->primary_len = plen;
    r->entry = id;
    r->entry_len = idlen;
}

int apply_entry_put(struct apply *a, const struct sync_entry *e, unsigned flags)
{
    size_t cap = STORE_ENTRY_HEADER, n;
    unsigned char *buf;
    MDB_val k = {e->id_len, (void *)(uintptr_t)e->id}, v, old;
    int rc;

    for (size_t i = 0; i < e->naddrs; i++)
        cap += STORE_ENTRY_ITEM(e->addrs[i].len);
    buf = xmalloc(cap);
    /* the primary comes first, with the entry's kind (entry.h) */
    rc = store_entry_encode_head(buf, cap, e->state, e->naddrs ? e->addrs[0].kind : 0, e->naddrs);
    n = rc < 0 ? 0 : (size_t)rc;
    for (size_t i = 0; rc >= 0 && i < e->naddrs; i++) {
        rc = store_entry_encode_key(buf + n, cap - n, e->addrs[i].key, e->addrs[i].len);
        n += rc < 0 ? 0 : (size_t)rc;
    }
    if (rc < 0) {
        free(buf);
        return STORE_ERR_CORRUPT;
    }
    v.mv_size = n;
    v.mv_data = buf;
    old = v;
    rc = mdb_put(a->txn, store_dbi(a->st, STORE_ENTRY), &k, &old, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST && (flags & APPLY_PUT_NOOVERWRITE))
        rc = APPLY_KEYEXIST;
    else if (rc == MDB_KEYEXIST)
        rc = apply_val_equal(&old, &v) ? 0
                                       : mdb_put(a->txn, store_dbi(a->st, STORE_ENTRY), &k, &v, 0);
    free(buf);
    return rc;
}

int apply_entry_get(struct apply *a, const char *id, size_t idlen, struct store_entry *se)
{
    MDB_val k = {idlen, (void *)(uintptr_t)id}, v;
    int rc = mdb_get(a->txn, store_dbi(a->st, STORE_ENTRY), &k, &v);

    if (rc != 0)
        return rc;
    return store_entry_decode(se, v.mv_data, v.mv_size);
}

int apply_entry_del(struct apply *a, const char *id, size_t idlen)
{
    MDB_val k = {idlen, (void *)(uintptr_t)id};
    int rc = mdb_del(a->txn, store_dbi(a->st, STORE_ENTRY), &k, NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}

int apply_entries_clear(struct apply *a)
{
    return mdb_drop(a->txn, store_dbi(a->st, STORE_ENTRY), 0);
}

/* ---- managed domains ---- */

int apply_domains_derived(const struct apply *a)
{
    return a->o.domains == NULL || a->o.domains->n == 0;
}

void apply_domain_note(struct apply *a, const char *dom, size_t len, char kind)
{
    if (hset_add(&a->domain_set, hset_hash(dom, len))) {
        a->domains = xreallocarray(a->domains, a->ndomains + 1, sizeof(*a->domains));
        if (kind != 0) {
            a->dkinds = xreallocarray(a->dkinds, a->ndomains + 1, 1);
            a->dkinds[a->ndomains] = kind;
        }
        a->domains[a->ndomains++] = xstrndup(dom, len);
    }
}

void apply_domain_note_key(struct apply *a, const char *key, size_t klen)
{
    size_t domlen;
    const char *dom = addr_domain(key, klen, &domlen);

    if (apply_domains_derived(a))
        apply_domain_note(a, dom, domlen, 0);
}

void apply_domains_forget(struct apply *a)
{
    for (size_t i = 0; i < a->ndomains; i++)
        free(a->domains[i]);
    a->ndomains = 0;
    hset_free(&a->domain_set);
    memset(&a->domain_set, 0, sizeof(a->domain_set));
    a->dkinds = xreallocarray(a->dkinds, 1, 1); /* non-NULL: apply_domains() uses the kinds */
}

int apply_domain_add(struct apply *a, const char *dom, size_t len)
{
    MDB_val k = {len, (void *)(uintptr_t)dom};
    unsigned char kind = STORE_DOMAIN_DERIVED;
    MDB_val v = {STORE_DOMAIN_VALUE_SIZE, &kind};
    int rc = mdb_put(a->txn, store_dbi(a->st, STORE_DOMAIN), &k, &v, MDB_NOOVERWRITE);

    if (rc == MDB_KEYEXIST)
        return 0;
    if (rc != 0)
        return rc;
    a->s.domains_added++;
    return apply_log(a, STORE_OP_DOMAIN_ADD, dom, len, NULL);
}

int apply_domain_del(struct apply *a, const char *dom, size_t len)
{
    return apply_del(a, STORE_DOMAIN, dom, len, STORE_OP_DOMAIN_REMOVE, &a->s.domains_removed);
}

/* ---- commit ---- */

/* apply_trim_log - keep at most changelog_max log records, dropping whole generations */
static int apply_trim_log(struct apply *a, uint64_t *floor)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_LOG);
    MDB_cursor *cur;
    MDB_stat ms;
    MDB_val k, v;
    uint64_t excess, cut = 0;
    int rc;

    if ((rc = mdb_stat(a->txn, dbi, &ms)) != 0)
        return rc;
    if (ms.ms_entries <= a->o.changelog_max)
        return 0;
    excess = ms.ms_entries - a->o.changelog_max;
    if ((rc = mdb_cursor_open(a->txn, dbi, &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        uint64_t g = 0;
        if (store_log_key_decode(k.mv_data, k.mv_size, &g, NULL) != 0)
            g = 0;
        if (excess == 0 && g != cut)
            break; /* keep whole generations */
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        cut = g;
        if (excess > 0)
            excess--;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (cut > *floor)
        *floor = cut;
    return 0;
}

/* apply_check - the safety rules; 0 or APPLY_REFUSED with the reason in stats */
static int apply_check(struct apply *a)
{
    struct apply_stats *s = &a->s;

    if (s->addresses == 0) {
        snprintf(s->refusal, sizeof(s->refusal),
                 "refused: the source yielded no addresses; the store keeps its %" PRIu64
                 " (use --force to empty it)",
                 s->previous);
        return APPLY_REFUSED;
    }
    if (s->previous > 0 && (double)s->removed > a->o.max_delete_ratio * (double)s->previous) {
        snprintf(s->refusal, sizeof(s->refusal),
                 "refused: the sync would remove %" PRIu64 " of %" PRIu64
                 " addresses (%.1f%%, max_delete_ratio is %.1f%%); run with --dry-run to see "
                 "them, --force to apply",
                 s->removed, s->previous, 100.0 * (double)s->removed / (double)s->previous,
                 100.0 * a->o.max_delete_ratio);
        return APPLY_REFUSED;
    }
    if (a->window > 0 && s->removed > 0) {
        uint64_t base = delwin_base(&a->win, s->previous), gone = delwin_removed(&a->win);
        gone = gone > UINT64_MAX - s->removed ? UINT64_MAX : gone + s->removed;
        if (base > 0 && (double)gone > a->o.max_delete_ratio * (double)base) {
            snprintf(s->refusal, sizeof(s->refusal),
                     "refused: with this sync's %" PRIu64 ", %" PRIu64
                     " addresses removed within delete_window (%" PRIu64 " s) of the %" PRIu64
                     " at its start (%.1f%%, max_delete_ratio is %.1f%%); --force applies them",
                     s->removed, gone, a->window, base, 100.0 * (double)gone / (double)base,
                     100.0 * a->o.max_delete_ratio);
            return APPLY_REFUSED;
        }
    }
    return 0;
}

/* apply_hist - append the attempt to the store's sync history (store.h), in txn */
static int apply_hist(MDB_txn *txn, const struct store *st, const char *source,
                      enum store_hist_result result, const char *why, uint64_t gen_before,
                      const struct apply_stats *s, uint64_t ms)
{
    struct store_hist h = {0};

    h.time = (uint64_t)time(NULL);
    h.duration_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    h.result = result;
    h.gen_before = gen_before;
    h.gen_after = result == STORE_HIST_OK && s != NULL ? s->generation : gen_before;
    if (s != NULL) {
        h.added = s->added;
        h.changed = s->changed;
        h.removed = s->removed;
    }
    h.source = source != NULL ? source : "";
    h.sourcelen = strlen(h.source);
    h.error = why != NULL ? why : "";
    h.errorlen = strlen(h.error);
    return store_hist_append(txn, st, &h, 0);
}

/* apply_meta - record a successful sync */
static int apply_meta(struct apply *a, uint64_t invalid, uint64_t floor)
{
    struct timespec now;
    uint64_t ms;
    const struct {
        const char *name;
        uint64_t v;
    } nums[] = {
        {STORE_META_GENERATION, a->s.generation},
        {STORE_META_ADDRESSES, a->s.addresses},
        {STORE_META_ENTRIES, a->s.entries},
        {STORE_META_DOMAINS, a->s.domains},
        {STORE_META_INVALID, invalid},
        {STORE_META_CONFLICTS, a->s.conflicts},
        {STORE_META_LOG_FLOOR, floor},
        {STORE_META_LAST_ADDED, a->s.added},
        {STORE_META_LAST_CHANGED, a->s.changed},
        {STORE_META_LAST_REMOVED, a->s.removed},
    };
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (uint64_t)((now.tv_sec - a->start.tv_sec) * 1000 +
                    (now.tv_nsec - a->start.tv_nsec) / 1000000);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if ((rc = store_meta_put_u64(a->txn, a->st, nums[i].name, nums[i].v)) != 0)
            return rc;
    if ((rc = store_meta_put_u64(a->txn, a->st, STORE_META_DURATION_MS, ms)) != 0 ||
        (rc = store_meta_put_u64(a->txn, a->st, STORE_META_LAST_ATTEMPT, (uint64_t)time(NULL))) !=
            0 ||
        (rc = store_meta_put_u64(a->txn, a->st, STORE_META_LAST_SUCCESS, (uint64_t)time(NULL))) !=
            0 ||
        (rc = store_meta_put(a->txn, a->st, STORE_META_LAST_RESULT, "ok")) != 0 ||
        (rc = store_meta_put(a->txn, a->st, STORE_META_LAST_ERROR, "")) != 0 ||
        (rc = store_meta_put(a->txn, a->st, STORE_META_SOURCE, a->o.source)) != 0)
        return rc;
    return apply_hist(a->txn, a->st, a->o.source, STORE_HIST_OK, "", a->gen_before, &a->s, ms);
}

/* apply_drop_generation_log - forget log records of a generation that is not published */
static int apply_drop_generation_log(struct apply *a)
{
    unsigned char lk[STORE_LOG_KEY_SIZE];
    MDB_val k = {sizeof(lk), lk}, v;
    MDB_cursor *cur;
    int rc;

    store_log_key(lk, a->log_gen, 0);
    if ((rc = mdb_cursor_open(a->txn, store_dbi(a->st, STORE_LOG), &cur)) != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && (rc = mdb_cursor_del(cur, 0)) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT); /* after a delete: the next record */
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * apply_log_conflicts - replace this generation's log records of keys two entries fought
 * over by one record of each key's net change against the store before the sync
 */
static int apply_log_conflicts(struct apply *a)
{
    MDB_dbi addr = store_dbi(a->st, STORE_ADDR);
    unsigned char lk[STORE_LOG_KEY_SIZE];
    MDB_val k = {sizeof(lk), lk}, v;
    struct store_log_rec l;
    MDB_cursor *cur;
    int rc;

    if (a->nckeys == 0 || !a->logging)
        return 0;
    store_log_key(lk, a->log_gen, 0);
    if ((rc = mdb_cursor_open(a->txn, store_dbi(a->st, STORE_LOG), &cur)) != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (store_log_decode(&l, v.mv_data, v.mv_size) == 0 && store_op_has_record(l.op) &&
            hset_has(&a->conflicted, hset_hash(l.key, l.keylen))) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    for (size_t i = 0; i < a->nckeys; i++) {
        MDB_val ck = {strlen(a->ckeys[i]), a->ckeys[i]}, fin, pre;
        if ((rc = mdb_get(a->txn, addr, &ck, &fin)) != 0)
            return rc;
        rc = mdb_get(a->pre, addr, &ck, &pre);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        if (rc == 0 && apply_val_equal(&fin, &pre))
            continue;
        if ((rc = apply_log(a, rc == 0 ? STORE_OP_CHANGE : STORE_OP_ADD, ck.mv_data, ck.mv_size,
                            &fin)) != 0)
            return rc;
    }
    return 0;
}

int apply_commit(struct apply *a, uint64_t invalid, struct apply_stats *stats)
{
    struct apply_stats *s = &a->s;
    uint64_t floor = 0, changes, now = (uint64_t)time(NULL);
    MDB_stat ms;
    int rc, refused;

    if (a->drv != NULL && a->drv->finish != NULL && (rc = a->drv->finish(a, a->drv_state)) != 0)
        goto fail;
    if ((rc = apply_log_conflicts(a)) != 0)
        goto fail;
    if ((rc = mdb_stat(a->txn, store_dbi(a->st, STORE_ADDR), &ms)) != 0)
        goto fail;
    s->addresses = ms.ms_entries;
    if ((rc = mdb_stat(a->txn, store_dbi(a->st, STORE_ENTRY), &ms)) != 0)
        goto fail;
    s->entries = ms.ms_entries;
    if ((rc = mdb_stat(a->txn, store_dbi(a->st, STORE_DOMAIN), &ms)) != 0)
        goto fail;
    s->domains = ms.ms_entries;
    changes = s->added + s->changed + s->removed + s->domains_added + s->domains_removed;
    /* a feed brings the store to the upstream's generation, changed or not */
    s->generation = a->follow ? a->log_gen : a->gen_before + (changes > 0);
    if ((rc = store_meta_get_u64(a->txn, a->st, STORE_META_LOG_FLOOR, &floor)) != 0)
        goto fail;
    if (a->log_reset || (!a->logging && (changes > 0 || a->log_dropped)))
        floor = s->generation; /* the log lacks this generation: older readers resync */
    if ((rc = apply_window_load(a, now)) != 0)
        goto fail;
    if ((refused = apply_check(a) == APPLY_REFUSED) && !a->o.force) {
        rc = APPLY_REFUSED;
        goto fail;
    }
    if (a->o.dry_run) {
        *stats = *s;
        apply_abort(a);
        return 0;
    }
    if (changes == 0 && a->log_gen > a->gen_before && (rc = apply_drop_generation_log(a)) != 0)
        goto fail;
    if (a->logging && (rc = apply_trim_log(a, &floor)) != 0)
        goto fail;
    if ((rc = apply_meta(a, invalid, floor)) != 0 || (rc = apply_window_save(a, refused, now)) != 0)
        goto fail;
    mdb_txn_abort(a->pre);
    a->pre = NULL;
    rc = mdb_txn_commit(a->txn);
    a->txn = NULL;
    if (rc != 0)
        goto fail;
    s->committed = 1;
    *stats = *s;
    apply_free(a);
    return 0;
fail:
    *stats = *s;
    apply_abort(a);
    return rc;
}

/* apply_count_refusal - one more refused sync in meta (for /metrics), when result is one */
static int apply_count_refusal(MDB_txn *txn, struct store *st, const char *result)
{
    uint64_t n = 0;
    int rc;

    if (strcmp(result, "refused") != 0)
        return 0;
    if ((rc = store_meta_get_u64(txn, st, STORE_META_REFUSALS, &n)) != 0)
        return rc;
    return store_meta_put_u64(txn, st, STORE_META_REFUSALS, n + 1);
}

int apply_note_failure(struct store *st, const char *source, const char *result, const char *why)
{
    return apply_note_attempt(st, source, result, why, NULL, 0);
}

int apply_note_attempt(struct store *st, const char *source, const char *result, const char *why,
                       const struct apply_stats *stats, uint64_t duration_ms)
{
    MDB_txn *txn;
    uint64_t gen = 0;
    int rc;

    if ((rc = store_begin(st, 0, &txn)) != 0)
        return rc;
    if ((rc = apply_count_refusal(txn, st, result)) != 0 ||
        (rc = store_meta_get_u64(txn, st, STORE_META_GENERATION, &gen)) != 0 ||
        (rc = apply_hist(txn, st, source,
                         strcmp(result, "refused") == 0 ? STORE_HIST_REFUSED : STORE_HIST_FAILED,
                         why, gen, stats, duration_ms)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = store_meta_put_u64(txn, st, STORE_META_LAST_ATTEMPT, (uint64_t)time(NULL))) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_RESULT, result)) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_ERROR, why)) != 0 ||
        (source != NULL && (rc = store_meta_put(txn, st, STORE_META_SOURCE, source)) != 0)) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

int apply_meta_get(struct apply *a, const char *name, char *buf, size_t cap)
{
    return store_meta_get(a->txn, a->st, name, buf, cap);
}

int apply_meta_put(struct apply *a, const char *name, const char *value)
{
    return store_meta_put(a->txn, a->st, name, value);
}
