/*
 * ratelimit - per-client token buckets in a set-associative table; see ratelimit.h.
 * Tokens are kept in thousandths so a low rate refills smoothly.
 */
#include "lookupd/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

struct rl_slot {
    struct peer_key k;
    uint64_t last_ms; /* last refill; 0: empty slot */
    uint64_t milli;   /* tokens * 1000 */
};

struct ratelimit {
    struct rl_slot *slot;
    size_t mask; /* sets - 1 */
    uint64_t rate, burst;
};

struct ratelimit *ratelimit_new(size_t slots, unsigned rate, unsigned burst)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    size_t sets = 1;

    while (sets * RATELIMIT_WAYS < slots)
        sets *= 2;
    rl->slot = xcalloc(sets * RATELIMIT_WAYS, sizeof(*rl->slot));
    rl->mask = sets - 1;
    rl->rate = rate;
    rl->burst = burst > 0 ? burst : 1;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    free(rl->slot);
    free(rl);
}

/* rl_bucket - k's slot with its tokens refilled up to now; a new client gets a full bucket */
static struct rl_slot *rl_bucket(struct ratelimit *rl, const struct peer_key *k, uint64_t now_ms)
{
    struct rl_slot *set = rl->slot + ((size_t)peer_hash(k) & rl->mask) * RATELIMIT_WAYS;
    struct rl_slot *s = NULL, *oldest = &set[0];

    now_ms = now_ms ? now_ms : 1;
    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        if (set[i].last_ms != 0 && memcmp(&set[i].k, k, sizeof(*k)) == 0) {
            s = &set[i];
            break;
        }
        if (set[i].last_ms < oldest->last_ms)
            oldest = &set[i];
    }
    if (s == NULL) {
        s = oldest;
        s->k = *k;
        s->milli = rl->burst * 1000;
        s->last_ms = now_ms;
        return s;
    }
    if (now_ms > s->last_ms) {
        uint64_t add = (now_ms - s->last_ms) * rl->rate; /* ms * tokens/s = milli-tokens */
        s->milli = s->milli + add > rl->burst * 1000 ? rl->burst * 1000 : s->milli + add;
        s->last_ms = now_ms;
    }
    return s;
}

int ratelimit_allow(struct ratelimit *rl, const struct peer_key *k, uint64_t now_ms,
                    unsigned *retry_s)
{
    struct rl_slot *s = rl_bucket(rl, k, now_ms);
    uint64_t wait_ms;

    *retry_s = 0;
    if (s->milli >= 1000)
        return 1;
    wait_ms = rl->rate > 0 ? (1000 - s->milli + rl->rate - 1) / rl->rate : 1000;
    *retry_s = (unsigned)((wait_ms + 999) / 1000);
    if (*retry_s == 0)
        *retry_s = 1;
    return 0;
}

void ratelimit_spend(struct ratelimit *rl, const struct peer_key *k, uint64_t now_ms)
{
    struct rl_slot *s = rl_bucket(rl, k, now_ms);

    s->milli = s->milli >= 1000 ? s->milli - 1000 : 0;
}
