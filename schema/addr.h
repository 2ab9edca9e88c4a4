/*
 * addr - the address rules: untrusted text in, lookup key out.
 *
 * Both daemons call addr_normalize() on every address, so the key syncd stores and the
 * key lookupd looks up match byte for byte (design.md "Rules of the data"):
 *   - spaces and tabs around the address are trimmed;
 *   - the domain is lower-cased (ASCII; UTF-8 labels are kept as they are), one trailing
 *     dot is dropped, labels must be non-empty, at most 63 octets, of letters, digits,
 *     '-', '_' or UTF-8; "[literal]" domains are accepted;
 *   - the local part is lower-cased too unless ADDR_CASE_SENSITIVE;
 *   - a quoted local part ("john doe"@d) is stored unquoted: Postfix's internal form,
 *     which is what the MTA sends, so "john doe@d" is accepted as it is and finds it;
 *     one that cannot be unquoted into a key that normalizes to itself (empty, starting
 *     with a quote, with spaces at its ends) is taken as it stands, quotes and all; a
 *     quoted '@' is a second '@'. Every key has one '@' and normalizes to itself;
 *   - invalid: no '@', a second '@', over 254 octets, a local part over 64, control
 *     characters (NUL, CR, LF, ...), malformed UTF-8, an empty local part (unless
 *     ADDR_CATCHALL allows "@domain"), a malformed domain.
 *
 * Lookups resolve a key in a pinned order (tests/data/addr/resolve.ref): the exact key,
 * then the key with the recipient extension removed (user+tag@d -> user@d; the delimiter
 * is any one of a set of characters, as Postfix's recipient_delimiter), then the
 * catch-all "@d".
 *
 * Nothing here allocates or logs; output goes to caller buffers with explicit sizes.
 */
#ifndef RCPTDIR_ADDR_H
#define RCPTDIR_ADDR_H

#include <stddef.h>

#define ADDR_MAX       254  /* octets of a whole address */
#define ADDR_LOCAL_MAX 64   /* octets of a local part */
#define ADDR_LABEL_MAX 63   /* octets of a domain label */
#define ADDR_KEY_SIZE  256  /* a buffer that holds any key with its NUL */
#define ADDR_INPUT_MAX 1024 /* longer input is refused before it is looked at */

/* Flags of addr_normalize(). */
#define ADDR_CASE_SENSITIVE 0x1 /* keep the local part's case */
#define ADDR_CATCHALL       0x2 /* accept "@domain" (the directory's catch-all form) */
#define ADDR_GENERAL_ONLY   0x4 /* tests: skip the one-pass path for the usual address */

enum addr_err {
    ADDR_ERR_EMPTY = -1,
    ADDR_ERR_NOAT = -2,
    ADDR_ERR_TWOAT = -3,
    ADDR_ERR_TOOLONG = -4,
    ADDR_ERR_LOCALTOOLONG = -5,
    ADDR_ERR_CONTROL = -6,
    ADDR_ERR_UTF8 = -7,
    ADDR_ERR_LOCAL = -8, /* empty local part, or a character it may not hold */
    ADDR_ERR_QUOTE = -9, /* unbalanced or misplaced quotes */
    ADDR_ERR_DOMAIN = -10,
    ADDR_ERR_BUFFER = -11, /* dst too small */
};

/*
 * addr_normalize - validate in[0..inlen) and write its key into dst (dstlen bytes,
 * NUL-terminated). Returns the key's length, or an enum addr_err (< 0).
 */
int addr_normalize(char *dst, size_t dstlen, const char *in, size_t inlen, unsigned flags);

/* addr_normalize_domain - the same rules for a bare domain (the `domain` map) */
int addr_normalize_domain(char *dst, size_t dstlen, const char *in, size_t inlen);

/* addr_strerror - text of an enum addr_err */
const char *addr_strerror(int err);

/* addr_domain - the domain of a key (after its last '@'); key must be a valid key */
const char *addr_domain(const char *key, size_t keylen, size_t *domlen);

/*
 * addr_proxy_value - for an AD proxyAddresses value: when it starts with "smtp:" (any
 * case) return a pointer to the address after it and set *primary when the prefix was
 * upper-case "SMTP:" (AD's primary address). Other types (X400:, SIP:, ...) give NULL.
 */
const char *addr_proxy_value(const char *v, size_t len, int *primary);

#define ADDR_MAX_CANDIDATES 3

enum addr_match { ADDR_MATCH_EXACT = 0, ADDR_MATCH_EXTENSION, ADDR_MATCH_CATCHALL };

struct addr_candidates {
    size_t n;
    enum addr_match match[ADDR_MAX_CANDIDATES];
    size_t len[ADDR_MAX_CANDIDATES];
    char key[ADDR_MAX_CANDIDATES][ADDR_KEY_SIZE];
};

/*
 * addr_candidates - the keys to try, in order, for a normalized key: exact, extension
 * removed (when the local part holds one of the delimiters after its first character),
 * catch-all. delims may be NULL or "" for none.
 */
void addr_candidates(const char *key, size_t keylen, const char *delims,
                     struct addr_candidates *out);

/* addr_match_name - "exact", "extension", "catch-all" */
const char *addr_match_name(enum addr_match m);

#endif
