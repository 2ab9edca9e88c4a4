/*
 * sha256 - SHA-256 (FIPS 180-4), incremental. No allocation; the caller owns the context.
 * Used for the feed trailer checksum (schema/feed.h), keyed with HMAC when the hub has a
 * feed token; no dependency on a crypto library.
 */
#ifndef RCPTDIR_SHA256_H
#define RCPTDIR_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

struct sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    unsigned char buf[64];
    size_t nbuf;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_SIZE]);

/* HMAC-SHA-256 (RFC 2104, test vectors RFC 4231): keys longer than the 64-byte block are
 * hashed first. The context holds the key's outer pad: explicit_bzero() it after use (the
 * final call does). */
struct hmac_sha256 {
    struct sha256 inner;
    unsigned char opad[64];
};

void hmac_sha256_init(struct hmac_sha256 *c, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *c, const void *data, size_t len);
void hmac_sha256_final(struct hmac_sha256 *c, unsigned char out[SHA256_SIZE]);

#endif
