/*
 * policy_proto - policy delegation request parser and reply writer; see policy_proto.h.
 */
#include "lookupd/policy_proto.h"

#include <string.h>

#include "lookupd/sockmap_proto.h"

/* What the access map's TEMP becomes: Postfix's own code for a failed access table lookup. */
#define POLICY_TEMP_PREFIX "451 4.3.5 Temporary failure: "

void policy_parser_init(struct policy_parser *p)
{
    memset(p, 0, sizeof(*p));
}

/* policy_fail - stop with an error */
static enum policy_status policy_fail(struct policy_parser *p, const char *reason, size_t i,
                                      size_t *used)
{
    p->failed = 1;
    p->reason = reason;
    *used = i;
    return POLICY_ERR;
}

/* What a name may hold (Postfix's are lower case and '_'): 1 for each such byte. */
static const unsigned char policy_name_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1,
};

/* policy_field - choose where the value of the name just read goes (0: skipped) */
static void policy_field(struct policy_parser *p)
{
#define POLICY_KEPT(n, f, field)                                                                   \
    {                                                                                              \
        n, sizeof(n) - 1, f, offsetof(struct policy_req, field),                                   \
            sizeof(((struct policy_req *)0)->field)                                                \
    }
    static const struct {
        const char *name;
        size_t len;
        unsigned flag;
        size_t off, cap;
    } kept[] = {
        POLICY_KEPT("request", POLICY_F_REQUEST, request),
        POLICY_KEPT("protocol_state", POLICY_F_STATE, state),
        POLICY_KEPT("recipient", POLICY_F_RECIPIENT, recipient),
        POLICY_KEPT("client_address", POLICY_F_CLIENT, client_address),
    };
#undef POLICY_KEPT

    p->field = 0;
    p->dst = NULL;
    p->dstlen = p->dstcap = 0;
    /* most of a request's names are none of them: their lengths (sasl_username and kept[]'s
     * names) tell at once */
    if (p->namelen != 7 && p->namelen != 9 && p->namelen != 13 && p->namelen != 14)
        return;
    if (p->namelen == 13 && memcmp(p->name, "sasl_username", 13) == 0 &&
        !(p->req.seen & POLICY_F_SASL)) {
        p->field = POLICY_F_SASL; /* only whether it is empty: two bytes tell */
        p->dst = p->name;
        p->dstcap = 3;
        return;
    }
    for (size_t k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
        if (p->namelen == kept[k].len && memcmp(p->name, kept[k].name, p->namelen) == 0) {
            if (p->req.seen & kept[k].flag)
                return; /* the first one counts */
            p->field = kept[k].flag;
            p->dst = (char *)&p->req + kept[k].off;
            p->dstcap = kept[k].cap;
            return;
        }
    }
}

/* policy_value_end - the newline after a value: store it, count the attribute */
static void policy_value_end(struct policy_parser *p)
{
    if (p->field != 0) {
        if (p->dstlen > 0 && p->dst[p->dstlen - 1] == '\r' && !(p->req.toolong & p->field))
            p->dstlen--;
        p->dst[p->dstlen] = '\0';
        p->req.seen |= p->field;
        if (p->field == POLICY_F_RECIPIENT)
            p->req.recipient_len = p->dstlen;
        if (p->field == POLICY_F_SASL)
            p->req.sasl = p->dstlen > 0 || (p->req.toolong & POLICY_F_SASL);
    }
    p->req.nattrs++;
    p->in_value = 0;
    p->namelen = p->linelen = 0;
    p->field = 0;
}

/* policy_value - take value bytes buf[0..n) (no newline among them); -1 on an error */
static int policy_value(struct policy_parser *p, const char *buf, size_t n)
{
    if (memchr(buf, '\0', n) != NULL) {
        p->reason = "NUL byte in a value";
        return -1;
    }
    if (n > POLICY_MAX_LINE - p->linelen) {
        p->reason = "attribute too long";
        return -1;
    }
    p->linelen += n;
    if (p->field != 0) {
        size_t room = p->dstcap - 1 - p->dstlen, c = n < room ? n : room;
        memcpy(p->dst + p->dstlen, buf, c);
        p->dstlen += c;
        if (c < n)
            p->req.toolong |= p->field;
    }
    return 0;
}

enum policy_status policy_parse(struct policy_parser *p, const char *buf, size_t len, size_t *used)
{
    size_t i = 0, lim = len;

    if (p->failed)
        return policy_fail(p, p->reason, 0, used);
    if (p->done) { /* a new request: empty fields (not all of their bytes) */
        p->req.request[0] = p->req.state[0] = p->req.recipient[0] = p->req.client_address[0] = 0;
        p->req.recipient_len = p->req.nattrs = p->req.size = 0;
        p->req.sasl = 0;
        p->req.seen = p->req.toolong = 0;
        p->done = 0;
    }
    /* never look past the request size limit: beyond it, only its end would be good news */
    if (lim > POLICY_MAX_REQUEST - p->req.size)
        lim = POLICY_MAX_REQUEST - p->req.size;
    while (i < lim) {
        if (p->in_value) {
            const char *nl = memchr(buf + i, '\n', lim - i);
            size_t end = nl != NULL ? (size_t)(nl - buf) : lim;

            if (policy_value(p, buf + i, end - i) < 0)
                return policy_fail(p, p->reason, i, used);
            i = end;
            if (nl != NULL) {
                i++;
                policy_value_end(p);
                if (p->req.nattrs > POLICY_MAX_ATTRS)
                    return policy_fail(p, "too many attributes", i, used);
            }
            continue;
        }
        /* the name's bytes, as many as this piece holds */
        size_t j = i;
        while (j < lim && policy_name_chars[(unsigned char)buf[j]])
            j++;
        if (j > i) {
            if (p->cr)
                return policy_fail(p, "carriage return inside a line", j, used);
            if (j - i > POLICY_MAX_NAME - p->namelen)
                return policy_fail(p, "attribute name too long", j, used);
            memcpy(p->name + p->namelen, buf + i, j - i);
            p->namelen += j - i;
            i = j;
            if (i == lim)
                break;
        }
        char c = buf[i++];
        if (c == '\n' && p->namelen == 0) {
            /* the empty line */
            if (p->req.nattrs == 0)
                return policy_fail(p, "empty request", i, used);
            p->req.size += i;
            p->done = 1;
            p->cr = 0;
            *used = i;
            return POLICY_REQ;
        }
        if (p->cr)
            return policy_fail(p, "carriage return inside a line", i, used);
        if (c == '\r' && p->namelen == 0) {
            p->cr = 1;
        } else if (c == '\n') {
            return policy_fail(p, "line without '='", i, used);
        } else if (c == '=') {
            if (p->namelen == 0)
                return policy_fail(p, "empty attribute name", i, used);
            policy_field(p);
            p->in_value = 1;
            p->linelen = p->namelen + 1;
        } else {
            return policy_fail(p, c == '\0' ? "NUL byte in a name" : "malformed attribute name", i,
                               used);
        }
    }
    p->req.size += i;
    if (lim < len)
        return policy_fail(p, "request too long", i, used);
    *used = i;
    return POLICY_MORE;
}

const char *policy_parse_eof(const struct policy_parser *p)
{
    if (p->failed || p->done || (p->req.size == 0 && !p->in_value && p->namelen == 0 && !p->cr))
        return NULL;
    return "request truncated by end of input";
}

size_t policy_reply(const char *action, char *dst, size_t dstlen)
{
    size_t n = strlen(action);

    if (n + 9 >= dstlen)
        return 0;
    memcpy(dst, "action=", 7);
    memcpy(dst + 7, action, n);
    memcpy(dst + 7 + n, "\n\n", 3);
    return n + 9;
}

size_t policy_access_action(const struct lookup_answer *ans, char *dst, size_t dstlen)
{
    char text[SOCKMAP_MAX_REPLY];
    const char *act;
    size_t n = sockmap_answer_text(SOCKMAP_ACCESS, ans, text, sizeof(text)), pre = 0;

    if (n == 0)
        return 0;
    if (strncmp(text, "OK ", 3) == 0) {
        act = text + 3;
    } else if (strncmp(text, "TEMP ", 5) == 0) {
        act = text + 5;
        pre = strlen(POLICY_TEMP_PREFIX);
    } else { /* NOTFOUND: not ours to decide */
        act = "DUNNO";
    }
    n = strlen(act);
    if (pre + n >= dstlen)
        return 0;
    memcpy(dst, POLICY_TEMP_PREFIX, pre);
    memcpy(dst + pre, act, n + 1);
    return pre + n;
}
