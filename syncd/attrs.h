/*
 * attrs - one directory entry as a flat list of (attribute, value) pairs.
 *
 * Both the LDAP and the LDIF source fill one of these per entry; filter.c evaluates
 * LDAP filters over it and entry.c maps it to addresses. Names and values are borrowed
 * from the source's buffers and valid until the source reads the next entry; the array
 * itself is reused across entries and freed by attrs_free().
 */
#ifndef RCPTDIR_ATTRS_H
#define RCPTDIR_ATTRS_H

#include <stddef.h>

struct attr_value {
    const char *name;
    size_t name_len; /* without ";options" */
    size_t full_len; /* with them */
    const char *val;
    size_t len;
};

struct attrs {
    struct attr_value *v;
    size_t n, cap;
};

/* attrs_add - append a pair (both borrowed); options after ';' in name are ignored */
void attrs_add(struct attrs *a, const char *name, size_t name_len, const char *val, size_t len);
void attrs_clear(struct attrs *a);
void attrs_free(struct attrs *a);

/* attrs_name_is - 1 when an attribute name (as stored) equals name, ignoring case */
int attrs_name_is(const struct attr_value *v, const char *name);

/*
 * attrs_range_cut - 1 when the value came under Active Directory's ";range=LOW-HIGH" option
 * with HIGH other than "*": the directory sent only part of the attribute's values (range
 * retrieval, beyond MaxValRange, 1500 by default) and the rest would have to be asked for.
 */
int attrs_range_cut(const struct attr_value *v);

/*
 * attrs_range - the value came under ";range=LOW-HIGH": 1 with *low and *high set (*high is
 * ATTRS_RANGE_END for "*", the last chunk), 0 without a range option, -1 when it is malformed
 */
#define ATTRS_RANGE_END ((unsigned long)-1)
int attrs_range(const struct attr_value *v, unsigned long *low, unsigned long *high);

#endif
