/*
 * feedsrv - the hub's replication routes (docs/protocol.md, schema/feed.h):
 *
 *   GET /v1/snapshot         the whole store at one generation: header 'S' from 0 to G, every
 *                            'A' (addr db) and 'M' (domain db) record, trailer. The entry db
 *                            is not sent: only a directory sync needs it, an edge never does.
 *                            ETag "g<G>" ("g<G>-gz" gzip); If-None-Match with it: 304.
 *   GET /v1/changes?since=G  header 'C' from G to the store's generation and every change-log
 *                            record after G, in order; G equal to the generation: an empty
 *                            feed; G above it: 409 (the reader is ahead: a hub restored
 *                            from a backup?); G below the log floor: 410 (take a snapshot).
 *
 *   GET /v1/changes?since=G&wait=S  the same, but with the store at G the request is held (a
 *                            long poll) until a newer generation is committed or S seconds
 *                            (at most FEEDSRV_MAX_WAIT) pass. The connection is suspended
 *                            (MHD_suspend_connection: no thread, no transaction); a watcher
 *                            thread reads the generation every FEEDSRV_WATCH_MS and resumes
 *                            it (MHD_resume_connection), and MHD calls the handler again with
 *                            reply->state set. At most max_waiters wait (then 503); they do
 *                            not count as streams. A change feed that fits one buffer is
 *                            answered from memory, holding no transaction or stream slot.
 *   Every pull notes its edge (Rcptdir-Edge, Rcptdir-Generation headers) in an edges table
 *   (edges.h) that /v1/status and /metrics show. With a feed token every feed's trailer is
 *   keyed with it (feedsrv_set_key(), schema/feed.h).
 *
 * Both stream (MHD_create_response_from_callback) from ONE dedicated read-only transaction,
 * not the HTTP thread's reader: it is opened in the handler and aborted in the response's
 * free callback, so the whole answer is one generation however long the transfer takes.
 * A reader lock on the store (db.h) is held only while a chunk is encoded, never between
 * chunks, and cursors are reopened per chunk (positioned after the last key sent), so a map
 * grown by another process can be adopted mid-transfer. Bodies are application/octet-stream.
 *
 * Content coding: gzip (zlib, level FEEDSRV_GZIP_LEVEL) when the request's Accept-Encoding
 * allows it (parsed by httpneg.h; RFC 9110 12.5.3: comma-separated codings, any case, optional ;q=,
 * q=0 refuses; "x-gzip" is gzip; "*" stands for any coding not listed; identity wins only when
 * listed with a higher weight), else identity; an empty change feed is always identity. gzip is
 * streamed: each chunk the feed encodes into the buffer goes through deflate straight into MHD's
 * output buffer, Z_FINISH after the trailer, so a gzip stream holds the buffer plus zlib's state
 * (about 268 kB), never the body. 200 and 304 answers carry "Vary: Accept-Encoding", gzip ones
 * "Content-Encoding: gzip"; errors are JSON from http.c, never compressed. Each representation of a
 * snapshot has its own strong ETag (RFC 9110 8.8.3): "g<G>" identity, "g<G>-gz" gzip (mtime 0 and a
 * fixed level make the gzip bytes a function of the feed, for one zlib build). If-None-Match is
 * compared (weakly, RFC 9110 13.1.2; a list or "*") with the tag of the representation the
 * request would get: "g<G>-gz" is 304 only for a request that accepts gzip, "g<G>" only for
 * one that does not.
 *
 * At most feedsrv_setup()'s max_streams answers stream at once (each holds a read transaction,
 * that is an LMDB reader slot, for its whole life): one more gets 503 with Retry-After: 5.
 * A stream whose client stops reading is cut by the HTTP server's inactivity timeout
 * (http.h), which frees its slot.
 *
 * Ownership: the stream owns its transaction and buffer; MHD frees them with the response.
 */
#ifndef RCPTDIR_LK_FEEDSRV_H
#define RCPTDIR_LK_FEEDSRV_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>

#include "lookupd/db.h"
#include "lookupd/edges.h"
#include "lookupd/http.h"

#define FEEDSRV_BUFFER (256 * 1024) /* bytes encoded per chunk, at least one whole record */
#ifndef FEEDSRV_GZIP_LEVEL
#define FEEDSRV_GZIP_LEVEL 1 /* zlib level: the hub pays the CPU per edge pull */
#endif

#define FEEDSRV_MAX_STREAMS 16   /* default of [lookupd] feed_streams */
#define FEEDSRV_MAX_WAITERS 1024 /* default of [lookupd] feed_waiters */
#define FEEDSRV_MAX_WAIT    60   /* seconds a long poll may ask to wait */
#define FEEDSRV_WATCH_MS    20   /* the watcher reads the generation this often while polls wait */
#define FEEDSRV_IDLE_MS     250  /* ... and this often while none waits (the edges' lag clock) */
/* request headers an edge names itself and its generation with (docs/protocol.md) */
#define FEEDSRV_HDR_EDGE       "Rcptdir-Edge"
#define FEEDSRV_HDR_GENERATION "Rcptdir-Generation"

/* A stream handed on another chunk on connection c (http.c's send deadline). */
typedef void (*feedsrv_progress_fn)(struct MHD_Connection *c);

/*
 * feedsrv_setup - the most streams at once (0: the default) and whom to tell of a stream's
 * progress (NULL: nobody); before serving
 */
void feedsrv_setup(unsigned max_streams, feedsrv_progress_fn progress);

/* feedsrv_set_key - the feed token (copied; NULL or "": none) that keys every feed's trailer
 * (HMAC-SHA-256, schema/feed.h); feedsrv_set_key(NULL) wipes it */
void feedsrv_set_key(const char *token);

/* feedsrv_snapshot - GET /v1/snapshot */
void feedsrv_snapshot(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply);
/* feedsrv_changes - GET /v1/changes?since=G[&wait=S]; suspends the connection to wait
 * (reply->suspended, reply->state) and is called again with reply->state once resumed */
void feedsrv_changes(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply);

/*
 * feedsrv_watch_start - start the long-poll watcher over db: at most max_waiters requests wait
 * at once (0: FEEDSRV_MAX_WAITERS), edges (taken over, freed by feedsrv_teardown) notes
 * who pulls. MHD must run with MHD_ALLOW_SUSPEND_RESUME.
 */
void feedsrv_watch_start(struct lk_db *db, unsigned max_waiters, struct edges *edges);
/* feedsrv_watch_stop - resume every waiter (each gets its answer) and stop the watcher; before
 * MHD_stop_daemon() */
void feedsrv_watch_stop(void);
/* feedsrv_teardown - after MHD_stop_daemon() (no handler runs any more): free the edges
 * table and wipe the key */
void feedsrv_teardown(void);
/* feedsrv_wait_free - a request's waiter state (reply->state), when its request ends */
void feedsrv_wait_free(void *state);
/* feedsrv_waiting - long polls waiting now; *resumed (may be NULL): resumed ever */
unsigned feedsrv_waiting(uint64_t *resumed);
/* feedsrv_edges_json - the edges list of /v1/status (new reference) */
json_t *feedsrv_edges_json(uint64_t hub_gen);
/* feedsrv_metrics - long-poll and per-edge lines of /metrics */
void feedsrv_metrics(FILE *fp, uint64_t hub_gen);

#endif
