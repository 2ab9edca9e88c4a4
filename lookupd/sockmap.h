/*
 * sockmap - the socketmap server: epoll, non-blocking, a few worker threads.
 *
 * Each worker thread has its own epoll set, its own LMDB reader (db.h) and its own
 * counters (stats.h). The listening sockets are shared: every worker waits on them with
 * EPOLLEXCLUSIVE and accepts what it is woken for (up to SOCKMAP_ACCEPT_BATCH at a time),
 * and no thread hands work to another. Linux wakes the same waiting worker first, so in
 * practice one worker owns most connections and the others take what arrives while it is
 * busy. On two vCPUs shared with the MTA this is the faster arrangement: spreading
 * connections evenly was measured slower (docs/performance.md). Every socket is
 * non-blocking and every connection
 * has bounded buffers: SOCKMAP_MAX_QUERY of input (the netstring length is checked before
 * the payload is awaited) and SOCKMAP_OUTBUF of replies; a client that stops reading its
 * replies is no longer read from, so it costs nothing but its buffers, and a slow or
 * hostile client never delays another one.
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

struct sockmap;

struct sockmap_params {
    const int *fds; /* listening sockets (non-blocking), taken over */
    const int *is_unix;
    size_t nfds;
    int threads;
    long long max_connections;
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
