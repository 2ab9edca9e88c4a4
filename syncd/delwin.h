/*
 * delwin - the sliding delete window of a change stream (apply_delete_window()): the
 * addresses removed by the syncs committed within the last `window` seconds, in time buckets,
 * so that their sum can be checked against max_delete_ratio together with a new sync's.
 *
 * Time is cut into buckets of DELWIN_SPAN(window) seconds (window / DELWIN_BUCKETS, rounded
 * up), aligned on multiples of the span. Each bucket keeps the addresses removed in it and its
 * base: the address count before its first removal. A bucket counts while its end is later
 * than now - window, so a removal counts for at least `window` seconds and at most one span
 * longer (the error at the boundary, always on the side of refusing): with the default 3600 s,
 * between 3600 and 3825 s. At most DELWIN_MAX buckets are kept: the one now is in and the
 * DELWIN_BUCKETS before it.
 *
 * The text form (the meta value STORE_META_DEL_WINDOW, schema/store.h) is
 * "v2 END BASE REMOVED END BASE REMOVED ..." (decimal, ends strictly increasing, at most
 * DELWIN_MAX buckets; "" is an empty window). The previous release's fixed window,
 * "START BASE REMOVED", is read as one bucket ending at START + window: its removals may have
 * been made at any time up to then.
 *
 * Pure functions over a caller's struct delwin: the caller passes the time, nothing
 * allocates, nothing logs. Errors: delwin_parse() returns -1 for a text it does not
 * understand (the window is then empty).
 */
#ifndef RCPTDIR_DELWIN_H
#define RCPTDIR_DELWIN_H

#include <stddef.h>
#include <stdint.h>

#define DELWIN_BUCKETS      16                   /* buckets per window */
#define DELWIN_MAX          (DELWIN_BUCKETS + 1) /* kept: the current one and the 16 before */
#define DELWIN_TEXT         512 /* longest text delwin_format() writes, with its NUL */
#define DELWIN_SPAN(window) (((window) + DELWIN_BUCKETS - 1) / DELWIN_BUCKETS)

struct delwin_bucket {
    uint64_t end;     /* unix time the bucket ends (exclusive) */
    uint64_t base;    /* address count before the bucket's first removal */
    uint64_t removed; /* addresses removed in the bucket */
};

struct delwin {
    struct delwin_bucket b[DELWIN_MAX]; /* oldest first, ends strictly increasing */
    size_t n;
};

/*
 * delwin_parse - w from a text form (NULL or "" : empty); window (seconds, > 0) dates the
 * old format's bucket. 0, or -1 when the text is not a window (w empty).
 */
int delwin_parse(struct delwin *w, const char *text, uint64_t window);

/*
 * delwin_expire - drop the buckets that no longer count at now (ended window seconds ago or
 * more); buckets ending after the one now is in (the clock went back, or the window was
 * shortened) become part of it: their removals count from now on, never forgotten
 */
void delwin_expire(struct delwin *w, uint64_t window, uint64_t now);

/* delwin_removed - the addresses removed in w's buckets (saturating at UINT64_MAX) */
uint64_t delwin_removed(const struct delwin *w);

/*
 * delwin_base - what w's removals and a new sync's count against: the base of the oldest
 * bucket (the count before the oldest removal still in the window), or previous (the count
 * before the new sync) when that is larger or w is empty. Removals cannot lower it; adds can
 * raise it.
 */
uint64_t delwin_base(const struct delwin *w, uint64_t previous);

/*
 * delwin_add - a sync at now removed `removed` of the `previous` addresses it found: into the
 * bucket now is in (a new one has base previous). When all DELWIN_MAX are taken (the window
 * was made longer or shorter since), the two oldest become one.
 */
void delwin_add(struct delwin *w, uint64_t window, uint64_t now, uint64_t removed,
                uint64_t previous);

/*
 * delwin_format - w's text form into buf (cap bytes, at least DELWIN_TEXT), NUL-terminated;
 * a window whose text would exceed DELWIN_TEXT - 1 bytes is written with its oldest buckets
 * merged (ends and counts kept on the refusing side). 0, or -1 when cap is too small.
 */
int delwin_format(const struct delwin *w, char *buf, size_t cap);

#endif
