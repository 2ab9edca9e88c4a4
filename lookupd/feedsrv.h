/*
 * feedsrv - the hub's replication routes (docs/protocol.md, schema/feed.h):
 *
 *   GET /v1/snapshot         the whole store at one generation: header 'S' from 0 to G, every
 *                            'A' (addr db) and 'M' (domain db) record, trailer. The entry db
 *                            is not sent: only a directory sync needs it, an edge never does.
 *                            ETag "g<G>"; If-None-Match with that tag: 304.
 *   GET /v1/changes?since=G  header 'C' from G to the store's generation and every change-log
 *                            record after G, in order; G equal to the generation: an empty
 *                            feed; G above it: 409 (the reader is ahead: a hub restored
 *                            from a backup?); G below the log floor: 410 (take a snapshot).
 *
 * Both stream (MHD_create_response_from_callback) from ONE dedicated read-only transaction,
 * not the HTTP thread's reader: it is opened in the handler and aborted in the response's
 * free callback, so the whole answer is one generation however long the transfer takes.
 * The store's shared lock (db.h) is held only while a chunk is encoded, never between
 * chunks, and cursors are reopened per chunk (positioned after the last key sent), so a map
 * grown by another process can be adopted mid-transfer. Bodies are application/octet-stream,
 * never compressed (no gzip).
 *
 * Ownership: the stream owns its transaction and buffer; MHD frees them with the response.
 */
#ifndef RCPTDIR_LK_FEEDSRV_H
#define RCPTDIR_LK_FEEDSRV_H

#include <microhttpd.h>

#include "lookupd/db.h"
#include "lookupd/http.h"

#define FEEDSRV_BUFFER (256 * 1024) /* bytes encoded per chunk, at least one whole record */

/* feedsrv_snapshot - GET /v1/snapshot */
void feedsrv_snapshot(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply);
/* feedsrv_changes - GET /v1/changes?since=G */
void feedsrv_changes(struct lk_db *db, struct MHD_Connection *c, struct http_reply *reply);

#endif
