/*
 * hset - open-addressing set of 64-bit hashes; see hset.h.
 */
#include "common/hset.h"

#include <stdlib.h>

#include "common/xmalloc.h"

/* hset_mix - the murmur3 64-bit finalizer */
static uint64_t hset_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t hset_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ len;

    /* FNV-1a over the bytes, then a strong finalizer */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h = hset_mix(h);
    return h ? h : 1;
}

static void hset_insert(uint64_t *slot, size_t cap, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    while (slot[i] != 0)
        i = (i + 1) & (cap - 1);
    slot[i] = h;
}

/* hset_resize - rehash into cap slots (a power of two) */
static void hset_resize(struct hset *s, size_t cap)
{
    uint64_t *slot = xcalloc(cap, sizeof(*slot));

    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i] != 0)
            hset_insert(slot, cap, s->slot[i]);
    free(s->slot);
    s->slot = slot;
    s->cap = cap;
}

void hset_reserve(struct hset *s, size_t n)
{
    size_t cap = s->cap ? s->cap : 1024;

    while (cap < n * 2)
        cap *= 2;
    if (cap > s->cap)
        hset_resize(s, cap);
}

int hset_has(const struct hset *s, uint64_t h)
{
    if (s->cap == 0)
        return 0;
    for (size_t i = (size_t)h & (s->cap - 1); s->slot[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == h)
            return 1;
    return 0;
}

int hset_add(struct hset *s, uint64_t h)
{
    size_t i;

    if ((s->n + 1) * 2 > s->cap)
        hset_resize(s, s->cap ? s->cap * 2 : 1024);
    /* one probe sequence: stop at the hash or at the free slot that takes it */
    for (i = (size_t)h & (s->cap - 1); s->slot[i] != 0; i = (i + 1) & (s->cap - 1))
        if (s->slot[i] == h)
            return 0;
    s->slot[i] = h;
    s->n++;
    return 1;
}

void hset_free(struct hset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}
