/*
 * sockmap_proto - socketmap request parser and reply writer; see sockmap_proto.h.
 */
#include "lookupd/sockmap_proto.h"

#include <string.h>

#include "common/netstring.h"

/* Texts of the access(5) actions; Postfix shows "<addr>: Recipient address rejected: TEXT". */
#define SOCKMAP_TEXT_UNKNOWN  "User unknown"
#define SOCKMAP_TEXT_DISABLED "Mailbox disabled"

static const char *const sockmap_names[SOCKMAP_NMAPS] = {"rcpt", "access", "domain"};

const char *sockmap_map_name(enum sockmap_map map)
{
    return map < SOCKMAP_NMAPS ? sockmap_names[map] : "?";
}

/* sockmap_ns_reason - the PERM text of a netstring error (no commas: easier for clients) */
static const char *sockmap_ns_reason(enum ns_status ns)
{
    switch (ns) {
    case NS_ERR_NODIGIT:
        return "netstring length is not a number";
    case NS_ERR_BADCHAR:
        return "netstring length not followed by a colon";
    case NS_ERR_TOOLONG:
        return "request too long";
    case NS_ERR_NOCOMMA:
        return "netstring length and data disagree";
    default:
        return ns_strerror(ns);
    }
}

enum sockmap_status sockmap_parse(const char *buf, size_t len, struct sockmap_req *req,
                                  size_t *consumed, const char **reason)
{
    const char *payload, *sp;
    size_t plen, namelen;
    enum ns_status ns;

    ns = ns_decode(buf, len, SOCKMAP_MAX_QUERY, &payload, &plen, consumed);
    if (ns == NS_MORE)
        return SOCKMAP_MORE;
    if (ns != NS_OK) {
        *reason = sockmap_ns_reason(ns);
        return SOCKMAP_PERM;
    }
    if ((sp = memchr(payload, ' ', plen)) == NULL) {
        *reason = plen == 0 ? "empty request" : "malformed request: no space after the map name";
        return SOCKMAP_PERM;
    }
    namelen = (size_t)(sp - payload);
    for (int m = 0; m < SOCKMAP_NMAPS; m++) {
        if (namelen == strlen(sockmap_names[m]) &&
            memcmp(payload, sockmap_names[m], namelen) == 0) {
            req->map = (enum sockmap_map)m;
            req->key = sp + 1;
            req->keylen = plen - namelen - 1;
            req->badkey = memchr(req->key, '\0', req->keylen) != NULL ||
                          memchr(req->key, '\r', req->keylen) != NULL ||
                          memchr(req->key, '\n', req->keylen) != NULL;
            return SOCKMAP_REQ;
        }
    }
    *reason = "unknown map name";
    return SOCKMAP_PERM;
}

/* answer_put - prefix and text into dst (dstlen bytes, NUL-terminated); the length, or 0
 * when it does not fit. On every lookup's path: no printf. */
static size_t answer_put(char *dst, size_t dstlen, const char *prefix, const char *text)
{
    size_t a = strlen(prefix), b = strlen(text);

    if (a + b >= dstlen)
        return 0;
    memcpy(dst, prefix, a);
    memcpy(dst + a, text, b);
    dst[a + b] = '\0';
    return a + b;
}

size_t sockmap_answer_text(enum sockmap_map map, const struct lookup_answer *ans, char *dst,
                           size_t dstlen)
{
    int access = map == SOCKMAP_ACCESS;

    switch (ans->result) {
    case LOOKUP_TEMPFAIL:
        return answer_put(dst, dstlen, "TEMP ",
                          ans->reason != NULL ? ans->reason : "lookup failed");
    case LOOKUP_VALID:
        return access ? answer_put(dst, dstlen, "OK DUNNO", "")
                      : answer_put(dst, dstlen, "OK ", ans->primary);
    case LOOKUP_DISABLED:
        return access ? answer_put(dst, dstlen, "OK 550 5.2.1 ", SOCKMAP_TEXT_DISABLED)
                      : answer_put(dst, dstlen, "NOTFOUND ", "");
    case LOOKUP_UNKNOWN:
        return access ? answer_put(dst, dstlen, "OK 550 5.1.1 ", SOCKMAP_TEXT_UNKNOWN)
                      : answer_put(dst, dstlen, "NOTFOUND ", "");
    default: /* foreign, invalid */
        return answer_put(dst, dstlen, "NOTFOUND ", "");
    }
}

size_t sockmap_reply_text(const char *text, char *dst, size_t dstlen)
{
    return ns_encode(dst, dstlen, text, strlen(text));
}

size_t sockmap_reply(enum sockmap_map map, const struct lookup_answer *ans, char *dst,
                     size_t dstlen)
{
    char text[SOCKMAP_MAX_REPLY];
    size_t n = sockmap_answer_text(map, ans, text, sizeof(text));

    return n == 0 ? 0 : ns_encode(dst, dstlen, text, n);
}
