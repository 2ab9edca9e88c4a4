/*
 * harvest - directory harvest attack defence: unknown recipients counted per client address
 * and per client prefix over a sliding window; a client (or prefix) over its threshold is
 * penalised for a while. Pure logic: no I/O, no clock, no locks; the caller passes the time
 * (monotonic seconds) and serializes calls (lookupd/policy.c holds a mutex).
 *
 * Counting: each unknown recipient adds one to the client address's entry and, unless the
 * prefix is the whole address, to its prefix's entry (IPv4 /prefix4, IPv6 /prefix6). An entry
 * counts in HARVEST_SLOTS slots of window/HARVEST_SLOTS seconds (rounded up): its count is the
 * sum of the slots of the last window, so an unknown stops counting between 7/8 of the window
 * and the whole window after it was seen. When the count goes over threshold (address) or
 * prefix_threshold (prefix), the entry is penalised until now + penalty; harvest_check() then
 * says so for the client address, or for any address in the prefix. A threshold of 0 turns
 * that kind of counting off. Exempt networks (harvest_exempt()) are for the caller to skip.
 *
 * Memory is bounded: at most max_entries entries (address and prefix entries together), each
 * HARVEST_ENTRY_BYTES plus 4 to 8 bytes of hash table, allocated as the table fills (calloc'd
 * pages are touched only when used). When it is full the least recently counted entry is
 * dropped; a penalised one is passed over for a younger unpenalised one among the
 * HARVEST_EVICT_SCAN oldest, so a spray of new addresses cannot wash a running penalty out
 * unless the table is all penalties. The hash is keyed with a seed, so clients cannot choose
 * addresses that collide.
 *
 * Ownership: harvest_new() copies the parameters and the exempt list; harvest_free() frees
 * all. Allocation failure at harvest_new() exits (xmalloc); nothing else allocates.
 */
#ifndef RCPTDIR_HARVEST_H
#define RCPTDIR_HARVEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/cidr.h"

#define HARVEST_SLOTS       8
#define HARVEST_EVICT_SCAN  16
#define HARVEST_ENTRY_BYTES 64 /* sizeof(struct hv_entry) in harvest.c, checked there */
#define HARVEST_MAX_ENTRIES 100000000

struct harvest_params {
    long long threshold;        /* unknowns per window from one address; 0: not counted */
    long long prefix_threshold; /* unknowns per window from one prefix; 0: not counted */
    long long window;           /* seconds */
    long long penalty;          /* seconds */
    long long max_entries;
    int prefix4, prefix6;          /* prefix lengths: IPv4 (1..32), IPv6 (1..128) */
    const struct cidr_net *exempt; /* copied */
    size_t nexempt;
};

struct harvest;

/* What harvest_check() and harvest_unknown() found. */
struct harvest_verdict {
    int penalised;        /* the client is refused until `until` */
    int newly;            /* harvest_unknown(): this unknown started the penalty */
    int prefix;           /* the penalty is its prefix's (else its own address's) */
    struct cidr_addr who; /* the penalised address or prefix (masked) */
    int plen;             /* its prefix length (128: an address) */
    uint32_t count;       /* its count in the window */
    int64_t until;        /* monotonic second the penalty ends */
};

/* One entry, as harvest_list() reports it. */
struct harvest_info {
    struct cidr_addr who;
    int plen;
    uint32_t count;
    int64_t until; /* 0 when not penalised */
    int64_t last;  /* monotonic second of its last unknown */
};

struct harvest *harvest_new(const struct harvest_params *p, uint64_t seed);
void harvest_free(struct harvest *h);

/* harvest_exempt - 1 when a is in one of the exempt networks */
int harvest_exempt(const struct harvest *h, const struct cidr_addr *a);

/* harvest_check - is a (or its prefix) penalised at now? 1 yes (v filled), 0 no */
int harvest_check(const struct harvest *h, const struct cidr_addr *a, int64_t now,
                  struct harvest_verdict *v);

/*
 * harvest_unknown - count one unknown recipient from a at now. Returns 1 when the client is
 * penalised after it (v->newly says whether this unknown started it), else 0.
 */
int harvest_unknown(struct harvest *h, const struct cidr_addr *a, int64_t now,
                    struct harvest_verdict *v);

/*
 * harvest_list - the penalised entries at now, longest penalty first, at most max of them,
 * into out; returns how many
 */
size_t harvest_list(const struct harvest *h, int64_t now, struct harvest_info *out, size_t max);

/* harvest_counts - entries in the table, and how many of them are penalised at now */
void harvest_counts(const struct harvest *h, int64_t now, size_t *tracked, size_t *penalised);

/* harvest_evictions - entries dropped so far because the table was full */
uint64_t harvest_evictions(const struct harvest *h);

#endif
