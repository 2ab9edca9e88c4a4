/*
 * httpneg - Accept-Encoding and If-None-Match value parsers; see httpneg.h.
 */
#include "lookupd/httpneg.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

void httpneg_accept_init(struct httpneg_accept *a)
{
    a->present = 0;
    a->gzip = a->xgzip = a->identity = a->star = -1;
}

static int httpneg_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* httpneg_tchar - a token character (RFC 9110 5.6.2) */
static int httpneg_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* httpneg_qvalue - a qvalue ("0", "0.5", "1.000"; RFC 9110 12.4.2) in thousandths, or -1 */
static int httpneg_qvalue(const char *p, size_t len)
{
    int q, scale = 100;

    if (len == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    q = (p[0] - '0') * 1000;
    if (len == 1)
        return q;
    if (p[1] != '.' || len > 5)
        return -1;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* httpneg_coding - is the token tok[0..len) the coding name (any case)? */
static int httpneg_coding(const char *tok, size_t len, const char *name)
{
    return len == strlen(name) && strncasecmp(tok, name, len) == 0;
}

void httpneg_accept_parse(struct httpneg_accept *a, const char *v)
{
    a->present = 1;
    while (*v != '\0') {
        const char *tok;
        size_t toklen;
        int q = 1000, bad = 0;
        int *w;

        while (*v == ',' || httpneg_ows(*v))
            v++;
        if (*v == '\0')
            break;
        tok = v;
        while (httpneg_tchar(*v))
            v++;
        toklen = (size_t)(v - tok);
        for (;;) { /* parameters: OWS ";" OWS name "=" value */
            const char *name, *val;
            size_t namelen;

            while (httpneg_ows(*v))
                v++;
            if (*v != ';')
                break;
            v++;
            while (httpneg_ows(*v))
                v++;
            name = v;
            while (httpneg_tchar(*v))
                v++;
            namelen = (size_t)(v - name);
            while (httpneg_ows(*v))
                v++;
            if (namelen == 0 || *v != '=') {
                bad = 1;
                break;
            }
            v++;
            while (httpneg_ows(*v))
                v++;
            val = v;
            if (*v == '"') { /* a quoted-string: only q matters, and q is never quoted */
                for (v++; *v != '\0' && *v != '"'; v++)
                    if (*v == '\\' && v[1] != '\0')
                        v++;
                if (*v == '"')
                    v++;
            } else {
                while (httpneg_tchar(*v))
                    v++;
            }
            if (namelen == 1 && (*name == 'q' || *name == 'Q') &&
                (q = httpneg_qvalue(val, (size_t)(v - val))) < 0)
                bad = 1;
        }
        if (*v != ',' && *v != '\0')
            bad = 1;
        while (*v != '\0' && *v != ',')
            v++;
        if (bad || toklen == 0)
            continue;
        w = httpneg_coding(tok, toklen, "gzip")       ? &a->gzip
            : httpneg_coding(tok, toklen, "x-gzip")   ? &a->xgzip
            : httpneg_coding(tok, toklen, "identity") ? &a->identity
            : httpneg_coding(tok, toklen, "*")        ? &a->star
                                                      : NULL;
        if (w != NULL && *w < 0)
            *w = q;
    }
}

int httpneg_accept_gzip(const struct httpneg_accept *a)
{
    int qg, qi;

    if (!a->present)
        return 0;
    qg = a->gzip >= 0 ? a->gzip : a->xgzip >= 0 ? a->xgzip : a->star >= 0 ? a->star : 0;
    qi = a->identity >= 0 ? a->identity : a->star;
    return qg > 0 && qg >= qi;
}

int httpneg_etag_listed(const char *v, const char *etag)
{
    size_t elen = strlen(etag);

    for (;;) {
        const char *tag = NULL; /* NULL: "*" */
        size_t taglen = 0;

        while (*v == ',' || httpneg_ows(*v))
            v++;
        if (*v == '\0')
            return 0;
        if (*v == '*') {
            v++;
        } else {
            if (v[0] == 'W' && v[1] == '/')
                v += 2;
            if (*v != '"')
                return 0;
            tag = v;
            for (v++; *v != '"'; v++)
                if (*v == '\0')
                    return 0;
            v++;
            taglen = (size_t)(v - tag);
        }
        while (httpneg_ows(*v))
            v++;
        if (*v != ',' && *v != '\0')
            return 0;
        if (tag == NULL || (taglen == elen && memcmp(tag, etag, elen) == 0))
            return 1;
    }
}
