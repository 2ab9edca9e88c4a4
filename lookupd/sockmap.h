/*
 * sockmap - the socketmap server: epoll, non-blocking, a few worker threads.
 *
 * Each worker thread has its own epoll set, its own LMDB reader (db.h) and its own
 * counters (stats.h); no thread hands work to another. New connections go to the first
 * worker until it is saturated: worker i takes new connections (waits on the shared
 * listening sockets, with EPOLLEXCLUSIVE) only while workers 0..i-1 each used at least
 * SOCKMAP_SATURATED percent of a CPU over the last second. So a light load is answered by
 * one thread with large batches and no cross-CPU wake-ups, and the others join as the
 * load needs them; a connection stays with the worker that accepted it. On two vCPUs
 * shared with the MTA, spreading connections over two workers under a light load was
 * measured slower than one (docs/performance.md).
 *
 * Every socket is non-blocking and every connection has bounded buffers: SOCKMAP_MAX_QUERY
 * of input (the netstring length is checked before the payload is awaited) and
 * SOCKMAP_OUTBUF of replies; a client that stops reading its replies is no longer read
 * from, so it costs nothing but its buffers, and a slow or hostile client never delays
 * another one.
 *
 * Hostile clients: at most max_per_peer connections from one client address (inet) or one
 * user id (unix, SO_PEERCRED), counted in one table shared by the workers (peer.h); more
 * are accepted and closed at once. At max_connections a new connection closes the accepting
 * worker's connection idle the longest (with no request half read or reply waiting) instead
 * of being refused, so held idle connections cannot lock Postfix out. Every message a client
 * can provoke goes through log_limited().
 *
 * Connections: at most max_connections (more are accepted and closed at once), closed after
 * idle_timeout seconds without traffic, or SOCKMAP_PARTIAL_TIMEOUT seconds after a request
 * started arriving without finishing. Several requests in one read are answered in order; a
 * request split over many reads is answered once complete. After the client half-closes
 * (Exim ${readsocket}) the requests already read are answered, then the connection is
 * closed. A malformed request gets "PERM <reason>" and the connection is closed.
 *
 * sockmap_stop() may be called from any thread: the workers finish the requests they have
 * read, flush their replies (best effort, without waiting), close and exit.
 *
 * Ownership: sockmap_new() takes the listening descriptors (closed by sockmap_free()),
 * borrows db and opts, which must outlive it. Errors at start-up are fatal (log.h).
 */
#ifndef RCPTDIR_SOCKMAP_H
#define RCPTDIR_SOCKMAP_H

#include <stddef.h>

#include "lookupd/db.h"
#include "lookupd/lookup.h"

#define SOCKMAP_OUTBUF          (4 * 1024) /* replies waiting for a client to read them */
#define SOCKMAP_INBUF_START     512        /* input buffer at accept; grows to the maximum */
#define SOCKMAP_PARTIAL_TIMEOUT 30         /* seconds to finish a request once started */
#define SOCKMAP_ACCEPT_BATCH    64         /* accepts per wake-up, for fairness */
#define SOCKMAP_SATURATED       75         /* % of a CPU: the next worker takes connections */
#define SOCKMAP_MAX_PER_PEER    1024       /* default of [lookupd] max_per_peer */

struct sockmap;

struct sockmap_params {
    const int *fds; /* listening sockets (non-blocking), taken over */
    const int *is_unix;
    size_t nfds;
    int threads;
    long long max_connections;
    long long max_per_peer; /* connections from one address (inet) or user (unix); 0: default */
    long long idle_timeout;
};

struct sockmap *sockmap_new(const struct sockmap_params *p, struct lk_db *db,
                            const struct lookup_opts *opts);
/* sockmap_start - start the worker threads */
void sockmap_start(struct sockmap *sm);
/* sockmap_stop - ask the workers to finish (async-signal-safe: one write) */
void sockmap_stop(struct sockmap *sm);
/* sockmap_join - wait for the workers to exit */
void sockmap_join(struct sockmap *sm);
void sockmap_free(struct sockmap *sm);

#endif
