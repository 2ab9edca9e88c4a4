/*
 * attrs - flat (attribute, value) list of one entry; see attrs.h.
 */
#include "syncd/attrs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"

void attrs_add(struct attrs *a, const char *name, size_t name_len, const char *val, size_t len)
{
    const char *semi = memchr(name, ';', name_len);

    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
    }
    a->v[a->n].name = name;
    a->v[a->n].name_len = semi ? (size_t)(semi - name) : name_len;
    a->v[a->n].full_len = name_len;
    a->v[a->n].val = val;
    a->v[a->n].len = len;
    a->n++;
}

void attrs_clear(struct attrs *a)
{
    a->n = 0;
}

void attrs_free(struct attrs *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

int attrs_name_is(const struct attr_value *v, const char *name)
{
    return strlen(name) == v->name_len && strncasecmp(v->name, name, v->name_len) == 0;
}

int attrs_range(const struct attr_value *v, unsigned long *low, unsigned long *high)
{
    const char *p = v->name + v->name_len, *end = v->name + v->full_len;

    while (p < end) { /* each ";option" */
        const char *opt = p + 1, *next = memchr(opt, ';', (size_t)(end - opt));
        const char *oend = next ? next : end, *q;
        if ((size_t)(oend - opt) > 6 && strncasecmp(opt, "range=", 6) == 0) {
            unsigned long n = 0;
            int digits = 0;
            for (q = opt + 6; q < oend && *q >= '0' && *q <= '9' && n < 100000000UL; q++, digits++)
                n = n * 10 + (unsigned long)(*q - '0');
            if (digits == 0 || q >= oend || *q != '-')
                return -1;
            *low = n;
            if (oend - q == 2 && q[1] == '*') {
                *high = ATTRS_RANGE_END;
                return 1;
            }
            n = 0;
            digits = 0;
            for (q++; q < oend && *q >= '0' && *q <= '9' && n < 100000000UL; q++, digits++)
                n = n * 10 + (unsigned long)(*q - '0');
            if (digits == 0 || q != oend || n < *low)
                return -1;
            *high = n;
            return 1;
        }
        p = oend;
    }
    return 0;
}

int attrs_range_cut(const struct attr_value *v)
{
    unsigned long low, high;
    int rc = attrs_range(v, &low, &high);

    return rc < 0 || (rc > 0 && high != ATTRS_RANGE_END);
}
