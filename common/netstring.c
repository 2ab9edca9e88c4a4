/*
 * netstring - encoder and bounded incremental decoder; see netstring.h.
 */
#include "common/netstring.h"

#include <string.h>

/* ns_decode - parse one netstring, or say what is missing or wrong */
enum ns_status ns_decode(const char *buf, size_t len, size_t maxlen, const char **payload,
                         size_t *plen, size_t *consumed)
{
    size_t i, n = 0;

    if (len == 0)
        return NS_MORE;
    if (buf[0] < '0' || buf[0] > '9')
        return NS_ERR_NODIGIT;
    for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
        if (i >= NS_MAX_DIGITS)
            return NS_ERR_TOOLONG;
        n = n * 10 + (size_t)(buf[i] - '0');
        if (n > maxlen)
            return NS_ERR_TOOLONG;
    }
    if (i == len)
        return NS_MORE;
    if (buf[i] != ':')
        return NS_ERR_BADCHAR;
    i++;
    if (len - i < n + 1)
        return NS_MORE;
    if (buf[i + n] != ',')
        return NS_ERR_NOCOMMA;
    *payload = buf + i;
    *plen = n;
    *consumed = i + n + 1;
    return NS_OK;
}

const char *ns_strerror(enum ns_status status)
{
    switch (status) {
    case NS_OK:
        return "ok";
    case NS_MORE:
        return "incomplete netstring";
    case NS_ERR_NODIGIT:
        return "netstring length is not a number";
    case NS_ERR_BADCHAR:
        return "netstring length not followed by ':'";
    case NS_ERR_TOOLONG:
        return "netstring too long";
    case NS_ERR_NOCOMMA:
        return "netstring not terminated by ',' (length mismatch)";
    }
    return "unknown netstring error";
}

size_t ns_encoded_len(size_t plen)
{
    size_t digits = 1;
    for (size_t v = plen; v >= 10; v /= 10)
        digits++;
    return digits + 1 + plen + 1;
}

/* ns_encode - "len:data," into dst */
size_t ns_encode(char *dst, size_t dstlen, const char *data, size_t plen)
{
    size_t need = ns_encoded_len(plen), hdr = need - plen - 1; /* digits and ':' */

    if (dstlen < need)
        return 0;
    dst[hdr - 1] = ':';
    for (size_t i = hdr - 1, v = plen; i-- > 0; v /= 10) /* digits, last first */
        dst[i] = (char)('0' + v % 10);
    memmove(dst + hdr, data, plen);
    dst[hdr + plen] = ',';
    return need;
}
