/*
 * xmalloc - allocation that succeeds or does not return (exit 71, EX_OSERR).
 *
 * For start-up code and rcptdir-syncd, where running out of memory leaves nothing
 * sensible to do. lookupd's request paths do not allocate per request.
 * Every pointer returned is the caller's to free().
 */
#ifndef RCPTDIR_XMALLOC_H
#define RCPTDIR_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xasprintf - allocate a formatted string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
