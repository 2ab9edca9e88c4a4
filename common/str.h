/*
 * str - small string helpers glibc 2.36 lacks. No allocation; callers own every buffer.
 */
#ifndef RCPTDIR_STR_H
#define RCPTDIR_STR_H

#include <stddef.h>

/* str_copy - strlcpy: copy src into dst (dstlen bytes, NUL-terminated); returns strlen(src) */
size_t str_copy(char *dst, const char *src, size_t dstlen);

/* str_trim - strip spaces, tabs, CR and LF at both ends of s, in place; returns s */
char *str_trim(char *s);

/* str_hexval - the value of a hexadecimal digit (either case), or -1 */
int str_hexval(char c);

/*
 * str_hex - src[0..n) as lower-case hex digits into dst (dstlen bytes, NUL-terminated): as
 * many whole bytes as fit; returns the number of digits written
 */
size_t str_hex(char *dst, size_t dstlen, const void *src, size_t n);

/* str_is_blank - 1 when s is NULL, empty or only spaces and tabs */
int str_is_blank(const char *s);

#endif
