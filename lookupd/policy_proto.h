/*
 * policy_proto - the Postfix policy delegation protocol (SMTPD_POLICY_README) without any
 * I/O: an incremental parser for requests and the writer of replies.
 *
 * A request is "name=value" lines ended by "\n", then an empty line. The parser takes the
 * bytes as they arrive, in pieces of any size, and keeps only what lookupd uses (request,
 * protocol_state, recipient, client_address, whether sasl_username is set): nothing else
 * is buffered, so a connection costs sizeof(struct policy_parser) however long its request.
 * The first of repeated attributes counts; unknown attributes are skipped; a "\r" before a
 * "\n" is dropped (a request typed into nc -C or telnet). Bounds, each an error:
 * POLICY_MAX_NAME bytes of a name, POLICY_MAX_LINE of a whole line, POLICY_MAX_ATTRS
 * attributes and POLICY_MAX_REQUEST bytes of a request. Also errors: a line without '=',
 * an empty or malformed name (letters, digits, '_', '-', '.'), a NUL byte, an empty request.
 * After an error the stream cannot be trusted: the server replies with the reason and
 * closes. A kept value that does not fit its field is flagged, never cut silently.
 *
 * Replies: "action=<ACTION>\n\n". policy_access_action() gives the access map's answers
 * (sockmap_answer_text(SOCKMAP_ACCESS, ...)) as policy actions, so the two never differ.
 *
 * Nothing here allocates or logs. Reasons are static text.
 */
#ifndef RCPTDIR_POLICY_PROTO_H
#define RCPTDIR_POLICY_PROTO_H

#include <stddef.h>

#include "lookupd/lookup.h"
#include "schema/addr.h"

#define POLICY_MAX_NAME    64
#define POLICY_MAX_LINE    4096  /* name, '=' and value, without the newline */
#define POLICY_MAX_ATTRS   128   /* Postfix 3.12 sends about 30 */
#define POLICY_MAX_REQUEST 32768 /* bytes, the empty line included */
#define POLICY_MAX_REPLY   512   /* "action=...\n\n" */

enum policy_status {
    POLICY_REQ = 0,  /* a request is complete: p->req */
    POLICY_MORE = 1, /* every byte given was taken: wait for more */
    POLICY_ERR = -1, /* malformed: p->reason */
};

/* The attributes lookupd uses. Strings are NUL-terminated copies. */
struct policy_req {
    char request[32]; /* "smtpd_access_policy" */
    char state[16];   /* protocol_state: "RCPT", ... */
    char recipient[ADDR_INPUT_MAX + 1];
    size_t recipient_len;
    char client_address[64];
    int sasl;         /* sasl_username is present and not empty */
    unsigned toolong; /* POLICY_F_* of kept values that did not fit */
    unsigned seen;    /* POLICY_F_* of kept attributes present */
    size_t nattrs, size;
};

#define POLICY_F_REQUEST   0x01
#define POLICY_F_STATE     0x02
#define POLICY_F_RECIPIENT 0x04
#define POLICY_F_CLIENT    0x08
#define POLICY_F_SASL      0x10

struct policy_parser {
    struct policy_req req;
    const char *reason; /* after POLICY_ERR */
    char name[POLICY_MAX_NAME + 1];
    size_t namelen;
    size_t linelen;
    unsigned in_value : 1, cr : 1, done : 1, failed : 1;
    unsigned field; /* POLICY_F_* of the value being read, 0 when skipped */
    char *dst;      /* where it goes, dstcap bytes with the NUL */
    size_t dstlen, dstcap;
};

/* policy_parser_init - ready for a connection's first request */
void policy_parser_init(struct policy_parser *p);

/*
 * policy_parse - take bytes buf[0..len) of the stream. *used says how many were taken: all of
 * them on POLICY_MORE, up to and including the empty line on POLICY_REQ (the rest belongs to
 * the next request: pass it in the next call, which starts that request). On POLICY_ERR
 * p->reason says why and the parser stays failed.
 */
enum policy_status policy_parse(struct policy_parser *p, const char *buf, size_t len, size_t *used);

/* policy_parse_eof - the reason to give when the stream ends here, or NULL (between requests) */
const char *policy_parse_eof(const struct policy_parser *p);

/* policy_reply - "action=ACTION\n\n" into dst; its length, or 0 when it does not fit */
size_t policy_reply(const char *action, char *dst, size_t dstlen);

/*
 * policy_access_action - the action for a lookup answer: what the access map answers
 * without its "OK " (DUNNO, 550 5.1.1 ..., 550 5.2.1 ...), DUNNO for its NOTFOUND, and
 * "451 4.3.5 ..." for its TEMP. Returns the length, 0 when dst is too small.
 */
size_t policy_access_action(const struct lookup_answer *ans, char *dst, size_t dstlen);

#endif
