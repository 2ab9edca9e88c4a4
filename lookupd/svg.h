/*
 * svg - the status page's inline SVG charts, and the escaper every byte of untrusted text
 * on the page goes through (HTML and SVG alike).
 *
 *   svg_syncs()    the last syncs, oldest left: a bar per attempt, its height the duration,
 *                  green ok, amber refused, red failed (refused and failed ones also get a
 *                  tinted column, so that a zero-length failure still shows); below it, the
 *                  addresses it changed (+ ~ -). Each bar has a <title> (a tooltip, and text
 *                  for a screen reader).
 *   svg_answers()  answers per minute by kind (valid, unknown, disabled, temporary failure)
 *                  as one line each, averaged over STATS_BIN minutes; time with no data grey.
 *
 * Output is deterministic (integer coordinates, UTC labels): tests compare it byte for byte
 * with tests/data/page/. Writes to a stdio stream; allocates nothing.
 */
#ifndef RCPTDIR_LK_SVG_H
#define RCPTDIR_LK_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lookupd/stats.h"
#include "lookupd/status.h"

#define SVG_SYNCS_MAX 48 /* bars in the sync chart */
#define SVG_BIN       5  /* minutes per point of the answers chart */

/*
 * svg_esc - s (len bytes) as HTML/XML text, safe in element content and in quoted
 * attributes: & < > " ' as entities, other control bytes and bytes that are not UTF-8 as
 * U+FFFD; tabs and newlines kept.
 */
void svg_esc(FILE *fp, const char *s, size_t len);
/* svg_escs - svg_esc() of a NUL-terminated string */
void svg_escs(FILE *fp, const char *s);

/* how svg_time() writes a time, always UTC */
enum svg_time_form {
    SVG_HHMM,       /* 07:55 */
    SVG_MINUTE,     /* 2026-12-07 07:55 */
    SVG_SECOND,     /* 2026-12-07 07:55:00 */
    SVG_SECOND_UTC, /* 2026-12-07 07:55:00 UTC */
};

/* svg_time - unix time t in form ("" when it does not fit in len bytes) */
void svg_time(char *buf, size_t len, uint64_t t, enum svg_time_form form);

/* svg_age - a small gauge of age against max_age (green to half, amber to max_age, red
 * beyond; the bar stops at twice max_age) */
void svg_age(FILE *fp, long long age, long long max_age);

/* svg_syncs - the chart of the newest min(n, SVG_SYNCS_MAX) of syncs[n] (newest first) */
void svg_syncs(FILE *fp, const struct status_sync *syncs, size_t n);
/* svg_answers - the chart of minutes[n] (oldest first) */
void svg_answers(FILE *fp, const struct stats_minute *minutes, size_t n);

#endif
