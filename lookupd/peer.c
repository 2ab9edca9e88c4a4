/*
 * peer - client keys and the per-peer connection table; see peer.h.
 *
 * The table is open addressing with linear probing and backward-shift deletion (no
 * tombstones), at most half full: 2 * max_conns slots rounded up to a power of two.
 */
#include "lookupd/peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hset.h"
#include "common/xmalloc.h"

enum { PEER_V4 = 4, PEER_V6 = 6, PEER_UID = 'u' };

struct pt_slot {
    struct peer_key k;
    unsigned n; /* 0: empty */
};

struct peertab {
    struct pt_slot *slot;
    size_t mask;
    size_t used, max;
};

int peer_from_sockaddr(struct peer_key *k, const struct sockaddr *sa, socklen_t len)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(k, 0, sizeof(*k));
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        k->b[0] = PEER_V4;
        memcpy(k->b + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            k->b[0] = PEER_V4;
            memcpy(k->b + 1, a + 12, 4);
        } else {
            k->b[0] = PEER_V6;
            memcpy(k->b + 1, a, 16);
        }
        return 0;
    }
    return -1;
}

void peer_from_uid(struct peer_key *k, uint32_t uid)
{
    memset(k, 0, sizeof(*k));
    k->b[0] = PEER_UID;
    memcpy(k->b + 1, &uid, sizeof(uid));
}

void peer_format(const struct peer_key *k, char *buf, size_t len)
{
    uint32_t uid;

    switch (k->b[0]) {
    case PEER_V4:
        if (inet_ntop(AF_INET, k->b + 1, buf, (socklen_t)len) != NULL)
            return;
        break;
    case PEER_V6:
        if (inet_ntop(AF_INET6, k->b + 1, buf, (socklen_t)len) != NULL)
            return;
        break;
    case PEER_UID:
        memcpy(&uid, k->b + 1, sizeof(uid));
        snprintf(buf, len, "uid %u", (unsigned)uid);
        return;
    }
    snprintf(buf, len, "?");
}

uint64_t peer_hash(const struct peer_key *k)
{
    return hset_hash(k->b, sizeof(k->b));
}

struct peertab *peertab_new(size_t max_conns)
{
    struct peertab *t = xcalloc(1, sizeof(*t));
    size_t cap = 16;

    while (cap < 2 * max_conns)
        cap *= 2;
    t->slot = xcalloc(cap, sizeof(*t->slot));
    t->mask = cap - 1;
    t->max = max_conns;
    return t;
}

void peertab_free(struct peertab *t)
{
    if (t == NULL)
        return;
    free(t->slot);
    free(t);
}

/* pt_find - the slot of k, or the empty slot where it would go */
static size_t pt_find(const struct peertab *t, const struct peer_key *k)
{
    size_t i = (size_t)peer_hash(k) & t->mask;

    while (t->slot[i].n != 0 && memcmp(&t->slot[i].k, k, sizeof(*k)) != 0)
        i = (i + 1) & t->mask;
    return i;
}

int peertab_acquire(struct peertab *t, const struct peer_key *k, unsigned limit)
{
    size_t i = pt_find(t, k);

    if (t->slot[i].n == 0) {
        if (t->used >= t->max || limit == 0)
            return 0;
        t->slot[i].k = *k;
        t->used++;
    } else if (t->slot[i].n >= limit) {
        return 0;
    }
    t->slot[i].n++;
    return 1;
}

void peertab_release(struct peertab *t, const struct peer_key *k)
{
    size_t i = pt_find(t, k), j;

    if (t->slot[i].n == 0 || --t->slot[i].n > 0)
        return;
    t->used--;
    /* backward shift: move later entries of the run into the hole when they may live there */
    for (j = (i + 1) & t->mask; t->slot[j].n != 0; j = (j + 1) & t->mask) {
        size_t home = (size_t)peer_hash(&t->slot[j].k) & t->mask;
        /* j's entry may move to i when its home is not in the cyclic range (i, j] */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slot[i] = t->slot[j];
            t->slot[j].n = 0;
            i = j;
        }
    }
}

unsigned peertab_count(const struct peertab *t, const struct peer_key *k)
{
    return t->slot[pt_find(t, k)].n;
}

size_t peertab_peers(const struct peertab *t)
{
    return t->used;
}
