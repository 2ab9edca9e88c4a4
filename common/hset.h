/*
 * hset - a set of 64-bit hashes of byte strings, open addressing, 8 bytes a slot.
 *
 * syncd uses it to remember which addresses and entries a full sync has seen, in a few
 * bytes each instead of a copy of every key (2.5M addresses: about 40 MB at most).
 * Two different keys with the same 64-bit hash are taken as one; for 10^7 keys the
 * chance of that is about 3 in 10^6, and the only effect is that a removed address is
 * kept one sync longer (it never loses an address).
 *
 * Memory: hset_free() releases it; allocation failure exits (xmalloc).
 */
#ifndef RCPTDIR_HSET_H
#define RCPTDIR_HSET_H

#include <stddef.h>
#include <stdint.h>

struct hset {
    uint64_t *slot;
    size_t cap; /* power of two, or 0 */
    size_t n;
};

/* hset_hash - 64-bit hash of data[0..len), never 0 */
uint64_t hset_hash(const void *data, size_t len);

/* hset_add - add a hash; returns 1 when it was new, 0 when already present */
int hset_add(struct hset *s, uint64_t h);

/* hset_reserve - make room for n hashes without growing (one allocation instead of many) */
void hset_reserve(struct hset *s, size_t n);

/* hset_has - 1 when the hash is present */
int hset_has(const struct hset *s, uint64_t h);

void hset_free(struct hset *s);

#endif
