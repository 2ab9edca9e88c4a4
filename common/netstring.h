/*
 * netstring - encode and incrementally decode netstrings ("5:hello,").
 *
 * The decoder works on bytes the caller has accumulated so far: call ns_decode() each
 * time more arrive. It never allocates, never reads past len, checks the length digit by
 * digit against the caller's limit before it waits for the payload (a 100 MB claim is
 * refused after the ninth digit), and names each malformation with its own error.
 * The payload it returns points into the caller's buffer (borrowed).
 *
 * Leading zeros in the length are accepted ("05:hello,"), as Postfix does.
 */
#ifndef RCPTDIR_NETSTRING_H
#define RCPTDIR_NETSTRING_H

#include <stddef.h>

enum ns_status {
    NS_OK = 0,           /* one netstring decoded */
    NS_MORE = 1,         /* well-formed so far; more bytes needed */
    NS_ERR_NODIGIT = -1, /* the length does not start with a digit */
    NS_ERR_BADCHAR = -2, /* the length is followed by something other than ':' */
    NS_ERR_TOOLONG = -3, /* the length exceeds the caller's limit */
    NS_ERR_NOCOMMA = -4, /* no ',' after the payload: length and data disagree */
};

/* Most length digits ns_decode() reads: enough for SIZE_MAX, no overflow possible. */
#define NS_MAX_DIGITS 18

/*
 * ns_decode - decode one netstring at the start of buf[0..len).
 * On NS_OK sets *payload, *plen and *consumed (bytes of the whole netstring).
 * maxlen bounds the payload length (must be below 10^NS_MAX_DIGITS).
 */
enum ns_status ns_decode(const char *buf, size_t len, size_t maxlen, const char **payload,
                         size_t *plen, size_t *consumed);

/* ns_strerror - the text of a status */
const char *ns_strerror(enum ns_status status);

/* ns_encoded_len - bytes ns_encode() writes for a payload of plen bytes */
size_t ns_encoded_len(size_t plen);

/*
 * ns_encode - write data[0..plen) as a netstring into dst (dstlen bytes, no NUL added).
 * Returns the number of bytes written, or 0 if dst is too small.
 */
size_t ns_encode(char *dst, size_t dstlen, const char *data, size_t plen);

#endif
