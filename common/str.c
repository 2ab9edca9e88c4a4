/*
 * str - bounded copy and trimming; see str.h.
 */
#include "common/str.h"

#include <string.h>

size_t str_copy(char *dst, const char *src, size_t dstlen)
{
    size_t n = strlen(src);

    if (dstlen > 0) {
        size_t c = n < dstlen - 1 ? n : dstlen - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

static int str_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *str_trim(char *s)
{
    size_t start = 0, end = strlen(s);

    while (start < end && str_is_space(s[start]))
        start++;
    while (end > start && str_is_space(s[end - 1]))
        end--;
    memmove(s, s + start, end - start);
    s[end - start] = '\0';
    return s;
}

int str_is_blank(const char *s)
{
    if (s == NULL)
        return 1;
    for (; *s; s++)
        if (!str_is_space(*s))
            return 0;
    return 1;
}

size_t str_hex(char *dst, size_t dstlen, const void *src, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *u = src;
    size_t i;

    if (dstlen == 0)
        return 0;
    if (n > (dstlen - 1) / 2)
        n = (dstlen - 1) / 2;
    for (i = 0; i < n; i++) {
        dst[2 * i] = digits[u[i] >> 4];
        dst[2 * i + 1] = digits[u[i] & 15];
    }
    dst[2 * n] = '\0';
    return 2 * n;
}

int str_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
