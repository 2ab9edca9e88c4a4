/*
 * store_rec - the codecs of every value and key the store holds besides the address record
 * (schema/rcpt.h): change-log keys and records, entry lists, domain values, numeric meta
 * values. No other file writes or parses these bytes; store.h says where each one lives.
 *
 * Byte layouts (integers little-endian unless said otherwise):
 *
 *   log key (STORE_LOG_KEY_SIZE = 12 bytes): 8-byte BIG-endian generation, 4-byte
 *     big-endian sequence, so that LMDB's byte order is (generation, sequence) order.
 *
 *   log record: 1 byte op (enum store_op), 2-byte key length K (1..ADDR_MAX), K bytes of
 *     key, then for STORE_OP_ADD and STORE_OP_CHANGE the new address record (rcpt.h), for
 *     the other ops nothing. Address ops carry an address key, domain ops a domain.
 *
 *   entry list (value of "entry"): STORE_ENTRY_MARK twice (0xff 0xff: no key is 65535
 *     bytes long), 1 byte state (enum rcpt_state), 1 byte kind of the primary (RCPT_USER or
 *     RCPT_GROUP), 2-byte number of keys N (0: more than 65535, not counted), then the
 *     entry's address keys (N of them when counted), the
 *     primary first, each as 2-byte length (1..ADDR_MAX) + bytes. Every other key of the
 *     entry is an alias: the list says everything the entry's address records say. A value
 *     without the mark (written before the mark existed) is the key list alone; it decodes
 *     with state and kind 0 (unknown), and a cut at a key boundary cannot be seen in it.
 *
 *   domain value (of "domain"): 1 byte, enum store_domain_kind.
 *
 *   numeric meta value: decimal digits, no sign, no spaces, at most 20 of them.
 *
 *   history record (meta "history:" + 20-digit sequence, store.h): 1 byte version (1), 1 byte
 *     result (enum store_hist_result), 8-byte end time (unix seconds), 4-byte duration (ms),
 *     8-byte generation before, 8-byte generation after, 8-byte added, 8-byte changed,
 *     8-byte removed (addresses), then the source as 2-byte length (0..STORE_HIST_SOURCE_MAX)
 *     + bytes and the error as 2-byte length (0..STORE_HIST_ERROR_MAX) + bytes; nothing after.
 *
 * Decoders trust no length: every value shorter or longer than its lengths say, an unknown
 * op or kind, an empty or over-long key is STORE_ERR_CORRUPT (store.h). Decoded pointers
 * borrow the caller's bytes. Encoders write into a caller buffer and return the length, or
 * -1 when it does not fit or a field is out of range; they allocate nothing.
 */
#ifndef RCPTDIR_STORE_REC_H
#define RCPTDIR_STORE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "schema/rcpt.h"

/* ---- change-log key ---- */

#define STORE_LOG_KEY_SIZE 12

/* store_log_key - the log key of (generation, sequence) */
void store_log_key(unsigned char key[STORE_LOG_KEY_SIZE], uint64_t generation, uint32_t seq);
/* store_log_key_decode - 0, or STORE_ERR_CORRUPT when len is not STORE_LOG_KEY_SIZE; seq may be
 * NULL */
int store_log_key_decode(const void *key, size_t len, uint64_t *generation, uint32_t *seq);

/* ---- change-log record ---- */

enum store_op {
    STORE_OP_ADD = '+',           /* address added (record follows) */
    STORE_OP_CHANGE = '~',        /* address changed (record follows) */
    STORE_OP_REMOVE = '-',        /* address removed */
    STORE_OP_DOMAIN_ADD = 'D',    /* managed domain added */
    STORE_OP_DOMAIN_REMOVE = 'X', /* managed domain removed */
};

#define STORE_LOG_HEADER 3
#define STORE_LOG_MAX    (STORE_LOG_HEADER + ADDR_MAX + RCPT_MAX)

struct store_log_rec {
    enum store_op op;
    const char *key;
    size_t keylen;
    const unsigned char *rec; /* the rcpt record (ADD, CHANGE), else NULL */
    size_t reclen;
};

/* store_op_valid - 1 when c is an enum store_op */
int store_op_valid(int c);
/* store_op_has_record - 1 for the ops followed by an address record */
int store_op_has_record(enum store_op op);
/* store_log_encode - the record into dst (STORE_LOG_MAX bytes suffice); length or -1 */
int store_log_encode(unsigned char *dst, size_t cap, const struct store_log_rec *l);
/* store_log_decode - 0 or STORE_ERR_CORRUPT; an address record must decode (rcpt_decode) */
int store_log_decode(struct store_log_rec *l, const void *src, size_t len);

/* ---- entry list ---- */

#define STORE_ENTRY_MARK   0xff
#define STORE_ENTRY_HEADER 6
/* bytes one key takes in an entry list */
#define STORE_ENTRY_ITEM(len) (2 + (len))

struct store_entry {
    enum rcpt_state state; /* 0: unknown (a value without the mark) */
    enum rcpt_kind kind;   /* of the primary; 0: unknown */
    size_t nkeys;
    const unsigned char *keys; /* the key items, borrowed */
    size_t keyslen;
};

/* store_entry_encode_head - the first STORE_ENTRY_HEADER bytes, for nkeys keys; length or -1 */
int store_entry_encode_head(unsigned char *dst, size_t cap, enum rcpt_state state,
                            enum rcpt_kind kind, size_t nkeys);
/* store_entry_encode_key - one key (the primary first) into dst; length or -1 */
int store_entry_encode_key(unsigned char *dst, size_t cap, const char *key, size_t len);
/* store_entry_decode - check a whole entry list and describe it; 0 or STORE_ERR_CORRUPT */
int store_entry_decode(struct store_entry *e, const void *src, size_t len);
/* store_entry_next - the key at *off (start with 0) of a decoded list, advancing *off:
 * 1, or 0 after the last */
int store_entry_next(const struct store_entry *e, size_t *off, const char **key, size_t *len);

/* ---- domain value ---- */

enum store_domain_kind { STORE_DOMAIN_CONFIGURED = 'c', STORE_DOMAIN_DERIVED = 'd' };

#define STORE_DOMAIN_VALUE_SIZE 1

/* store_domain_decode - 0 or STORE_ERR_CORRUPT */
int store_domain_decode(const void *src, size_t len, enum store_domain_kind *kind);

/* ---- numeric meta value ---- */

#define STORE_META_U64_SIZE 21 /* 20 digits and a NUL */

/* store_meta_u64_encode - v in decimal into buf, NUL-terminated; returns the length */
int store_meta_u64_encode(char buf[STORE_META_U64_SIZE], uint64_t v);
/* store_meta_u64_decode - 0 or STORE_ERR_CORRUPT (empty, not all digits, over 64 bits) */
int store_meta_u64_decode(const void *src, size_t len, uint64_t *v);

/* ---- sync history record ---- */

enum store_hist_result {
    STORE_HIST_OK = 'o',      /* committed (changed or not) */
    STORE_HIST_REFUSED = 'r', /* a safety rule refused it */
    STORE_HIST_FAILED = 'f',  /* the source failed; nothing written */
};

#define STORE_HIST_VERSION    1
#define STORE_HIST_HEADER     54
#define STORE_HIST_SOURCE_MAX 255
#define STORE_HIST_ERROR_MAX  1023
#define STORE_HIST_MAX        (STORE_HIST_HEADER + 2 + STORE_HIST_SOURCE_MAX + 2 + STORE_HIST_ERROR_MAX)

/* one sync attempt; source and error borrowed (not NUL-terminated when decoded) */
struct store_hist {
    uint64_t time; /* unix seconds, when the attempt ended */
    uint32_t duration_ms;
    enum store_hist_result result;
    uint64_t gen_before, gen_after;
    uint64_t added, changed, removed;
    const char *source;
    size_t sourcelen;
    const char *error;
    size_t errorlen;
};

/* store_hist_result_name - "ok", "refused", "failed" (or "?") */
const char *store_hist_result_name(enum store_hist_result r);
/* store_hist_encode - into dst (STORE_HIST_MAX bytes suffice); over-long source and error are
 * cut at their maximum (at a UTF-8 character boundary); length or -1 */
int store_hist_encode(unsigned char *dst, size_t cap, const struct store_hist *h);
/* store_hist_decode - 0 or STORE_ERR_CORRUPT */
int store_hist_decode(struct store_hist *h, const void *src, size_t len);

#endif
