/*
 * cidr - IP addresses and networks as text: parse, match, mask, format. IPv4 addresses are
 * held as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), so one 16-byte form covers both
 * families, and "::ffff:192.0.2.1" (how a dual-stack socket reports an IPv4 peer) is the same
 * address as "192.0.2.1". A network's prefix length is always given in the family the text
 * was written in (192.0.2.0/24, 2001:db8::/32) and kept in the 128-bit form.
 *
 * Nothing here allocates or logs; every output goes into the caller's struct or buffer.
 * Errors: -1 (with a message in err for cidr_check()).
 */
#ifndef RCPTDIR_CIDR_H
#define RCPTDIR_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define CIDR_TEXT_MAX 64 /* "ffff:...:ffff/128" and its NUL, with room to spare */

struct cidr_addr {
    uint8_t b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
};

struct cidr_net {
    struct cidr_addr addr; /* masked to plen */
    int plen;              /* 0..128, of the 128-bit form */
};

/* cidr_addr_parse - an IPv4 or IPv6 address, s[0..len), no brackets or zone: 0 or -1 */
int cidr_addr_parse(const char *s, size_t len, struct cidr_addr *a);

/* cidr_is_v4 - 1 when a is an IPv4 address (IPv4-mapped) */
int cidr_is_v4(const struct cidr_addr *a);

/* cidr_mask - a with every bit after the first plen (of 128) cleared */
void cidr_mask(const struct cidr_addr *a, int plen, struct cidr_addr *out);

/* cidr_net_parse - "ADDR" (a host) or "ADDR/LEN" (LEN in ADDR's family): 0 or -1 */
int cidr_net_parse(const char *s, struct cidr_net *n);

/* cidr_match - 1 when a is inside n */
int cidr_match(const struct cidr_net *n, const struct cidr_addr *a);

/* cidr_format - "192.0.2.7", or with plen < 128 "192.0.2.0/24" (the family's own length) */
void cidr_format(const struct cidr_addr *a, int plen, char *buf, size_t len);

/* cidr_check - a cfg_key check: 0 when s parses as a network */
int cidr_check(const char *s, char *err, size_t errlen);

#endif
