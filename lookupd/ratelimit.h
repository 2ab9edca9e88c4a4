/*
 * ratelimit - a token bucket per client in a fixed, bounded table: `rate` tokens a second,
 * at most `burst` saved up. lookupd's HTTP server spends one token per "unknown" answer
 * to /v1/recipients, so guessing addresses (harvesting) is slow, while answers about
 * existing addresses cost nothing.
 *
 * The table never grows: RATELIMIT_WAYS slots per set; a new client takes the slot of the
 * client in its set seen longest ago (who then starts again with a full bucket). So many
 * clients at once can outrun it, which only makes the limit weaker, never wrong for one.
 * Not thread-safe: lookupd calls it from MHD's one thread.
 *
 * Ownership: ratelimit_new() allocates (exits when out of memory), ratelimit_free() frees.
 */
#ifndef RCPTDIR_LK_RATELIMIT_H
#define RCPTDIR_LK_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "lookupd/peer.h"

#define RATELIMIT_WAYS 4

struct ratelimit;

/* ratelimit_new - about `slots` clients (rounded up to a power of two, at least WAYS) */
struct ratelimit *ratelimit_new(size_t slots, unsigned rate, unsigned burst);
void ratelimit_free(struct ratelimit *rl);

/*
 * ratelimit_allow - may client k have another token at monotonic millisecond now_ms?
 * 1 yes (not spent: ratelimit_spend() does that), 0 no, and *retry_s says in how many
 * seconds (at least 1) one will be there.
 */
int ratelimit_allow(struct ratelimit *rl, const struct peer_key *k, uint64_t now_ms,
                    unsigned *retry_s);
/* ratelimit_spend - take one token of k (its bucket may go down to 0, not below) */
void ratelimit_spend(struct ratelimit *rl, const struct peer_key *k, uint64_t now_ms);

#endif
