/*
 * filter - LDAP filter parser and local evaluator; see filter.h.
 */
#include "syncd/filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/str.h"
#include "common/xmalloc.h"

enum filter_op {
    F_AND,
    F_OR,
    F_NOT,
    F_EQ,
    F_PRESENT,
    F_SUBSTR,
    F_GE,
    F_LE,
    F_BITAND,
    F_BITOR,
};

struct filter {
    enum filter_op op;
    char *attr;
    /* F_EQ, F_GE, F_LE: value; F_SUBSTR: parts[0] initial (may be ""), parts[n-1] final */
    char *value;
    size_t value_len;
    char **parts;
    size_t *part_len;
    size_t nparts;
    unsigned long long bits;
    struct filter **kids;
    size_t nkids;
};

struct filter_parser {
    const char *s;
    size_t pos, len;
    char *err;
    size_t errlen;
};

static struct filter *filter_node(struct filter_parser *p, int depth);

static int filter_fail(struct filter_parser *p, const char *msg)
{
    if (p->err[0] == '\0')
        snprintf(p->err, p->errlen, "LDAP filter: %s at offset %zu", msg, p->pos);
    return -1;
}

/* filter_unescape - decode s[0..len) (RFC 4515 \XX escapes) into a new string */
static char *filter_unescape(struct filter_parser *p, const char *s, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            int hi, lo;
            if (i + 2 >= len) {
                free(out);
                filter_fail(p, "truncated escape");
                return NULL;
            }
            hi = str_hexval(s[i + 1]);
            lo = str_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                free(out);
                filter_fail(p, "bad escape (expected \\XX)");
                return NULL;
            }
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

void filter_free(struct filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nkids; i++)
        filter_free(f->kids[i]);
    for (size_t i = 0; i < f->nparts; i++)
        free(f->parts[i]);
    free(f->kids);
    free(f->parts);
    free(f->part_len);
    free(f->attr);
    free(f->value);
    free(f);
}

/* filter_item - attr OP value, between the parentheses s[0..len) */
static struct filter *filter_item(struct filter_parser *p, const char *s, size_t len)
{
    struct filter *f = xcalloc(1, sizeof(*f));
    const char *eq = memchr(s, '=', len);
    size_t alen, vlen;
    const char *v;

    if (eq == NULL || eq == s) {
        filter_fail(p, "expected attr=value");
        goto fail;
    }
    alen = (size_t)(eq - s);
    v = eq + 1;
    vlen = len - alen - 1;
    f->op = F_EQ;
    if (s[alen - 1] == '>' || s[alen - 1] == '<' || s[alen - 1] == '~') {
        f->op = s[alen - 1] == '>' ? F_GE : s[alen - 1] == '<' ? F_LE : F_EQ;
        alen--;
    } else if (s[alen - 1] == ':') {
        /* extensible: attr:RULE:=value */
        const char *c1 = memchr(s, ':', alen);
        size_t rlen = alen - 1 - (size_t)(c1 - s) - 1;
        const char *rule = c1 + 1;
        char *end;
        if (rlen == 22 && strncmp(rule, "1.2.840.113556.1.4.803", rlen) == 0)
            f->op = F_BITAND;
        else if (rlen == 22 && strncmp(rule, "1.2.840.113556.1.4.804", rlen) == 0)
            f->op = F_BITOR;
        else {
            filter_fail(p, "unsupported extensible match (only the AD bitwise rules)");
            goto fail;
        }
        alen = (size_t)(c1 - s);
        errno = 0;
        f->value = xstrndup(v, vlen);
        f->bits = strtoull(f->value, &end, 10);
        if (vlen == 0 || *end != '\0' || errno != 0) {
            filter_fail(p, "bitwise match needs a decimal number");
            goto fail;
        }
    }
    if (alen == 0) {
        filter_fail(p, "empty attribute name");
        goto fail;
    }
    for (size_t i = 0; i < alen; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == ';')) {
            filter_fail(p, "bad character in attribute name");
            goto fail;
        }
    }
    f->attr = xstrndup(s, alen);
    if (f->op == F_BITAND || f->op == F_BITOR)
        return f;
    if (f->op == F_EQ && vlen == 1 && v[0] == '*') {
        f->op = F_PRESENT;
        return f;
    }
    if (f->op == F_EQ && memchr(v, '*', vlen) != NULL) {
        /* substrings: split at unescaped '*' */
        const char *start = v;
        f->op = F_SUBSTR;
        for (size_t i = 0; i <= vlen; i++) {
            if (i == vlen || v[i] == '*') {
                f->parts = xreallocarray(f->parts, f->nparts + 1, sizeof(*f->parts));
                f->part_len = xreallocarray(f->part_len, f->nparts + 1, sizeof(*f->part_len));
                f->parts[f->nparts] =
                    filter_unescape(p, start, (size_t)(v + i - start), &f->part_len[f->nparts]);
                if (f->parts[f->nparts] == NULL)
                    goto fail;
                f->nparts++;
                start = v + i + 1;
            }
        }
        return f;
    }
    if ((f->value = filter_unescape(p, v, vlen, &f->value_len)) == NULL)
        goto fail;
    return f;
fail:
    filter_free(f);
    return NULL;
}

/* filter_list - "(f)(f)..." after & or | */
static int filter_list(struct filter_parser *p, struct filter *f, int depth)
{
    while (p->pos < p->len && p->s[p->pos] == '(') {
        struct filter *k = filter_node(p, depth + 1);
        if (k == NULL)
            return -1;
        f->kids = xreallocarray(f->kids, f->nkids + 1, sizeof(*f->kids));
        f->kids[f->nkids++] = k;
    }
    if (f->nkids == 0)
        return filter_fail(p, "empty & or |");
    return 0;
}

static struct filter *filter_node(struct filter_parser *p, int depth)
{
    struct filter *f;
    size_t start, i;

    if (depth > FILTER_MAX_DEPTH) {
        filter_fail(p, "nested too deeply");
        return NULL;
    }
    if (p->pos >= p->len || p->s[p->pos] != '(') {
        filter_fail(p, "expected '('");
        return NULL;
    }
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '&' || p->s[p->pos] == '|' || p->s[p->pos] == '!')) {
        char op = p->s[p->pos++];
        f = xcalloc(1, sizeof(*f));
        f->op = op == '&' ? F_AND : op == '|' ? F_OR : F_NOT;
        if (filter_list(p, f, depth) < 0 || (f->op == F_NOT && f->nkids != 1)) {
            filter_fail(p, "! takes exactly one filter");
            filter_free(f);
            return NULL;
        }
    } else {
        start = p->pos;
        for (i = p->pos; i < p->len && p->s[i] != ')'; i++) {
            if (p->s[i] == '(') {
                filter_fail(p, "unescaped '(' in value");
                return NULL;
            }
        }
        if (i >= p->len) {
            filter_fail(p, "missing ')'");
            return NULL;
        }
        p->pos = i;
        if ((f = filter_item(p, p->s + start, i - start)) == NULL)
            return NULL;
    }
    if (p->pos >= p->len || p->s[p->pos] != ')') {
        filter_fail(p, "missing ')'");
        filter_free(f);
        return NULL;
    }
    p->pos++;
    return f;
}

int filter_parse(const char *text, struct filter **out, char *err, size_t errlen)
{
    struct filter_parser p = {text, 0, strlen(text), err, errlen};

    err[0] = '\0';
    *out = NULL;
    if (p.len > FILTER_MAX_LEN)
        return filter_fail(&p, "too long");
    if ((*out = filter_node(&p, 0)) == NULL)
        return -1;
    if (p.pos != p.len) {
        filter_free(*out);
        *out = NULL;
        return filter_fail(&p, "text after the filter");
    }
    return 0;
}

/* filter_ncase - ASCII case-insensitive compare of n bytes; NUL is an ordinary byte */
static int filter_ncase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z')
            y += 'a' - 'A';
        if (x != y)
            return x - y;
    }
    return 0;
}

/* filter_cmp - case-insensitive compare of two byte strings */
static int filter_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = filter_ncase(a, b, n);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* filter_substr - initial*any*...*final against one value */
static int filter_substr(const struct filter *f, const char *v, size_t len)
{
    size_t pos = 0, last = f->nparts - 1;

    if (f->part_len[0] > len || filter_ncase(v, f->parts[0], f->part_len[0]) != 0)
        return 0;
    pos = f->part_len[0];
    for (size_t i = 1; i < last; i++) {
        size_t pl = f->part_len[i];
        int found = 0;
        for (; pos + pl <= len; pos++) {
            if (filter_ncase(v + pos, f->parts[i], pl) == 0) {
                pos += pl;
                found = 1;
                break;
            }
        }
        if (!found)
            return 0;
    }
    return len - pos >= f->part_len[last] &&
           filter_ncase(v + len - f->part_len[last], f->parts[last], f->part_len[last]) == 0;
}

/* filter_value - one attribute value against a leaf */
static int filter_value(const struct filter *f, const char *v, size_t len)
{
    switch (f->op) {
    case F_PRESENT:
        return 1;
    case F_EQ:
        return filter_cmp(v, len, f->value, f->value_len) == 0;
    case F_GE:
        return filter_cmp(v, len, f->value, f->value_len) >= 0;
    case F_LE:
        return filter_cmp(v, len, f->value, f->value_len) <= 0;
    case F_SUBSTR:
        return filter_substr(f, v, len);
    case F_BITAND:
    case F_BITOR: {
        char num[32], *end;
        unsigned long long n;
        if (len == 0 || len >= sizeof(num))
            return 0;
        memcpy(num, v, len);
        num[len] = '\0';
        n = (unsigned long long)strtoll(num, &end, 10);
        if (*end != '\0')
            return 0;
        return f->op == F_BITAND ? (n & f->bits) == f->bits : (n & f->bits) != 0;
    }
    default:
        return 0;
    }
}

int filter_match(const struct filter *f, const struct attrs *a)
{
    switch (f->op) {
    case F_AND:
        for (size_t i = 0; i < f->nkids; i++)
            if (!filter_match(f->kids[i], a))
                return 0;
        return 1;
    case F_OR:
        for (size_t i = 0; i < f->nkids; i++)
            if (filter_match(f->kids[i], a))
                return 1;
        return 0;
    case F_NOT:
        return !filter_match(f->kids[0], a);
    default:
        for (size_t i = 0; i < a->n; i++)
            if (attrs_name_is(&a->v[i], f->attr) && filter_value(f, a->v[i].val, a->v[i].len))
                return 1;
        return 0;
    }
}
