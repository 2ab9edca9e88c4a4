/*
 * src_upstream - an edge's source: an upstream rcptdir hub (or another edge) over HTTP(S).
 *
 * Asks the hub for /v1/changes?since=G (G: this store's generation), or for /v1/snapshot
 * when the store has never been synced, when the hub answers 410 (its log no longer holds
 * G) or, with --force, when the hub is behind the store (409). Bytes are decoded as libcurl
 * delivers them (schema/feed.h) and every record goes straight into the sync's apply
 * (apply_feed.h); apply_commit() is left to the caller, which
 * calls it only when this returns 0, that is when the trailer's count and SHA-256 verified.
 *
 * libcurl: TLS verification on (ca_file or the system's CAs), http and https only, no
 * redirects, a connect timeout and a low-speed limit (1 kB/s for `timeout` seconds, which
 * also bounds a slow drip), at most `max_size` decoded bytes, the bearer token from
 * token_file. Memory is bounded by the decoder's one-record buffer.
 */
#ifndef RCPTDIR_SRC_UPSTREAM_H
#define RCPTDIR_SRC_UPSTREAM_H

#include <stdint.h>

#include "schema/conf.h"
#include "syncd/apply.h"
#include "syncd/source.h"

/* the source (source.h): a hub's records through the feed driver (apply_feed.h); its note
 * says which feed it took, from and to which generation, how many records and bytes */
extern const struct source src_upstream;

#endif
