/*
 * delwin - the sliding delete window's buckets, their text form and their sums; see delwin.h.
 *
 * Ownership: none; every function works on the caller's struct delwin and buffers.
 */
#include "syncd/delwin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* delwin_sat_add - a + b, or UINT64_MAX when that overflows */
static uint64_t delwin_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* delwin_number - a decimal number at *p (after spaces) into *v, *p past it; 0 or -1 */
static int delwin_number(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;

    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    if (*s != ' ' && *s != '\0')
        return -1;
    *p = s;
    *v = n;
    return 0;
}

/* delwin_at_end - 1 when only spaces are left at p */
static int delwin_at_end(const char *p)
{
    while (*p == ' ')
        p++;
    return *p == '\0';
}

/* delwin_merge_oldest - the two oldest buckets become one (needs n >= 2) */
static void delwin_merge_oldest(struct delwin *w)
{
    w->b[1].base = w->b[0].base; /* the count before the older one's first removal */
    w->b[1].removed = delwin_sat_add(w->b[0].removed, w->b[1].removed);
    memmove(&w->b[0], &w->b[1], (w->n - 1) * sizeof(w->b[0]));
    w->n--;
}

/* delwin_bucket_end - when the bucket that now falls in ends */
static uint64_t delwin_bucket_end(uint64_t window, uint64_t now)
{
    uint64_t span = DELWIN_SPAN(window) > 0 ? DELWIN_SPAN(window) : 1;

    return (now / span + 1) * span;
}

int delwin_parse(struct delwin *w, const char *text, uint64_t window)
{
    const char *p = text;
    uint64_t v[3];

    w->n = 0;
    if (p == NULL || delwin_at_end(p))
        return 0;
    if (strncmp(p, "v2", 2) != 0 || (p[2] != ' ' && p[2] != '\0')) {
        /* the previous release's fixed window: START BASE REMOVED */
        for (int i = 0; i < 3; i++)
            if (delwin_number(&p, &v[i]) != 0)
                return -1;
        if (!delwin_at_end(p) || v[0] > UINT64_MAX - window)
            return -1;
        w->b[0] = (struct delwin_bucket){v[0] + window, v[1], v[2]};
        w->n = 1;
        return 0;
    }
    for (p += 2; !delwin_at_end(p); w->n++) {
        if (w->n == DELWIN_MAX)
            goto bad;
        for (int i = 0; i < 3; i++)
            if (delwin_number(&p, &v[i]) != 0)
                goto bad;
        if (v[0] == 0 || (w->n > 0 && v[0] <= w->b[w->n - 1].end))
            goto bad;
        w->b[w->n] = (struct delwin_bucket){v[0], v[1], v[2]};
    }
    return 0;
bad:
    w->n = 0;
    return -1;
}

void delwin_expire(struct delwin *w, uint64_t window, uint64_t now)
{
    uint64_t cur = delwin_bucket_end(window, now);
    size_t k = 0;

    for (size_t i = 0; i < w->n; i++) {
        struct delwin_bucket b = w->b[i];
        if (b.end <= now && now - b.end >= window)
            continue;
        if (b.end > cur) /* from later than now: counts from now on, never dropped */
            b.end = cur;
        if (k > 0 && w->b[k - 1].end == b.end) /* ends increase: only clamped ones meet */
            w->b[k - 1].removed = delwin_sat_add(w->b[k - 1].removed, b.removed);
        else
            w->b[k++] = b;
    }
    w->n = k;
}

uint64_t delwin_removed(const struct delwin *w)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < w->n; i++)
        sum = delwin_sat_add(sum, w->b[i].removed);
    return sum;
}

uint64_t delwin_base(const struct delwin *w, uint64_t previous)
{
    return w->n > 0 && w->b[0].base > previous ? w->b[0].base : previous;
}

void delwin_add(struct delwin *w, uint64_t window, uint64_t now, uint64_t removed,
                uint64_t previous)
{
    uint64_t end = delwin_bucket_end(window, now);
    size_t i;

    if (removed == 0)
        return;
    for (i = 0; i < w->n && w->b[i].end < end; i++)
        ;
    if (i < w->n && w->b[i].end == end) {
        w->b[i].removed = delwin_sat_add(w->b[i].removed, removed);
        return;
    }
    if (w->n == DELWIN_MAX) {
        delwin_merge_oldest(w);
        if (i > 0) /* b[0] and b[1] are one now; end is not theirs (met above) */
            i--;
    }
    memmove(&w->b[i + 1], &w->b[i], (w->n - i) * sizeof(w->b[0]));
    w->b[i] = (struct delwin_bucket){end, previous, removed};
    w->n++;
}

/* delwin_write - w's text form into buf (cap bytes); its length (>= cap: cut) */
static size_t delwin_write(const struct delwin *w, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    if (w->n == 0)
        return 0;
    len = (size_t)snprintf(buf, cap, "v2");
    for (size_t i = 0; i < w->n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, " %" PRIu64 " %" PRIu64 " %" PRIu64,
                                w->b[i].end, w->b[i].base, w->b[i].removed);
    return len;
}

int delwin_format(const struct delwin *w, char *buf, size_t cap)
{
    struct delwin t = *w;

    if (cap < DELWIN_TEXT)
        return -1;
    /* one bucket is at most 2 + 3 * 21 bytes: the loop ends */
    while (delwin_write(&t, buf, DELWIN_TEXT) >= DELWIN_TEXT)
        delwin_merge_oldest(&t);
    return 0;
}
