/*
 * src_upstream - an edge's source: an upstream rcptdir hub (or another edge) over HTTP(S).
 *
 * Asks the hub for /v1/changes?since=G (G: this store's generation), or for /v1/snapshot
 * when the store has never been synced, when the hub answers 410 (its log no longer holds
 * G) or, with --force, when the hub is behind the store (409). Bytes are decoded as libcurl
 * delivers them (schema/feed.h) and every record goes straight into the sync's apply
 * (apply.h, "Feeds from an upstream hub"); apply_commit() is left to the caller, which
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

struct upstream_stats {
    char kind;         /* 'S' snapshot or 'C' changes: what was applied */
    uint64_t from, to; /* the feed's generations */
    uint64_t bytes;    /* feed bytes received (after content decoding) */
    uint64_t wire;     /* body bytes on the wire (gzip, when the hub compressed) */
    uint64_t records;
    int requests; /* HTTP requests made (2 after a 410 fallback) */
};

/*
 * upstream_source_run - fetch and apply one feed into a (fresh from apply_begin(), whose
 * apply_generation() is the store's). Returns 0, SOURCE_ERR (message in err), APPLY_REFUSED (the
 * reason in err), or a store error from apply (MDB_MAP_FULL: grow and run again).
 */
int upstream_source_run(const struct conf *cf, struct apply *a, int force,
                        struct upstream_stats *us, char *err, size_t errlen);

#endif
