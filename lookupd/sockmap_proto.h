/*
 * sockmap_proto - the socketmap protocol (Postfix socketmap_table(5), Sendmail socket maps)
 * without any I/O: parse one request from the bytes received so far, and write replies.
 *
 * A request is the netstring "MAPNAME KEY". The netstring length is checked digit by digit
 * against SOCKMAP_MAX_QUERY before any payload is awaited (ns_decode()). A malformed
 * netstring, an over-long request, a request without a space and an unknown map name are
 * SOCKMAP_PERM: the server answers "PERM <reason>" and closes, because the stream cannot be
 * trusted after it. A key holding NUL, CR or LF parses, with badkey set: it is answered
 * "NOTFOUND " (OpenSMTPD table_proc.c refuses CR/LF too).
 *
 * Replies (docs/protocol.md):
 *   rcpt    OK <primary> | NOTFOUND  | TEMP <reason>
 *   access  OK DUNNO | OK 550 5.1.1 <text> | OK 550 5.2.1 <text> | NOTFOUND  | TEMP <reason>
 *   domain  OK <domain> | NOTFOUND  | TEMP <reason>
 *
 * Nothing here allocates or logs. Parsed keys point into the caller's buffer (borrowed);
 * replies are written into caller buffers of at least SOCKMAP_MAX_REPLY bytes.
 */
#ifndef RCPTDIR_SOCKMAP_PROTO_H
#define RCPTDIR_SOCKMAP_PROTO_H

#include <stddef.h>

#include "lookupd/lookup.h"

#define SOCKMAP_MAX_QUERY 10000 /* longest request payload, as Postfix's socketmap limit */
#define SOCKMAP_MAX_REPLY 512   /* longest reply, netstring included */

enum sockmap_map { SOCKMAP_RCPT = 0, SOCKMAP_ACCESS, SOCKMAP_DOMAIN, SOCKMAP_NMAPS };

enum sockmap_status {
    SOCKMAP_REQ = 0,   /* one request parsed */
    SOCKMAP_MORE = 1,  /* well-formed so far: wait for more bytes */
    SOCKMAP_PERM = -1, /* malformed: answer PERM <reason> and close */
};

struct sockmap_req {
    enum sockmap_map map;
    const char *key; /* borrowed from the buffer; not NUL-terminated */
    size_t keylen;
    int badkey; /* the key holds NUL, CR or LF */
};

/*
 * sockmap_parse - parse the request at the start of buf[0..len). On SOCKMAP_REQ fills req and
 * *consumed; on SOCKMAP_PERM sets *reason (static text).
 */
enum sockmap_status sockmap_parse(const char *buf, size_t len, struct sockmap_req *req,
                                  size_t *consumed, const char **reason);

/* sockmap_map_name - "rcpt", "access", "domain" */
const char *sockmap_map_name(enum sockmap_map map);

/*
 * sockmap_answer_text - the reply text (not yet a netstring) for a lookup answer of map into
 * dst (dstlen bytes, NUL-terminated). Returns its length, or 0 when dst is too small.
 */
size_t sockmap_answer_text(enum sockmap_map map, const struct lookup_answer *ans, char *dst,
                           size_t dstlen);

/* sockmap_reply - the netstring of the reply text for ans; returns its length or 0 */
size_t sockmap_reply(enum sockmap_map map, const struct lookup_answer *ans, char *dst,
                     size_t dstlen);

/* sockmap_reply_text - the netstring of a fixed text ("NOTFOUND ", "PERM reason") */
size_t sockmap_reply_text(const char *text, char *dst, size_t dstlen);

#endif
