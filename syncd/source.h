/*
 * source - where a sync's data comes from, behind one interface (as OpenSMTPD's table
 * backends, struct table_backend): each source is one file that defines one
 * `const struct source` with designated initializers, and one line in sources.c registers
 * it. rcptdir-syncd runs "the configured source" (source_find()) without knowing which.
 *
 * The shape: source -> an apply driver -> the apply core -> the store (apply.h). syncd
 * begins the sync (apply_begin()), calls run(), and commits only when run() returned 0:
 *
 *   run(r)  reads the source and feeds r->apply through the driver that fits its data:
 *             a whole directory, entry by entry   apply_full.h   (LDAP, LDIF:
 *                                                                 src_dir_run() does it all)
 *             entry changes by id                 apply_change.h (syncrepl, AD DirSync)
 *             an upstream's records               apply_feed.h   (an rcptdir hub)
 *           It attaches that driver first (apply_full_start(), ...), never writes the store
 *           any other way, and never commits. It returns 0 when the source ended cleanly,
 *           SOURCE_ERR with a message in r->err (connect, bind, timeout, a partial result,
 *           a broken stream: the sync is aborted and the store keeps its data), or the code
 *           a driver returned (APPLY_REFUSED with the reason in r->err, a store error such
 *           as MDB_MAP_FULL, which makes syncd grow the map and call run() again).
 *           It stops soon with SOURCE_ERR when *r->stop becomes non-zero (a signal).
 *
 * To add a source: write src_NAME.c defining `const struct source src_NAME = {.name = ...,
 * .conf = CONF_SOURCE_NAME, .describe = ..., .run = ...};` (global_init/global_cleanup
 * when a library needs process-wide setup), add X(src_NAME) to SOURCES in sources.c, and
 * give schema/conf.c the section that selects it (conf_source()). Nothing else changes.
 *
 * Ownership: r and the configuration are borrowed for the call; a source frees what it
 * allocates before run() returns. Messages are written into r->err (r->errlen bytes).
 */
#ifndef RCPTDIR_SOURCE_H
#define RCPTDIR_SOURCE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/conf.h"
#include "schema/err.h"
#include "syncd/apply.h"
#include "syncd/attrs.h"

/* SOURCE_ERR: the source failed, the reason in the caller's buffer (schema/err.h) */

/* one run of a source: what syncd hands it, and what it reports back */
struct source_run {
    const struct conf *cf;
    struct apply *apply;               /* begun, no driver attached yet */
    int force;                         /* --force: the operator takes what the source says */
    int dry_run;                       /* --dry-run: nothing this run reads is committed */
    int progress;                      /* a progress line on stderr is welcome (a terminal) */
    const volatile sig_atomic_t *stop; /* non-zero: stop soon (SOURCE_ERR) */
    int watch;                         /* --watch: a source may keep a live stream open */
    int again;                         /* out: commit, then call run() again at once */
    int can_hold;                      /* out: the source can hold back its deletes */
    int hold;      /* in: apply all but deletes (a safety rule refused them); keep them due */
    uint64_t held; /* out: deletes (or sweeps) held back in this run */
    int waited;    /* out: it waited at the source (a long poll): --watch runs it again at once */
    uint64_t invalid; /* out: addresses skipped as invalid (meta "invalid") */
    char note[512];   /* out: one line syncd logs after a commit, or "" */
    char *err;        /* out: why run() failed */
    size_t errlen;
};

struct source {
    const char *name;      /* "ldap", "ldif", "upstream": in messages */
    enum conf_source conf; /* the configuration that selects it */
    /* once per process, before the first run and after the last (may be NULL); global_init
     * returns 0 or -1 with a message in err */
    int (*global_init)(char *err, size_t errlen);
    void (*global_cleanup)(void);
    /* what meta and /v1/status call the source, e.g. "ldap://host ou=people,..." */
    void (*describe)(const struct conf *cf, char *buf, size_t len);
    /* one sync's worth of data into r->apply (above) */
    int (*run)(struct source_run *r);
};

/* source_find - the source the configuration names, or NULL (sources.c) */
const struct source *source_find(const struct conf *cf);

/*
 * What a directory source's reader hands on for each entry (src_ldap.c, src_ldif.c): the
 * entry's attributes (borrowed for the call), its DN and whether it matched group_filter
 * and disabled_filter. A non-zero return stops the reader, which then returns that value.
 */
struct source_sink {
    int (*entry)(void *ctx, const struct attrs *a, const char *dn, size_t dnlen, int is_group,
                 int is_disabled);
    void *ctx;
};

#endif
