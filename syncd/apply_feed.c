/*
 * apply_feed - an upstream hub's snapshot or change feed into the sync's one write
 * transaction; see apply.h ("Feeds from an upstream hub"). apply.c owns the directory path
 * and the commit; both share struct apply (apply_int.h). Record bytes are borrowed from the
 * decoder for the call only; nothing here allocates per record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "schema/addr.h"
#include "schema/feed.h"
#include "syncd/apply_int.h"

uint64_t apply_generation(const struct apply *a)
{
    return a->gen_before;
}

const char *apply_refusal(const struct apply *a)
{
    return a->s.refusal;
}

/* feed_forget_domains - a snapshot names the managed domains itself: drop configured ones */
static void feed_forget_domains(struct apply *a)
{
    for (size_t i = 0; i < a->ndomains; i++)
        free(a->domains[i]);
    a->ndomains = 0;
    hset_free(&a->domain_set);
    memset(&a->domain_set, 0, sizeof(a->domain_set));
    a->dkinds = xreallocarray(a->dkinds, 1, 1); /* non-NULL: apply_domains() uses the kinds */
}

int apply_feed_header(struct apply *a, const struct feed_header *h)
{
    if (a->feed != 0 || (h->kind == FEED_CHANGES && h->from != a->gen_before))
        return EINVAL; /* the source asked for something else */
    if (h->to < a->gen_before && !a->o.force) {
        snprintf(a->s.refusal, sizeof(a->s.refusal),
                 "refused: the upstream is at generation %" PRIu64
                 ", older than this store's %" PRIu64
                 " (a hub restored from an older backup?); run with --force to take its state",
                 h->to, a->gen_before);
        return APPLY_REFUSED;
    }
    a->feed = h->kind;
    a->log_gen = h->to;
    if (h->kind == FEED_SNAPSHOT) {
        a->logging = 0; /* the log is emptied at the end: readers behind take a snapshot */
        feed_forget_domains(a);
    } else {
        a->fresh = 0;
        a->logging = a->o.changelog_max > 0;
    }
    return 0;
}

/* feed_key_ok - the key is an address key as addr_normalize() writes it (or "@domain") */
static int feed_key_ok(const char *key, size_t len)
{
    char norm[ADDR_KEY_SIZE];
    int n = addr_normalize(norm, sizeof(norm), key, len, ADDR_CATCHALL);

    return n >= 0 && (size_t)n == len && memcmp(norm, key, len) == 0;
}

static int feed_domain_ok(const char *dom, size_t len)
{
    char norm[ADDR_KEY_SIZE];
    int n = addr_normalize_domain(norm, sizeof(norm), dom, len);

    return n >= 0 && (size_t)n == len && memcmp(norm, dom, len) == 0;
}

/* feed_put_addr - 'A', '+', '~': the address gets this record */
static int feed_put_addr(struct apply *a, const struct feed_record *r)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_ADDR);
    MDB_val k = {r->keylen, (void *)(uintptr_t)r->key};
    MDB_val want = {r->vallen, (void *)(uintptr_t)r->val}, v = want;
    unsigned flags = MDB_NOOVERWRITE;
    int snapshot = a->feed == FEED_SNAPSHOT, rc;

    if (!feed_key_ok(r->key, r->keylen))
        return APPLY_BADFEED;
    if (snapshot && a->fresh)
        flags = MDB_APPEND; /* a snapshot is in key order: an empty store fills fastest so */
    else if (snapshot && !hset_add(&a->seen_addr, hset_hash(r->key, r->keylen)))
        return APPLY_BADFEED; /* the same address twice */
    rc = mdb_put(a->txn, dbi, &k, &v, flags);
    if (rc == 0) {
        a->s.added++;
        return apply_log(a, STORE_OP_ADD, r->key, r->keylen, &want);
    }
    if (rc != MDB_KEYEXIST)
        return rc;
    if (flags == MDB_APPEND)
        return APPLY_BADFEED; /* out of order, or twice */
    if (apply_val_equal(&v, &want)) {
        a->s.unchanged++;
        return 0;
    }
    if ((rc = mdb_put(a->txn, dbi, &k, &want, 0)) != 0)
        return rc;
    a->s.changed++;
    return apply_log(a, STORE_OP_CHANGE, r->key, r->keylen, &want);
}

/* feed_del - '-' or 'X': the key leaves db; counted and logged when it was there */
static int feed_del(struct apply *a, enum store_db db, const struct feed_record *r, uint64_t *count)
{
    MDB_val k = {r->keylen, (void *)(uintptr_t)r->key};
    int rc = mdb_del(a->txn, store_dbi(a->st, db), &k, NULL);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    (*count)++;
    return apply_log(a, (enum store_op)r->type, r->key, r->keylen, NULL);
}

/* feed_del_addr - '-': the address goes */
static int feed_del_addr(struct apply *a, const struct feed_record *r)
{
    if (!feed_key_ok(r->key, r->keylen))
        return APPLY_BADFEED;
    return feed_del(a, STORE_ADDR, r, &a->s.removed);
}

/* feed_domain - 'M' (snapshot: noted, written at the end), 'D' added, 'X' removed */
static int feed_domain(struct apply *a, const struct feed_record *r)
{
    MDB_dbi dbi = store_dbi(a->st, STORE_DOMAIN);
    MDB_val k = {r->keylen, (void *)(uintptr_t)r->key}, v = {1, "d"};
    int rc;

    if (!feed_domain_ok(r->key, r->keylen))
        return APPLY_BADFEED;
    if (r->type == FEED_DOMAIN) {
        apply_domain_note(a, r->key, r->keylen, (char)r->val[0]);
        return 0;
    }
    if (r->type == STORE_OP_DOMAIN_ADD) {
        rc = mdb_put(a->txn, dbi, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return 0;
        if (rc != 0)
            return rc;
        a->s.domains_added++;
        return apply_log(a, STORE_OP_DOMAIN_ADD, r->key, r->keylen, NULL);
    }
    return feed_del(a, STORE_DOMAIN, r, &a->s.domains_removed);
}

int apply_record(struct apply *a, const struct feed_record *r)
{
    if (a->feed == 0)
        return EINVAL;
    switch (r->type) {
    case FEED_ADDR:
    case STORE_OP_ADD:
    case STORE_OP_CHANGE:
        return feed_put_addr(a, r);
    case STORE_OP_REMOVE:
        return feed_del_addr(a, r);
    case FEED_DOMAIN:
    case STORE_OP_DOMAIN_ADD:
    case STORE_OP_DOMAIN_REMOVE:
        return feed_domain(a, r);
    }
    return APPLY_BADFEED;
}

int apply_feed_finish(struct apply *a)
{
    int rc;

    if (a->feed != FEED_SNAPSHOT)
        return 0;
    if (!a->fresh &&
        (rc = apply_sweep(a, STORE_ADDR, &a->seen_addr, STORE_OP_REMOVE, &a->s.removed)) != 0)
        return rc;
    if ((rc = mdb_drop(a->txn, store_dbi(a->st, STORE_ENTRY), 0)) != 0 ||
        (rc = mdb_drop(a->txn, store_dbi(a->st, STORE_LOG), 0)) != 0)
        return rc;
    return apply_domains(a);
}
