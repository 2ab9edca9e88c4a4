/*
 * peer - who a client is, for per-client limits: its IP address (inet), or its user id
 * (unix sockets, from SO_PEERCRED). Two clients are the same peer when their keys are equal.
 *
 * peertab - how many connections each peer has open: a fixed table sized for the most
 * connections at once (every open connection holds one count on one entry), so it never
 * grows and never drops a peer that still has a connection. Not thread-safe: the caller
 * locks (sockmap holds one mutex around acquire and release).
 *
 * Ownership: peertab_new() allocates (exits when out of memory), peertab_free() releases.
 */
#ifndef RCPTDIR_LK_PEER_H
#define RCPTDIR_LK_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PEER_KEY_SIZE 17 /* a kind byte, then 16 bytes of address or a uid */

struct peer_key {
    unsigned char b[PEER_KEY_SIZE];
};

/* peer_from_sockaddr - the key of an inet client (IPv4-mapped IPv6 counts as IPv4); 0 or -1 */
int peer_from_sockaddr(struct peer_key *k, const struct sockaddr *sa, socklen_t len);
/* peer_from_uid - the key of a unix-socket client */
void peer_from_uid(struct peer_key *k, uint32_t uid);
/* peer_format - the key as text for a log line ("192.0.2.1", "2001:db8::1", "uid 107") */
void peer_format(const struct peer_key *k, char *buf, size_t len);
/* peer_hash - a hash of the key */
uint64_t peer_hash(const struct peer_key *k);

struct peertab;

/* peertab_new - room for max_conns connections at once */
struct peertab *peertab_new(size_t max_conns);
void peertab_free(struct peertab *t);
/*
 * peertab_acquire - count one more connection of k: 1 done, 0 refused because k already has
 * limit connections (or the table is full: more connections than it was made for)
 */
int peertab_acquire(struct peertab *t, const struct peer_key *k, unsigned limit);
/* peertab_release - one connection of k is gone (k must hold a count) */
void peertab_release(struct peertab *t, const struct peer_key *k);
/* peertab_count - connections k has open (tests) */
unsigned peertab_count(const struct peertab *t, const struct peer_key *k);
/* peertab_peers - peers with at least one connection (tests) */
size_t peertab_peers(const struct peertab *t);

#endif
