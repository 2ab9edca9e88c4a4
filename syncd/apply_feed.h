/*
 * apply_feed - an upstream hub's snapshot or change feed (schema/feed.h), a driver of the
 * apply core (apply.h): decoded records straight into the sync's one write transaction.
 * What the upstream source (src_upstream.c) feeds.
 *
 *   apply_begin(&a, ...);
 *   apply_feed_header(a, h) once with the feed's header (attaches the driver);
 *   apply_feed_record(a, r) for each record;
 *   apply_commit(a, ...) only when the decoder verified the trailer (else apply_abort()).
 *
 *   snapshot: the store becomes exactly the feed's addresses and managed domains. The
 *             difference against the store is counted and the safety rules hold. The entry
 *             database is emptied (only a directory sync uses it) and so is the change log,
 *             its floor set to the new generation: readers of this store that are behind
 *             take a snapshot.
 *   changes:  the feed must start at the store's generation; each record is applied in
 *             order and the effective ones appended to this store's own log under the
 *             feed's generation, so this store can serve /v1/changes in turn (chains). The
 *             safety rules hold too: a hub's forced sync must be forced on its edges.
 * Either way the store's generation becomes the feed's: edge and hub can be compared.
 * A feed older than the store is refused (APPLY_REFUSED; apply_refusal() says why) unless
 * forced; a record that cannot be right (an address key that is not normalized, the same
 * address twice in a snapshot) is APPLY_BADFEED; a header the sync did not ask for (a
 * change feed from another generation, a second header) is EINVAL.
 *
 * Record bytes are borrowed from the decoder for the call only; nothing here allocates per
 * record.
 */
#ifndef RCPTDIR_APPLY_FEED_H
#define RCPTDIR_APPLY_FEED_H

#include "schema/feed.h"
#include "syncd/apply.h"

int apply_feed_header(struct apply *a, const struct feed_header *h);
int apply_feed_record(struct apply *a, const struct feed_record *r);

#endif
