/*
 * rcpt - the record stored for each address key in the store's "addr" database.
 *
 * Byte layout, format 1 (all integers little-endian):
 *
 *   offset size  field
 *   0      1     record version (RCPT_VERSION = 1)
 *   1      1     kind:  1 user, 2 group, 3 alias
 *   2      1     state: 1 active, 2 disabled
 *   3      1     flags: bit 0 = catch-all key; others zero
 *   4      2     P = length of the primary address (1..ADDR_MAX)
 *   6      2     E = length of the entry id (1..RCPT_ENTRY_MAX)
 *   8      P     primary address (a normalized key, no NUL)
 *   8+P    E     entry id (the directory's stable id: entryUUID, objectGUID as text, or DN)
 *
 * The record is exactly 8 + P + E bytes; rcpt_decode() refuses anything else.
 * Decoded strings point into the encoded bytes (borrowed: copy them before an LMDB
 * transaction ends). rcpt_encode() writes into a caller buffer of RCPT_MAX bytes.
 */
#ifndef RCPTDIR_RCPT_H
#define RCPTDIR_RCPT_H

#include <stddef.h>
#include <stdint.h>

#include "schema/addr.h"

#define RCPT_VERSION   1
#define RCPT_HEADER    8
#define RCPT_ENTRY_MAX 512
#define RCPT_MAX       (RCPT_HEADER + ADDR_MAX + RCPT_ENTRY_MAX)

enum rcpt_kind { RCPT_USER = 1, RCPT_GROUP = 2, RCPT_ALIAS = 3 };
enum rcpt_state { RCPT_ACTIVE = 1, RCPT_DISABLED = 2 };
#define RCPT_FLAG_CATCHALL 0x01

struct rcpt {
    enum rcpt_kind kind;
    enum rcpt_state state;
    unsigned flags;
    const char *primary;
    size_t primary_len;
    const char *entry;
    size_t entry_len;
};

enum rcpt_err {
    RCPT_ERR_SHORT = -1,   /* fewer bytes than the header or the lengths claim */
    RCPT_ERR_VERSION = -2, /* unknown record version */
    RCPT_ERR_FIELD = -3,   /* kind, state or flags out of range */
    RCPT_ERR_LENGTH = -4,  /* a length out of range, or bytes left over */
};

/* rcpt_encode - write r into dst (dstlen >= RCPT_MAX suffices); returns length or -1 */
int rcpt_encode(unsigned char *dst, size_t dstlen, const struct rcpt *r);

/* rcpt_decode - parse src[0..len) into r (strings borrowed from src); 0 or rcpt_err */
int rcpt_decode(struct rcpt *r, const void *src, size_t len);

/* rcpt_equal - 1 when two records say the same thing */
int rcpt_equal(const struct rcpt *a, const struct rcpt *b);

const char *rcpt_strerror(int err);
const char *rcpt_kind_name(enum rcpt_kind kind);
const char *rcpt_state_name(enum rcpt_state state);

#endif
