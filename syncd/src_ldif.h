/*
 * src_ldif - read an LDIF export (RFC 2849) as a directory source.
 *
 * Handles version lines, comments, folded lines, base64 values (name:: ...), attribute
 * options (mail;lang-en), CRLF line ends, "changetype: add" records (ldifde writes them)
 * and the trailer of ldapsearch -L output. Refused with the line number: URL values
 * (name:< ...), other change records, control lines, malformed base64, lines without ':',
 * a logical line over LDIF_MAX_LINE bytes, an entry over LDIF_MAX_ENTRY bytes or
 * LDIF_MAX_VALUES values. Memory is bounded by those limits, not by the file.
 *
 * Entries are selected with filter and classified with group_filter and disabled_filter,
 * evaluated locally (filter.h). Filters may be NULL (all entries / none).
 */
#ifndef RCPTDIR_SRC_LDIF_H
#define RCPTDIR_SRC_LDIF_H

#include <stdio.h>

#include "syncd/filter.h"
#include "syncd/source.h"

#define LDIF_MAX_LINE   (1024 * 1024)
#define LDIF_MAX_ENTRY  (16 * 1024 * 1024)
#define LDIF_MAX_VALUES 100000

struct ldif_filters {
    const struct filter *select, *group, *disabled;
};

/* src_ldif_read - stream the entries of fp (name used in messages) to sink; 0 or SOURCE_ERR */
int src_ldif_read(FILE *fp, const char *name, const struct ldif_filters *f,
                  const struct source_sink *sink, char *err, size_t errlen);

/* the source (source.h): the file [ldif] path names, through the full-stream driver */
extern const struct source src_ldif;

#endif
