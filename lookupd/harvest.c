/*
 * harvest - per-client counting of unknown recipients; see harvest.h.
 *
 * The table: entries in one array (index 0 unused, so 0 means "none" and calloc'd memory is
 * an empty table), a chained hash on (address, prefix length) and a doubly linked list from
 * the most to the least recently counted entry. Entries dropped as expired go on a free list
 * (through hnext); the array is used up to a high-water mark before anything is evicted.
 */
#include "lookupd/harvest.h"

#include <stdlib.h>
#include <string.h>

#include "common/hset.h"
#include "common/xmalloc.h"

struct hv_entry {
    struct cidr_addr key;         /* address, masked to plen */
    uint16_t slot[HARVEST_SLOTS]; /* unknowns per slot, ring indexed by epoch */
    uint8_t plen;                 /* 128: an address; less: a prefix */
    uint8_t used;                 /* in the hash and the list */
    uint16_t pad;
    uint32_t hnext;        /* hash chain, or the free list */
    uint32_t newer, older; /* the recency list */
    uint32_t epoch;        /* the slot number (time / slot length) of slot[epoch % N] */
    int64_t until;         /* penalised before this monotonic second; 0 never */
};

_Static_assert(sizeof(struct hv_entry) == HARVEST_ENTRY_BYTES, "HARVEST_ENTRY_BYTES is stale");

struct harvest {
    struct harvest_params p;
    struct cidr_net *exempt;
    int64_t slotlen; /* seconds per slot */
    uint64_t seed;
    struct hv_entry *e; /* [1..p.max_entries] */
    uint32_t *bucket;   /* nbuckets heads */
    size_t nbuckets;    /* power of two */
    uint32_t hiwater;   /* entries handed out from the array so far */
    uint32_t freelist;
    uint32_t newest, oldest;
    size_t n; /* entries in use */
    uint64_t evictions;
};

struct harvest *harvest_new(const struct harvest_params *p, uint64_t seed)
{
    struct harvest *h = xcalloc(1, sizeof(*h));
    size_t max = (size_t)(p->max_entries < 16 ? 16 : p->max_entries);

    if (max > HARVEST_MAX_ENTRIES)
        max = HARVEST_MAX_ENTRIES;
    h->p = *p;
    h->p.max_entries = (long long)max;
    h->p.window = p->window < 1 ? 1 : p->window;
    h->slotlen = (h->p.window + HARVEST_SLOTS - 1) / HARVEST_SLOTS;
    h->seed = seed;
    h->exempt = xcalloc(p->nexempt ? p->nexempt : 1, sizeof(*h->exempt));
    if (p->nexempt)
        memcpy(h->exempt, p->exempt, p->nexempt * sizeof(*h->exempt));
    h->p.exempt = h->exempt;
    h->nbuckets = 16;
    while (h->nbuckets < max)
        h->nbuckets *= 2;
    h->e = xcalloc(max + 1, sizeof(*h->e));
    h->bucket = xcalloc(h->nbuckets, sizeof(*h->bucket));
    return h;
}

void harvest_free(struct harvest *h)
{
    if (h == NULL)
        return;
    free(h->e);
    free(h->bucket);
    free(h->exempt);
    free(h);
}

int harvest_exempt(const struct harvest *h, const struct cidr_addr *a)
{
    for (size_t i = 0; i < h->p.nexempt; i++)
        if (cidr_match(&h->exempt[i], a))
            return 1;
    return 0;
}

/* hv_prefix_len - the prefix length counted for a (128-bit form) */
static int hv_prefix_len(const struct harvest *h, const struct cidr_addr *a)
{
    return cidr_is_v4(a) ? 96 + h->p.prefix4 : h->p.prefix6;
}

/* hv_bucket - the bucket of a key: a seeded hash, so collisions cannot be chosen */
static size_t hv_bucket(const struct harvest *h, const struct cidr_addr *key, int plen)
{
    unsigned char buf[8 + 16 + 1];

    memcpy(buf, &h->seed, 8);
    memcpy(buf + 8, key->b, 16);
    buf[24] = (unsigned char)plen;
    return (size_t)hset_hash(buf, sizeof(buf)) & (h->nbuckets - 1);
}

/* hv_find - the entry of (key, plen), or 0 */
static uint32_t hv_find(const struct harvest *h, const struct cidr_addr *key, int plen)
{
    uint32_t i = h->bucket[hv_bucket(h, key, plen)];

    while (i != 0 && (h->e[i].plen != plen || memcmp(h->e[i].key.b, key->b, 16) != 0))
        i = h->e[i].hnext;
    return i;
}

/* hv_list_unlink - take entry i out of the recency list */
static void hv_list_unlink(struct harvest *h, uint32_t i)
{
    struct hv_entry *e = &h->e[i];

    if (e->newer != 0)
        h->e[e->newer].older = e->older;
    else
        h->newest = e->older;
    if (e->older != 0)
        h->e[e->older].newer = e->newer;
    else
        h->oldest = e->newer;
    e->newer = e->older = 0;
}

/* hv_list_front - make entry i the most recent */
static void hv_list_front(struct harvest *h, uint32_t i)
{
    struct hv_entry *e = &h->e[i];

    e->older = h->newest;
    e->newer = 0;
    if (h->newest != 0)
        h->e[h->newest].newer = i;
    h->newest = i;
    if (h->oldest == 0)
        h->oldest = i;
}

/* hv_drop - remove entry i from the hash and the list (it is then reused at once or freed) */
static void hv_drop(struct harvest *h, uint32_t i)
{
    struct hv_entry *e = &h->e[i];
    uint32_t *pp = &h->bucket[hv_bucket(h, &e->key, e->plen)];

    while (*pp != i)
        pp = &h->e[*pp].hnext;
    *pp = e->hnext;
    hv_list_unlink(h, i);
    memset(e, 0, sizeof(*e));
    h->n--;
}

/* hv_count_at - an entry's count in the window that ends at now */
static uint32_t hv_count_at(const struct harvest *h, const struct hv_entry *e, int64_t now)
{
    int64_t cur = now / h->slotlen;
    uint32_t sum = 0;

    for (int64_t k = 0; k < HARVEST_SLOTS; k++) {
        int64_t ep = (int64_t)e->epoch - k;
        if (ep >= 0 && cur - ep < HARVEST_SLOTS)
            sum += e->slot[ep % HARVEST_SLOTS];
    }
    return sum;
}

/* hv_idle - an entry that counts nothing and is not penalised at now */
static int hv_idle(const struct harvest *h, const struct hv_entry *e, int64_t now)
{
    return e->until <= now && hv_count_at(h, e, now) == 0;
}

/*
 * hv_victim - the entry to reuse when the array is used up: the least recently counted one,
 * or a younger one among the HARVEST_EVICT_SCAN oldest when it is penalised
 */
static uint32_t hv_victim(const struct harvest *h, int64_t now)
{
    uint32_t i = h->oldest;

    /* never the newest: harvest_unknown() still holds the address entry it just counted */
    for (int k = 0; i != 0 && i != h->newest && k < HARVEST_EVICT_SCAN; k++, i = h->e[i].newer)
        if (h->e[i].until <= now)
            return i;
    return h->oldest;
}

/* hv_get - the entry of (key, plen), made (and counted as the most recent) when missing */
static struct hv_entry *hv_get(struct harvest *h, const struct cidr_addr *key, int plen,
                               int64_t now)
{
    uint32_t i = hv_find(h, key, plen);
    size_t b;

    if (i != 0) {
        hv_list_unlink(h, i);
        hv_list_front(h, i);
        return &h->e[i];
    }
    /* the oldest entry, if it counts nothing any more, goes first: the table stays small */
    if (h->oldest != 0 && hv_idle(h, &h->e[h->oldest], now)) {
        uint32_t o = h->oldest;
        hv_drop(h, o);
        h->e[o].hnext = h->freelist;
        h->freelist = o;
    }
    if (h->freelist != 0) {
        i = h->freelist;
        h->freelist = h->e[i].hnext;
        h->e[i].hnext = 0;
    } else if (h->hiwater < (uint32_t)h->p.max_entries) {
        i = ++h->hiwater;
    } else {
        i = hv_victim(h, now);
        hv_drop(h, i);
        h->evictions++;
    }
    b = hv_bucket(h, key, plen);
    h->e[i].key = *key;
    h->e[i].plen = (uint8_t)plen;
    h->e[i].used = 1;
    h->e[i].epoch = (uint32_t)(now / h->slotlen);
    h->e[i].hnext = h->bucket[b];
    h->bucket[b] = i;
    hv_list_front(h, i);
    h->n++;
    return &h->e[i];
}

/* hv_add - count one unknown in e at now; returns its count in the window */
static uint32_t hv_add(struct harvest *h, struct hv_entry *e, int64_t now)
{
    uint32_t cur = (uint32_t)(now / h->slotlen);

    if (cur > e->epoch) {
        uint32_t steps = cur - e->epoch;
        for (uint32_t k = 1; k <= steps && k <= HARVEST_SLOTS; k++)
            e->slot[(e->epoch + k) % HARVEST_SLOTS] = 0;
        e->epoch = cur;
    }
    if (e->slot[e->epoch % HARVEST_SLOTS] < UINT16_MAX)
        e->slot[e->epoch % HARVEST_SLOTS]++;
    return hv_count_at(h, e, now);
}

/* hv_verdict - fill v from entry e */
static void hv_verdict(const struct harvest *h, const struct hv_entry *e, int64_t now,
                       struct harvest_verdict *v)
{
    v->penalised = e->until > now;
    v->prefix = e->plen < 128;
    v->who = e->key;
    v->plen = e->plen;
    v->count = hv_count_at(h, e, now);
    v->until = e->until;
}

int harvest_check(const struct harvest *h, const struct cidr_addr *a, int64_t now,
                  struct harvest_verdict *v)
{
    int plen = hv_prefix_len(h, a);
    struct cidr_addr pfx;
    uint32_t i;

    memset(v, 0, sizeof(*v));
    if ((i = hv_find(h, a, 128)) != 0 && h->e[i].until > now) {
        hv_verdict(h, &h->e[i], now, v);
        return 1;
    }
    if (plen >= 128)
        return 0;
    cidr_mask(a, plen, &pfx);
    if ((i = hv_find(h, &pfx, plen)) != 0 && h->e[i].until > now) {
        hv_verdict(h, &h->e[i], now, v);
        return 1;
    }
    return 0;
}

/* hv_count_one - count an unknown against (key, plen) with its threshold; 1 when it started
 * a penalty now */
static int hv_count_one(struct harvest *h, const struct cidr_addr *key, int plen,
                        long long threshold, int64_t now, struct hv_entry **out)
{
    struct hv_entry *e = hv_get(h, key, plen, now);
    uint32_t n = hv_add(h, e, now);

    *out = e;
    if ((long long)n > threshold && e->until <= now) {
        e->until = now + h->p.penalty;
        return 1;
    }
    return 0;
}

int harvest_unknown(struct harvest *h, const struct cidr_addr *a, int64_t now,
                    struct harvest_verdict *v)
{
    int plen = hv_prefix_len(h, a), newa = 0, newp = 0;
    struct hv_entry *ea = NULL, *ep = NULL;

    memset(v, 0, sizeof(*v));
    if (h->p.threshold > 0)
        newa = hv_count_one(h, a, 128, h->p.threshold, now, &ea);
    if (h->p.prefix_threshold > 0 && plen < 128) {
        struct cidr_addr pfx;
        cidr_mask(a, plen, &pfx);
        newp = hv_count_one(h, &pfx, plen, h->p.prefix_threshold, now, &ep);
    }
    /* the address's own penalty is the one to report; a new one before a running one */
    if (ea != NULL && ea->until > now && (newa || !newp)) {
        hv_verdict(h, ea, now, v);
        v->newly = newa;
    } else if (ep != NULL && ep->until > now) {
        hv_verdict(h, ep, now, v);
        v->newly = newp;
    } else if (ea != NULL) {
        hv_verdict(h, ea, now, v);
    }
    return v->penalised;
}

size_t harvest_list(const struct harvest *h, int64_t now, struct harvest_info *out, size_t max)
{
    size_t n = 0;

    for (uint32_t i = h->newest; i != 0; i = h->e[i].older) {
        const struct hv_entry *e = &h->e[i];
        size_t j;

        if (e->until <= now)
            continue;
        /* keep out[] sorted by until, longest first; drop what falls off the end */
        for (j = n; j > 0 && out[j - 1].until < e->until; j--)
            if (j < max)
                out[j] = out[j - 1];
        if (j >= max)
            continue;
        out[j].who = e->key;
        out[j].plen = e->plen;
        out[j].count = hv_count_at(h, e, now);
        out[j].until = e->until;
        out[j].last = (int64_t)e->epoch * h->slotlen;
        if (n < max)
            n++;
    }
    return n;
}

void harvest_counts(const struct harvest *h, int64_t now, size_t *tracked, size_t *penalised)
{
    size_t n = 0;

    for (uint32_t i = h->newest; i != 0; i = h->e[i].older)
        n += h->e[i].until > now;
    *tracked = h->n;
    *penalised = n;
}

uint64_t harvest_evictions(const struct harvest *h)
{
    return h->evictions;
}
