/*
 * cidr - addresses and networks; see cidr.h.
 */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t cidr_v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int cidr_is_v4(const struct cidr_addr *a)
{
    return memcmp(a->b, cidr_v4_prefix, sizeof(cidr_v4_prefix)) == 0;
}

int cidr_addr_parse(const char *s, size_t len, struct cidr_addr *a)
{
    char text[CIDR_TEXT_MAX];

    if (len == 0 || len >= sizeof(text))
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    if (memchr(s, ':', len) == NULL) {
        memcpy(a->b, cidr_v4_prefix, sizeof(cidr_v4_prefix));
        return inet_pton(AF_INET, text, a->b + 12) == 1 ? 0 : -1;
    }
    return inet_pton(AF_INET6, text, a->b) == 1 ? 0 : -1;
}

void cidr_mask(const struct cidr_addr *a, int plen, struct cidr_addr *out)
{
    for (int i = 0; i < 16; i++) {
        int bits = plen - i * 8;
        uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        out->b[i] = a->b[i] & m;
    }
}

int cidr_net_parse(const char *s, struct cidr_net *n)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    int v4, plen;

    if (cidr_addr_parse(s, alen, &n->addr) < 0)
        return -1;
    v4 = memchr(s, ':', alen) == NULL;
    if (slash == NULL) {
        plen = v4 ? 32 : 128;
    } else {
        char *end;
        long l;

        if (slash[1] < '0' || slash[1] > '9')
            return -1;
        l = strtol(slash + 1, &end, 10);
        if (*end != '\0' || l > (v4 ? 32 : 128))
            return -1;
        plen = (int)l;
    }
    n->plen = v4 ? plen + 96 : plen;
    cidr_mask(&n->addr, n->plen, &n->addr);
    return 0;
}

int cidr_match(const struct cidr_net *n, const struct cidr_addr *a)
{
    struct cidr_addr m;

    cidr_mask(a, n->plen, &m);
    return memcmp(m.b, n->addr.b, sizeof(m.b)) == 0;
}

void cidr_format(const struct cidr_addr *a, int plen, char *buf, size_t len)
{
    char text[INET6_ADDRSTRLEN];
    int v4 = cidr_is_v4(a);

    if (v4)
        inet_ntop(AF_INET, a->b + 12, text, sizeof(text));
    else
        inet_ntop(AF_INET6, a->b, text, sizeof(text));
    if (plen >= 128)
        snprintf(buf, len, "%s", text);
    else
        snprintf(buf, len, "%s/%d", text, v4 ? plen - 96 : plen);
}

int cidr_check(const char *s, char *err, size_t errlen)
{
    struct cidr_net n;

    if (cidr_net_parse(s, &n) == 0)
        return 0;
    snprintf(err, errlen, "'%.64s' is not an IP address or network (ADDRESS[/LENGTH])", s);
    return -1;
}
