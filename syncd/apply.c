/*
 * apply - one sync, one write transaction, safety rules; see apply.h.
 */
#include "syncd/apply.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hset.h"
#include "common/xmalloc.h"
#include "schema/feed.h"
#include "syncd/apply_int.h"

int apply_log(struct apply *a, enum store_op op, const char *key, size_t klen, const MDB_val *rec)
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
    /* Into an empty store every key is new: a key met twice can only be a conflict within
     * this sync, which MDB_NOOVERWRITE reports, so the seen-sets and sweeps are not needed. */
    a->fresh = a->s.previous == 0 && ms.ms_entries == 0;
    if (!a->fresh) { /* the directory is about as big as last time: size the sets once */
        hset_reserve(&a->seen_addr, a->s.previous + a->s.previous / 8);
        hset_reserve(&a->seen_entry, ms.ms_entries + ms.ms_entries / 8);
    }
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
    hset_free(&a->seen_addr);
    hset_free(&a->seen_entry);
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

/* apply_rank - order for conflicts: lower wins (active, primary, smaller entry id) */
static int apply_wins(const struct rcpt *cand, const struct rcpt *cur)
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

int apply_val_equal(const MDB_val *x, const MDB_val *y)
{
    return x->mv_size == y->mv_size && memcmp(x->mv_data, y->mv_data, x->mv_size) == 0;
}

/* apply_conflict - a second entry claims key: keep the winner, account against pre-sync */
static int apply_conflict(struct apply *a, MDB_val *k, MDB_val *cand_v, const struct rcpt *cand)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_ADDR);
    MDB_val cur_v, pre_v;
    struct rcpt cur;
    int rc, has_pre, first_changed, final_changed;

    a->s.conflicts++;
    if ((rc = mdb_get(a->txn, dbi, k, &cur_v)) != 0)
        return rc;
    if (rcpt_decode(&cur, cur_v.mv_data, cur_v.mv_size) != 0)
        return STORE_ERR_CORRUPT;
    if (!apply_wins(cand, &cur))
        return 0;
    rc = mdb_get(a->pre, dbi, k, &pre_v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    has_pre = rc == 0;
    first_changed = !has_pre || !apply_val_equal(&cur_v, &pre_v);
    final_changed = !has_pre || !apply_val_equal(cand_v, &pre_v);
    if ((rc = mdb_put(a->txn, dbi, k, cand_v, 0)) != 0)
        return rc;
    if (first_changed && !final_changed)
        a->s.changed--, a->s.unchanged++;
    else if (!first_changed && final_changed)
        a->s.changed++, a->s.unchanged--;
    /* the log gets the key's net change once, at the end (apply_log_conflicts) */
    if (hset_add(&a->conflicted, hset_hash(k->mv_data, k->mv_size))) {
        a->ckeys = xreallocarray(a->ckeys, a->nckeys + 1, sizeof(*a->ckeys));
        a->ckeys[a->nckeys++] = xstrndup(k->mv_data, k->mv_size);
    }
    return 0;
}

/* apply_address - store one address of an entry */
static int apply_address(struct apply *a, const struct sync_entry *e, const struct sync_addr *ad)
{
    unsigned char buf[RCPT_MAX];
    struct rcpt r = {ad->kind,   e->state,       ad->key[0] == '@' ? RCPT_FLAG_CATCHALL : 0,
                     e->primary, e->primary_len, e->id,
                     e->id_len};
    MDB_val k = {ad->len, (void *)(uintptr_t)ad->key}, v, want;
    size_t domlen;
    const char *dom;
    int n, rc;

    if ((n = rcpt_encode(buf, sizeof(buf), &r)) < 0)
        return STORE_ERR_CORRUPT;
    want.mv_size = (size_t)n;
    want.mv_data = buf;
    dom = addr_domain(ad->key, ad->len, &domlen);
    if (a->o.domains == NULL || a->o.domains->n == 0)
        apply_domain_note(a, dom, domlen, 0);
    if (!a->fresh && !hset_add(&a->seen_addr, hset_hash(ad->key, ad->len)))
        return apply_conflict(a, &k, &want, &r);
    v = want;
    rc = mdb_put(a->txn, store_dbi(a->st, STORE_ADDR), &k, &v, MDB_NOOVERWRITE);
    if (rc == 0) {
        a->s.added++;
        return apply_log(a, STORE_OP_ADD, ad->key, ad->len, &want);
    }
    if (rc != MDB_KEYEXIST)
        return rc;
    if (a->fresh)
        return apply_conflict(a, &k, &want, &r);
    if (apply_val_equal(&v, &want)) {
        a->s.unchanged++;
        return 0;
    }
    if ((rc = mdb_put(a->txn, store_dbi(a->st, STORE_ADDR), &k, &want, 0)) != 0)
        return rc;
    a->s.changed++;
    return apply_log(a, STORE_OP_CHANGE, ad->key, ad->len, &want);
}

/* apply_entry_record - entry id -> its address keys, written when it differs; 1: a
 * duplicate of an entry this (fresh) sync already wrote */
static int apply_entry_record(struct apply *a, const struct sync_entry *e)
{
    size_t cap = STORE_ENTRY_HEADER, n;
    unsigned char *buf;
    MDB_val k = {e->id_len, (void *)(uintptr_t)e->id}, v, old;
    int rc;

    for (size_t i = 0; i < e->naddrs; i++)
        cap += STORE_ENTRY_ITEM(e->addrs[i].len);
    buf = xmalloc(cap);
    /* the primary comes first, with the entry's kind (entry.h) */
    if ((rc = store_entry_encode_head(buf, cap, e->state, e->addrs[0].kind, e->naddrs)) < 0) {
        free(buf);
        return STORE_ERR_CORRUPT;
    }
    n = (size_t)rc;
    for (size_t i = 0; i < e->naddrs; i++) {
        if ((rc = store_entry_encode_key(buf + n, cap - n, e->addrs[i].key, e->addrs[i].len)) < 0) {
            free(buf);
            return STORE_ERR_CORRUPT;
        }
        n += (size_t)rc;
    }
    v.mv_size = n;
    v.mv_data = buf;
    old = v;
    rc = mdb_put(a->txn, store_dbi(a->st, STORE_ENTRY), &k, &old, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST && a->fresh) {
        rc = 1; /* the same entry twice in this sync (overlapping bases) */
    } else if (rc == MDB_KEYEXIST) {
        rc = 0;
        if (!apply_val_equal(&old, &v)) {
            rc = mdb_put(a->txn, store_dbi(a->st, STORE_ENTRY), &k, &v, 0);
            a->entry_changes++;
        }
    } else if (rc == 0) {
        a->entry_changes++;
    }
    free(buf);
    return rc;
}

int apply_entry(struct apply *a, const struct sync_entry *e)
{
    int rc;

    if (e->naddrs == 0 || e->id_len == 0)
        return 0;
    if (!a->fresh && !hset_add(&a->seen_entry, hset_hash(e->id, e->id_len)))
        return 0; /* the same entry again (overlapping bases) */
    if ((rc = apply_entry_record(a, e)) != 0)
        return rc == 1 ? 0 : rc;
    a->s.entries_seen++;
    for (size_t i = 0; i < e->naddrs; i++)
        if ((rc = apply_address(a, e, &e->addrs[i])) != 0)
            return rc;
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
    return 0;
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
    return 0;
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
    uint64_t floor = 0, changes;
    MDB_stat ms;
    int rc;

    if (a->feed) {
        if ((rc = apply_feed_finish(a)) != 0)
            goto fail;
    } else if ((!a->fresh &&
                ((rc = apply_sweep(a, STORE_ADDR, &a->seen_addr, STORE_OP_REMOVE, &a->s.removed)) !=
                     0 ||
                 (rc = apply_sweep(a, STORE_ENTRY, &a->seen_entry, 0, &a->entry_changes)) != 0)) ||
               (rc = apply_domains(a)) != 0) {
        goto fail;
    }
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
    s->generation = a->feed ? a->log_gen : a->gen_before + (changes > 0);
    if ((rc = store_meta_get_u64(a->txn, a->st, STORE_META_LOG_FLOOR, &floor)) != 0)
        goto fail;
    if (a->feed == FEED_SNAPSHOT || (!a->logging && (changes > 0 || a->log_dropped)))
        floor = s->generation; /* the log lacks this generation: older readers resync */
    if (apply_check(a) == APPLY_REFUSED && !a->o.force) {
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
    if ((rc = apply_meta(a, invalid, floor)) != 0)
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

int apply_note_failure(struct store *st, const char *source, const char *result, const char *why)
{
    MDB_txn *txn;
    int rc;

    if ((rc = store_begin(st, 0, &txn)) != 0)
        return rc;
    if ((rc = store_meta_put_u64(txn, st, STORE_META_LAST_ATTEMPT, (uint64_t)time(NULL))) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_RESULT, result)) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_ERROR, why)) != 0 ||
        (source != NULL && (rc = store_meta_put(txn, st, STORE_META_SOURCE, source)) != 0)) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}
