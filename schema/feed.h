/*
 * feed - the wire format hubs serve and edges read: /v1/snapshot and /v1/changes.
 *
 * A feed is one header, records, and a trailer. All integers are big-endian.
 *
 *   header (FEED_HEADER = 32 bytes)
 *     0   8  magic "RCPTFEED"
 *     8   2  format version (FEED_VERSION = 2; version 1 is still read: see below)
 *     10  1  kind: 'S' snapshot (the whole store) or 'C' changes
 *     11  1  flags: FEED_FLAG_KEYED (0x01) the trailer is an HMAC; other bits zero (format 1:
 *            always zero)
 *     12  8  from: the generation the reader must have (snapshot: 0)
 *     20  8  to: the generation the reader has after applying the feed (from <= to)
 *     28  4  zero
 *   record (5 + L bytes, L <= FEED_MAX_RECORD)
 *     0   1  type (below)
 *     1   4  L, payload length
 *     5   L  payload: 2-byte key length K, K bytes of key, then the value (L - 2 - K bytes)
 *   trailer: a record of type 'Z' whose payload is 8 bytes (the number of records before
 *     it) and 32 bytes: the SHA-256 of every byte of the feed before the trailer record, or,
 *     in a keyed feed, the HMAC-SHA-256 of those bytes under the hub's feed token.
 *
 * Keys (format 2): a hub with a feed token keys its feeds with it, so that a feed altered on
 * the way (an http:// upstream, a proxy) or made by anyone without the token fails at the
 * trailer, before anything is committed. A reader that has a key (the edge's token_file)
 * accepts only keyed feeds (FEED_ERR_UNKEYED: a downgrade would let anyone forge one); a
 * reader without a key refuses keyed feeds (FEED_ERR_KEYED: it could not check them).
 * Format 1 (no flags, a plain SHA-256) is read as an unkeyed feed: by readers without a key.
 * Upgrade the hub first: a format-1 reader refuses format 2 (FEED_ERR_VERSION).
 *
 * Record types (enum feed_type): in snapshots FEED_ADDR 'A' (key: address, value: struct rcpt
 * record) and FEED_DOMAIN 'M' (key: managed domain, value: the store's domain value, 1 byte
 * 'c' configured or 'd' derived); in change feeds the change-log operations of store_rec.h
 * (enum store_op): '+' and '~' (address, rcpt record), '-' (address, no value), 'D' and 'X'
 * (domain, no value). Keys are 1..FEED_MAX_KEY bytes; address and domain keys at most
 * ADDR_MAX. Values are checked with the store's own codecs (rcpt_decode(),
 * store_domain_decode()). Format 1 once also named 'E' (an entry's address list); no hub
 * ever sent it, and the decoder refuses it like any other unknown type.
 *
 * The decoder is pushed bytes in pieces of any size (as libcurl delivers them), trusts no
 * length, keeps at most one record in its own fixed buffer, and reports every malformation
 * with its own error. A reader applies records as they come into an uncommitted
 * transaction and commits only when feed_dec_finish() says the trailer verified.
 */
#ifndef RCPTDIR_FEED_H
#define RCPTDIR_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"
#include "schema/err.h"
#include "schema/rcpt.h"
#include "schema/store_rec.h"

#define FEED_MAGIC        "RCPTFEED"
#define FEED_VERSION      2
#define FEED_VERSION_MIN  1    /* the oldest format still read */
#define FEED_FLAG_KEYED   0x01 /* header byte 11 */
#define FEED_HEADER       32
#define FEED_MAX_RECORD   65536
#define FEED_MAX_KEY      RCPT_ENTRY_MAX
#define FEED_TRAILER_SIZE (5 + 8 + SHA256_SIZE)

enum feed_kind { FEED_SNAPSHOT = 'S', FEED_CHANGES = 'C' };

/* record types besides the change-log ops (enum store_op), which change feeds carry */
enum feed_type { FEED_ADDR = 'A', FEED_DOMAIN = 'M', FEED_TRAILER = 'Z' };

/* enum feed_err (FEED_ERR_*): the error registry, schema/err.h */

struct feed_header {
    enum feed_kind kind;
    uint64_t from, to;
};

struct feed_record {
    int type;        /* enum feed_type or enum store_op */
    const char *key; /* borrowed from the decoder's buffer, valid during the callback */
    size_t keylen;
    const unsigned char *val;
    size_t vallen;
};

/* ---- encoding ---- */

struct feed_enc {
    struct sha256 sha;
    struct hmac_sha256 mac; /* a keyed feed's */
    int keyed;
    uint64_t count;
};

/* feed_enc_header - start an unkeyed feed: writes FEED_HEADER bytes into out */
void feed_enc_header(struct feed_enc *e, unsigned char out[FEED_HEADER],
                     const struct feed_header *h);
/* feed_enc_header_keyed - start a feed keyed with key (keylen 0: unkeyed, as above) */
void feed_enc_header_keyed(struct feed_enc *e, unsigned char out[FEED_HEADER],
                           const struct feed_header *h, const void *key, size_t keylen);
/* feed_enc_record - one record into out (cap bytes); returns its length, or 0 if it cannot
 * be encoded (too long, or out too small) */
size_t feed_enc_record(struct feed_enc *e, unsigned char *out, size_t cap, int type,
                       const void *key, size_t keylen, const void *val, size_t vallen);
/* feed_enc_trailer - finish: writes FEED_TRAILER_SIZE bytes into out */
void feed_enc_trailer(struct feed_enc *e, unsigned char out[FEED_TRAILER_SIZE]);

/* ---- decoding ---- */

/* Called once with r == NULL when the header is read, then once per record. A non-zero
 * return stops the decoder, which returns FEED_ERR_STOPPED and keeps the callback's code
 * (feed_dec_stopped()): the reader's codes never mix with the format's. */
typedef int (*feed_cb)(void *ctx, const struct feed_header *h, const struct feed_record *r);

struct feed_dec {
    int state; /* 0 header, 1 record head, 2 record body, 3 done */
    struct feed_header h;
    int version;            /* the feed's format version, once its header is read */
    int haskey, keyed;      /* the reader has a key (feed_dec_key); the feed is keyed */
    struct hmac_sha256 mac; /* under the reader's key */
    struct sha256 sha;
    uint64_t count;
    uint64_t bytes;
    size_t have, need;
    int type;
    int stopped; /* the callback's non-zero return, after FEED_ERR_STOPPED */
    unsigned char buf[5 + FEED_MAX_RECORD];
};

void feed_dec_init(struct feed_dec *d);
/* feed_dec_key - after feed_dec_init: the key a keyed feed must verify with (the feed token);
 * only keyed feeds are then accepted */
void feed_dec_key(struct feed_dec *d, const void *key, size_t keylen);
/* feed_dec_push - decode len more bytes; 0 or an enum feed_err (FEED_ERR_STOPPED: the
 * callback returned non-zero, which feed_dec_stopped() gives) */
int feed_dec_push(struct feed_dec *d, const void *data, size_t len, feed_cb cb, void *ctx);
/* feed_dec_stopped - the callback's code after FEED_ERR_STOPPED, else 0 */
int feed_dec_stopped(const struct feed_dec *d);
/* feed_dec_finish - 0 when the trailer was read and verified, else FEED_ERR_TRUNCATED */
int feed_dec_finish(const struct feed_dec *d);

/* feed_strerror - err_strerror() (schema/err.h) */
const char *feed_strerror(int err);

#endif
