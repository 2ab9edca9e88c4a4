/*
 * source - what every directory source hands to syncd: one entry at a time.
 *
 * A source calls sink->entry() for each entry it selected, with the entry's attributes,
 * its DN and whether it is a group and disabled (group_filter, disabled_filter). The
 * attributes are borrowed for the call. A non-zero return from the sink stops the source,
 * which then returns that value. Sources report their own failures as SOURCE_ERR with a
 * message in the caller's buffer; the store is never touched by a source.
 */
#ifndef RCPTDIR_SOURCE_H
#define RCPTDIR_SOURCE_H

#include <stddef.h>

#include "syncd/attrs.h"

#define SOURCE_ERR (-30800)

struct source_sink {
    int (*entry)(void *ctx, const struct attrs *a, const char *dn, size_t dnlen, int is_group,
                 int is_disabled);
    void *ctx;
};

#endif
