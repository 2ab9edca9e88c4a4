/*
 * apply_feed - an upstream hub's snapshot or change feed into the apply core; see
 * apply_feed.h. Owns the kind of the feed and the set of addresses a snapshot has sent.
 */
#include "syncd/apply_feed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hset.h"
#include "common/xmalloc.h"
#include "schema/addr.h"
#include "syncd/apply_core.h"

struct upfeed {
    enum feed_kind kind;
    struct hset seen_addr; /* a snapshot into a store that has addresses: what it sent */
};

/* upfeed_finish - the end of a snapshot: removals, domains, entry and log databases emptied */
static int upfeed_finish(struct apply *a, void *state)
{
    struct upfeed *u = state;
    int rc;

    if (u->kind != FEED_SNAPSHOT)
        return 0;
    if (!apply_fresh(a) && (rc = apply_sweep(a, STORE_ADDR, &u->seen_addr, STORE_OP_REMOVE,
                                             &apply_stats_of(a)->removed)) != 0)
        return rc;
    if ((rc = apply_entries_clear(a)) != 0 || (rc = apply_log_reset(a)) != 0)
        return rc;
    return apply_domains(a);
}

static void upfeed_free(void *state)
{
    struct upfeed *u = state;

    hset_free(&u->seen_addr);
    free(u);
}

static const struct apply_driver upfeed_driver = {
    .name = "feed",
    .finish = upfeed_finish,
    .free_state = upfeed_free,
};

int apply_feed_header(struct apply *a, const struct feed_header *h)
{
    uint64_t gen = apply_generation(a);
    struct upfeed *u;

    if (h->kind == FEED_CHANGES && h->from != gen)
        return EINVAL; /* the source asked for something else */
    if (h->to < gen && !apply_opts_of(a)->force) {
        struct apply_stats *s = apply_stats_of(a);
        snprintf(s->refusal, sizeof(s->refusal),
                 "refused: the upstream is at generation %" PRIu64
                 ", older than this store's %" PRIu64
                 " (a hub restored from an older backup?); run with --force to take its state",
                 h->to, gen);
        return APPLY_REFUSED;
    }
    u = xcalloc(1, sizeof(*u));
    u->kind = h->kind;
    if (apply_attach(a, &upfeed_driver, u) != 0) {
        upfeed_free(u);
        return EINVAL;
    }
    /* a snapshot empties the log at the end: readers behind take a snapshot */
    apply_follow(a, h->to, h->kind == FEED_CHANGES);
    if (h->kind == FEED_SNAPSHOT)
        apply_domains_forget(a); /* it names the managed domains itself */
    return 0;
}

/* upfeed_key_ok - the key is an address key as addr_normalize() writes it (or "@domain") */
static int upfeed_key_ok(const char *key, size_t len)
{
    char norm[ADDR_KEY_SIZE];
    int n = addr_normalize(norm, sizeof(norm), key, len, ADDR_CATCHALL);

    return n >= 0 && (size_t)n == len && memcmp(norm, key, len) == 0;
}

static int upfeed_domain_ok(const char *dom, size_t len)
{
    char norm[ADDR_KEY_SIZE];
    int n = addr_normalize_domain(norm, sizeof(norm), dom, len);

    return n >= 0 && (size_t)n == len && memcmp(norm, dom, len) == 0;
}

/* upfeed_put_addr - 'A', '+', '~': the address gets this record */
static int upfeed_put_addr(struct apply *a, struct upfeed *u, const struct feed_record *r)
{
    MDB_val rec = {r->vallen, (void *)(uintptr_t)r->val};
    unsigned flags = 0;
    int rc;

    if (!upfeed_key_ok(r->key, r->keylen))
        return APPLY_BADFEED;
    if (u->kind == FEED_SNAPSHOT && apply_fresh(a))
        flags = APPLY_PUT_APPEND; /* a snapshot is in key order: an empty store fills fastest so */
    else if (u->kind == FEED_SNAPSHOT && !hset_add(&u->seen_addr, hset_hash(r->key, r->keylen)))
        return APPLY_BADFEED; /* the same address twice */
    rc = apply_addr_put(a, r->key, r->keylen, &rec, flags);
    return rc == APPLY_KEYEXIST ? APPLY_BADFEED : rc; /* out of order, or twice */
}

/* upfeed_domain - 'M' (snapshot: noted, written at the end), 'D' added, 'X' removed */
static int upfeed_domain(struct apply *a, const struct feed_record *r)
{
    enum store_domain_kind kind;

    if (!upfeed_domain_ok(r->key, r->keylen))
        return APPLY_BADFEED;
    if (r->type == FEED_DOMAIN) {
        if (store_domain_decode(r->val, r->vallen, &kind) != 0)
            return APPLY_BADFEED;
        apply_domain_note(a, r->key, r->keylen, (char)kind);
        return 0;
    }
    if (r->type == STORE_OP_DOMAIN_ADD)
        return apply_domain_add(a, r->key, r->keylen);
    return apply_domain_del(a, r->key, r->keylen);
}

int apply_feed_record(struct apply *a, const struct feed_record *r)
{
    struct upfeed *u = apply_driver_state(a, &upfeed_driver);

    if (u == NULL)
        return EINVAL;
    switch (r->type) {
    case FEED_ADDR:
    case STORE_OP_ADD:
    case STORE_OP_CHANGE:
        return upfeed_put_addr(a, u, r);
    case STORE_OP_REMOVE:
        return upfeed_key_ok(r->key, r->keylen) ? apply_addr_del(a, r->key, r->keylen)
                                                : APPLY_BADFEED;
    case FEED_DOMAIN:
    case STORE_OP_DOMAIN_ADD:
    case STORE_OP_DOMAIN_REMOVE:
        return upfeed_domain(a, r);
    }
    return APPLY_BADFEED;
}
