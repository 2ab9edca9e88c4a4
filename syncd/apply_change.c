/*
 * apply_change - entry changes into the apply core; see apply_change.h.
 *
 * Ownership: struct change owns copies of the keys it touched (settled at commit) and of the
 * keys left to resolve against every entry's claim; the old entry list is copied for the
 * length of one call (the entry database is written in between).
 */
#include "syncd/apply_change.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hset.h"
#include "common/xmalloc.h"
#include "syncd/apply_core.h"

/* a set of keys in the order first met */
struct keyset {
    struct hset set;
    char **keys;
    size_t n;
};

/* the best claim on a key left to resolve */
struct claim {
    unsigned char rec[RCPT_MAX];
    size_t len;
    struct rcpt r; /* decoded from rec */
};

struct change {
    struct keyset touched; /* address keys this sync wrote: settled at commit */
    struct keyset pending; /* address keys to resolve against every entry's claim */
    int contested;         /* an address may have two claimants: resolve by a scan */
};

static void keyset_add(struct keyset *s, const char *key, size_t len)
{
    if (!hset_add(&s->set, hset_hash(key, len)))
        return; /* a 64-bit hash collision only costs a key settled twice: never lost */
    s->keys = xreallocarray(s->keys, s->n + 1, sizeof(*s->keys));
    s->keys[s->n++] = xstrndup(key, len);
}

static void keyset_free(struct keyset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->keys[i]);
    free(s->keys);
    hset_free(&s->set);
}

/* change_resolve - every pending key to its best claim in the entry database (or gone) */
static int change_resolve(struct apply *a, struct change *ch)
{
    struct claim *best = xcalloc(ch->pending.n, sizeof(*best));
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(apply_txn(a), store_dbi(apply_store(a), STORE_ENTRY), &cur)) != 0)
        goto out;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        struct store_entry se;
        const char *key, *primary = NULL;
        size_t off = 0, klen, plen = 0;
        if ((rc = store_entry_decode(&se, v.mv_data, v.mv_size)) != 0)
            break;
        for (size_t i = 0; store_entry_next(&se, &off, &key, &klen); i++) {
            struct rcpt cand;
            size_t j;
            if (i == 0)
                primary = key, plen = klen;
            if (!hset_has(&ch->pending.set, hset_hash(key, klen)))
                continue;
            for (j = 0; j < ch->pending.n; j++)
                if (strlen(ch->pending.keys[j]) == klen &&
                    memcmp(ch->pending.keys[j], key, klen) == 0)
                    break;
            if (j == ch->pending.n)
                continue; /* a hash collision */
            if (se.state == 0) {
                struct apply_stats *s = apply_stats_of(a);
                snprintf(s->refusal, sizeof(s->refusal),
                         "refused: entry lists in this store predate the entry's state; run a "
                         "full sync before entry changes");
                rc = APPLY_REFUSED;
                goto done;
            }
            apply_stored_rcpt(k.mv_data, k.mv_size, &se, primary, plen, i, key, klen, &cand);
            if (best[j].len == 0 || apply_claim_wins(&cand, &best[j].r)) {
                int n = rcpt_encode(best[j].rec, sizeof(best[j].rec), &cand);
                if (n < 0 || rcpt_decode(&best[j].r, best[j].rec, (size_t)n) != 0) {
                    rc = STORE_ERR_CORRUPT;
                    goto done;
                }
                best[j].len = (size_t)n;
            }
        }
    }
done:
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        goto out;
    rc = 0;
    for (size_t j = 0; rc == 0 && j < ch->pending.n; j++) {
        MDB_val rec = {best[j].len, best[j].rec};
        rc = apply_addr_write(a, ch->pending.keys[j], strlen(ch->pending.keys[j]),
                              best[j].len > 0 ? &rec : NULL);
    }
out:
    free(best);
    return rc;
}

/*
 * change_domains - derived domains after the sync. A key still there may bring a new domain;
 * a key removed may have taken its domain's last address. Those domains are looked for among
 * the addresses, and the scan stops once each has been met: for a domain with many addresses
 * that is within its first few keys, so a delete costs a full scan only when a domain really
 * lost its last address (before: a scan of every address for every batch with a delete,
 * 0.2-0.4 s at 1M addresses).
 */
static int change_domains(struct apply *a, struct change *ch)
{
    struct keyset lost = {0};
    struct hset seen = {0};
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t nseen = 0;
    int rc = 0;

    if (!apply_domains_derived(a))
        return apply_domains(a); /* the configured ones */
    for (size_t i = 0; i < ch->touched.n; i++) {
        const char *key = ch->touched.keys[i], *dom;
        size_t domlen;
        struct rcpt r;
        dom = addr_domain(key, strlen(key), &domlen);
        rc = apply_addr_get(a, key, strlen(key), &v, &r);
        if (rc == MDB_NOTFOUND)
            keyset_add(&lost, dom, domlen); /* gone: was it its domain's last address? */
        else if (rc != 0 || (rc = apply_domain_add(a, dom, domlen)) != 0)
            goto out;
    }
    rc = 0;
    if (lost.n == 0)
        goto out;
    if ((rc = mdb_cursor_open(apply_txn(a), store_dbi(apply_store(a), STORE_ADDR), &cur)) != 0)
        goto out;
    while (nseen < lost.n && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        size_t domlen;
        const char *dom = addr_domain(k.mv_data, k.mv_size, &domlen);
        uint64_t h = hset_hash(dom, domlen);
        if (hset_has(&lost.set, h) && hset_add(&seen, h))
            nseen++;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        goto out;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < lost.n; i++)
        if (!hset_has(&seen, hset_hash(lost.keys[i], strlen(lost.keys[i]))))
            rc = apply_domain_del(a, lost.keys[i], strlen(lost.keys[i]));
out:
    if (cur != NULL)
        mdb_cursor_close(cur);
    hset_free(&seen);
    keyset_free(&lost);
    return rc;
}

/* change_finish - resolve the contested keys, settle every touched one, then the domains */
static int change_finish(struct apply *a, void *state)
{
    struct change *ch = state;
    int rc;

    if (ch->pending.n > 0 && (rc = change_resolve(a, ch)) != 0)
        return rc;
    for (size_t i = 0; i < ch->touched.n; i++)
        if ((rc = apply_addr_settle(a, ch->touched.keys[i], strlen(ch->touched.keys[i]))) != 0)
            return rc;
    return change_domains(a, ch);
}

static void change_free(void *state)
{
    struct change *ch = state;

    keyset_free(&ch->touched);
    keyset_free(&ch->pending);
    free(ch);
}

static const struct apply_driver change_driver = {
    .name = "entry changes",
    .finish = change_finish,
    .free_state = change_free,
};

int apply_change_start(struct apply *a)
{
    struct change *ch = xcalloc(1, sizeof(*ch));
    struct apply_stats *s = apply_stats_of(a);
    int rc;

    rc = store_meta_get_u64(apply_txn(a), apply_store(a), STORE_META_CONFLICTS, &s->conflicts);
    if (rc == 0 && (rc = apply_attach(a, &change_driver, ch)) != 0)
        rc = EINVAL;
    if (rc != 0) {
        change_free(ch);
        return rc;
    }
    ch->contested = s->conflicts > 0;
    return 0;
}

/* change_claim - entry e claims its address i */
static int change_claim(struct apply *a, struct change *ch, const struct sync_entry *e, size_t i)
{
    const struct sync_addr *ad = &e->addrs[i];
    unsigned char buf[RCPT_MAX];
    struct rcpt cand, cur;
    MDB_val rec, raw;
    int n, rc;

    keyset_add(&ch->touched, ad->key, ad->len);
    if (ch->contested) {
        keyset_add(&ch->pending, ad->key, ad->len);
        return 0;
    }
    apply_entry_rcpt(e, i, &cand);
    if ((n = rcpt_encode(buf, sizeof(buf), &cand)) < 0)
        return STORE_ERR_CORRUPT;
    rec.mv_size = (size_t)n;
    rec.mv_data = buf;
    rc = apply_addr_get(a, ad->key, ad->len, &raw, &cur);
    if (rc == MDB_NOTFOUND ||
        (rc == 0 && cur.entry_len == e->id_len && memcmp(cur.entry, e->id, e->id_len) == 0))
        return apply_addr_write(a, ad->key, ad->len, &rec);
    if (rc != 0)
        return rc;
    /* a second claimant: until now every address had one, so these two are all */
    apply_stats_of(a)->conflicts++;
    ch->contested = 1;
    return apply_claim_wins(&cand, &cur) ? apply_addr_write(a, ad->key, ad->len, &rec) : 0;
}

/* change_release - entry id no longer claims key */
static int change_release(struct apply *a, struct change *ch, const char *id, size_t idlen,
                          const char *key, size_t klen)
{
    struct rcpt cur;
    MDB_val raw;
    int rc;

    keyset_add(&ch->touched, key, klen);
    if (ch->contested) {
        keyset_add(&ch->pending, key, klen);
        return 0;
    }
    rc = apply_addr_get(a, key, klen, &raw, &cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (cur.entry_len != idlen || memcmp(cur.entry, id, idlen) != 0)
        return 0; /* another entry's: it stays */
    return apply_addr_write(a, key, klen, NULL);
}

/* change_old - a copy of the entry's stored list (*buf: free it), or none (nkeys 0) */
static int change_old(struct apply *a, const char *id, size_t idlen, struct store_entry *se,
                      unsigned char **buf)
{
    int rc = apply_entry_get(a, id, idlen, se);

    *buf = NULL;
    if (rc == MDB_NOTFOUND) {
        memset(se, 0, sizeof(*se));
        return 0;
    }
    if (rc != 0)
        return rc;
    *buf = xmalloc(se->keyslen + 1);
    memcpy(*buf, se->keys, se->keyslen);
    se->keys = *buf;
    return 0;
}

/* change_has - does e list key? */
static int change_has(const struct sync_entry *e, const char *key, size_t klen)
{
    for (size_t i = 0; i < e->naddrs; i++)
        if (e->addrs[i].len == klen && memcmp(e->addrs[i].key, key, klen) == 0)
            return 1;
    return 0;
}

/* change_release_old - release every key of the old list that e (NULL: none) does not list */
static int change_release_old(struct apply *a, struct change *ch, const char *id, size_t idlen,
                              const struct store_entry *old, const struct sync_entry *e)
{
    const char *key;
    size_t off = 0, klen;
    int rc;

    while (store_entry_next(old, &off, &key, &klen))
        if ((e == NULL || !change_has(e, key, klen)) &&
            (rc = change_release(a, ch, id, idlen, key, klen)) != 0)
            return rc;
    return 0;
}

/* change_entry - the entry id becomes e (NULL: it is gone) */
static int change_entry(struct apply *a, const char *id, size_t idlen, const struct sync_entry *e)
{
    struct change *ch = apply_driver_state(a, &change_driver);
    struct store_entry old;
    unsigned char *buf;
    int rc;

    if (ch == NULL)
        return EINVAL;
    if (idlen == 0)
        return 0;
    if ((rc = change_old(a, id, idlen, &old, &buf)) != 0)
        return rc;
    if (e == NULL && old.nkeys == 0)
        return 0; /* an unknown entry: gone already */
    apply_stats_of(a)->entries_seen++;
    rc = e != NULL ? apply_entry_put(a, e, 0) : apply_entry_del(a, id, idlen);
    for (size_t i = 0; rc == 0 && e != NULL && i < e->naddrs; i++)
        rc = change_claim(a, ch, e, i);
    if (rc == 0)
        rc = change_release_old(a, ch, id, idlen, &old, e);
    free(buf);
    return rc;
}

int apply_change_put(struct apply *a, const struct sync_entry *e)
{
    /* a full sync keeps no entry without addresses */
    return change_entry(a, e->id, e->id_len, e->naddrs > 0 ? e : NULL);
}

int apply_change_delete(struct apply *a, const char *id, size_t idlen)
{
    return change_entry(a, id, idlen, NULL);
}

int apply_change_sweep(struct apply *a, const struct hset *keep)
{
    MDB_cursor *cur;
    MDB_val k, v;
    char **gone = NULL;
    size_t n = 0;
    int rc;

    if (apply_driver_state(a, &change_driver) == NULL)
        return EINVAL;
    if ((rc = mdb_cursor_open(apply_txn(a), store_dbi(apply_store(a), STORE_ENTRY), &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        if (hset_has(keep, hset_hash(k.mv_data, k.mv_size)))
            continue;
        gone = xreallocarray(gone, n + 1, sizeof(*gone));
        gone[n++] = xstrndup(k.mv_data, k.mv_size);
    }
    mdb_cursor_close(cur);
    rc = rc == MDB_NOTFOUND ? 0 : rc;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = apply_change_delete(a, gone[i], strlen(gone[i]));
        free(gone[i]);
    }
    free(gone);
    return rc;
}
