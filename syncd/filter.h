/*
 * filter - RFC 4515 LDAP filters evaluated locally (the LDIF source).
 *
 * Supported: (&...) (|...) (!...), equality, presence (attr=*), substrings (a*b*c),
 * >= and <=, ~= (taken as equality), and the two Active Directory bitwise rules
 * (attr:1.2.840.113556.1.4.803:=N and ...804:=N) so userAccountControl works in exports.
 * Values compare case-insensitively (ASCII), as the usual mail attributes do; attribute
 * names always do. Escapes (\2a) are decoded. Other extensible matches are refused.
 *
 * Bounds: FILTER_MAX_LEN bytes of text, FILTER_MAX_DEPTH levels of nesting.
 * filter_parse() allocates the tree; filter_free() releases it.
 */
#ifndef RCPTDIR_FILTER_H
#define RCPTDIR_FILTER_H

#include <stddef.h>

#include "syncd/attrs.h"

#define FILTER_MAX_LEN   8192
#define FILTER_MAX_DEPTH 32

struct filter;

/* filter_parse - parse text into *out; 0, or -1 with a message in err */
int filter_parse(const char *text, struct filter **out, char *err, size_t errlen);

/* filter_match - 1 when the entry matches */
int filter_match(const struct filter *f, const struct attrs *a);

void filter_free(struct filter *f);

#endif
