/*
 * xmalloc - allocate or exit; see xmalloc.h.
 */
#include "common/xmalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define EX_OSERR_STATUS 71

static void xmalloc_die(size_t size)
{
    fatal_status(EX_OSERR_STATUS, "out of memory allocating %zu bytes", size);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        xmalloc_die(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        xmalloc_die(n * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        xmalloc_die(size);
    return p;
}

void *xreallocarray(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        xmalloc_die(SIZE_MAX);
    return xrealloc(ptr, n * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        xmalloc_die(0);
    va_end(ap);
    return p;
}
