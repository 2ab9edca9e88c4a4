/*
 * src_dir - what the directory sources (LDAP, LDIF) share: the sink their readers hand each
 * entry to. It maps the entry to addresses (entry.h, the attribute mapping of the
 * configuration) and feeds the full-stream driver (apply_full.h); it stops the reader when
 * syncd is told to stop, when an entry came with an address attribute cut short (Active
 * Directory range retrieval: a partial entry must never be applied), and on any apply error.
 * It prints a progress line when the run asks for one.
 *
 *   struct src_dir d;
 *   if ((rc = src_dir_open(&d, r)) == 0)          attaches the driver
 *       rc = READ(..., &d.sink, r->err, r->errlen);
 *   return src_dir_close(&d, rc);                 reports invalid, explains a stop, frees
 *
 * Ownership: d lives on the caller's stack; src_dir_close() frees what it holds.
 */
#ifndef RCPTDIR_SRC_DIR_H
#define RCPTDIR_SRC_DIR_H

#include <time.h>

#include "syncd/entry.h"
#include "syncd/source.h"

struct src_dir {
    struct source_sink sink; /* hand this to the reader */
    struct source_run *run;
    struct mapping map;
    struct sync_entry entry;
    struct map_stats stats;
    char why[512]; /* why the sink stopped the reader */
    struct timespec start, last;
};

/* src_dir_open - a sink for one run (attaches apply_full); 0 or an apply error */
int src_dir_open(struct src_dir *d, struct source_run *r);
/* src_dir_close - rc, the reader's result, with the sink's reason in r->err when it stopped
 * the reader; sets r->invalid; frees d */
int src_dir_close(struct src_dir *d, int rc);
/* src_dir_mapping - the attribute mapping of the configuration (entry.h) */
void src_dir_mapping(const struct conf *cf, struct mapping *m);

#endif
