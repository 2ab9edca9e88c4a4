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

int attrs_range_cut(const struct attr_value *v)
{
    const char *p = v->name + v->name_len, *end = v->name + v->full_len;

    while (p < end) { /* each ";option" */
        const char *opt = p + 1, *next = memchr(opt, ';', (size_t)(end - opt));
        size_t len = (size_t)((next ? next : end) - opt);
        if (len > 6 && strncasecmp(opt, "range=", 6) == 0) {
            const char *dash = memchr(opt + 6, '-', len - 6);
            return dash == NULL || (size_t)(opt + len - dash - 1) != 1 || dash[1] != '*';
        }
        p = next ? next : end;
    }
    return 0;
}
