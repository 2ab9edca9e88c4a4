/*
 * src_ldif - bounded streaming LDIF reader; see src_ldif.h.
 */
#include "syncd/src_ldif.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "syncd/src_dir.h"

struct ldif_value {
    size_t name_off, name_len, val_off, val_len;
};

struct ldif_reader {
    FILE *fp;
    const char *name;
    char *err;
    size_t errlen;
    /* read buffer */
    char buf[65536];
    size_t bpos, blen;
    int eof;
    /* current physical line, and whether it is a look-ahead not yet consumed */
    char *phys;
    size_t plen, pcap;
    int have_phys;
    long phys_no;
    /* current logical line (folds joined) and its first line number */
    char *line;
    size_t llen, lcap;
    long line_no;
    /* current entry: decoded bytes and the values pointing into them */
    char *arena;
    size_t alen, acap;
    struct ldif_value *vals;
    size_t nvals, vcap;
    size_t dn_off, dn_len;
    int have_dn;
    struct attrs attrs;
};

static int ldif_fail(struct ldif_reader *r, long line, const char *msg)
{
    snprintf(r->err, r->errlen, "%s:%ld: %s", r->name, line, msg);
    return SOURCE_ERR;
}

/* ldif_grow - make room for need more bytes in *p (bounded by max) */
static int ldif_grow(char **p, size_t *cap, size_t len, size_t need, size_t max)
{
    size_t want = len + need;

    if (want > max)
        return -1;
    if (want > *cap) {
        size_t n = *cap ? *cap : 4096;
        while (n < want)
            n *= 2;
        *p = xrealloc(*p, n);
        *cap = n;
    }
    return 0;
}

/* ldif_phys - read one physical line into r->phys; 1 line, 0 end of file, -1 error */
static int ldif_phys(struct ldif_reader *r)
{
    r->plen = 0;
    for (;;) {
        if (r->bpos == r->blen) {
            if (r->eof)
                break;
            r->blen = fread(r->buf, 1, sizeof(r->buf), r->fp);
            r->bpos = 0;
            if (r->blen == 0) {
                if (ferror(r->fp))
                    return ldif_fail(r, r->phys_no + 1, "read error"), -1;
                r->eof = 1;
                break;
            }
        }
        char *nl = memchr(r->buf + r->bpos, '\n', r->blen - r->bpos);
        size_t n = nl ? (size_t)(nl - (r->buf + r->bpos)) : r->blen - r->bpos;
        if (ldif_grow(&r->phys, &r->pcap, r->plen, n + 1, LDIF_MAX_LINE) < 0)
            return ldif_fail(r, r->phys_no + 1, "line too long"), -1;
        memcpy(r->phys + r->plen, r->buf + r->bpos, n);
        r->plen += n;
        r->bpos += n;
        if (nl) {
            r->bpos++;
            r->phys_no++;
            goto done;
        }
    }
    if (r->plen == 0)
        return 0;
    r->phys_no++;
done:
    if (r->plen > 0 && r->phys[r->plen - 1] == '\r')
        r->plen--;
    r->phys[r->plen] = '\0';
    return 1;
}

/* ldif_logical - next logical line (continuations joined) into r->line; 1, 0 EOF, -1 */
static int ldif_logical(struct ldif_reader *r)
{
    int rc;

    if (!r->have_phys && (rc = ldif_phys(r)) <= 0)
        return rc;
    r->have_phys = 0;
    r->llen = 0;
    r->line_no = r->phys_no;
    if (ldif_grow(&r->line, &r->lcap, 0, r->plen + 1, LDIF_MAX_LINE) < 0)
        return ldif_fail(r, r->line_no, "line too long"), -1;
    memcpy(r->line, r->phys, r->plen + 1);
    r->llen = r->plen;
    while ((rc = ldif_phys(r)) == 1) {
        if (r->plen == 0 || r->phys[0] != ' ') {
            r->have_phys = 1;
            break;
        }
        if (ldif_grow(&r->line, &r->lcap, r->llen, r->plen, LDIF_MAX_LINE) < 0)
            return ldif_fail(r, r->line_no, "folded line too long"), -1;
        memcpy(r->line + r->llen, r->phys + 1, r->plen - 1);
        r->llen += r->plen - 1;
        r->line[r->llen] = '\0';
    }
    return rc < 0 ? -1 : 1;
}

static int ldif_b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* ldif_base64 - decode s[0..len) to out; returns decoded length or -1 */
static long ldif_base64(const char *s, size_t len, char *out)
{
    size_t n = 0, i;
    unsigned acc = 0;
    int bits = 0, pad = 0;

    for (i = 0; i < len; i++) {
        int v;
        if (s[i] == '=') {
            pad++;
            continue;
        }
        if (pad || (v = ldif_b64val(s[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    if ((len % 4) != 0 || pad > 2)
        return -1;
    return (long)n;
}

/* ldif_store - copy bytes into the entry arena; returns offset or -1 when too big */
static long ldif_store(struct ldif_reader *r, const char *p, size_t len)
{
    size_t off = r->alen;

    if (ldif_grow(&r->arena, &r->acap, r->alen, len + 1, LDIF_MAX_ENTRY) < 0)
        return -1;
    memcpy(r->arena + off, p, len);
    r->arena[off + len] = '\0';
    r->alen += len + 1;
    return (long)off;
}

static void ldif_reset_entry(struct ldif_reader *r)
{
    r->alen = 0;
    r->nvals = 0;
    r->have_dn = 0;
}

/* ldif_emit - hand a finished entry to the sink */
static int ldif_emit(struct ldif_reader *r, const struct ldif_filters *f,
                     const struct source_sink *sink)
{
    int group, disabled;

    attrs_clear(&r->attrs);
    for (size_t i = 0; i < r->nvals; i++)
        attrs_add(&r->attrs, r->arena + r->vals[i].name_off, r->vals[i].name_len,
                  r->arena + r->vals[i].val_off, r->vals[i].val_len);
    if (f->select != NULL && !filter_match(f->select, &r->attrs))
        return 0;
    group = f->group != NULL && filter_match(f->group, &r->attrs);
    disabled = f->disabled != NULL && filter_match(f->disabled, &r->attrs);
    return sink->entry(sink->ctx, &r->attrs, r->arena + r->dn_off, r->dn_len, group, disabled);
}

/* ldif_attr_line - split "name: value", "name:: b64" or "name:< url" and store it */
static int ldif_attr_line(struct ldif_reader *r, int *skip)
{
    char *colon = memchr(r->line, ':', r->llen), *v;
    size_t nlen, vlen;
    long off, voff;
    int b64 = 0;

    if (colon == NULL || colon == r->line)
        return ldif_fail(r, r->line_no, "expected 'attribute: value'");
    nlen = (size_t)(colon - r->line);
    for (size_t i = 0; i < nlen; i++) {
        char c = r->line[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == ';' || c == '.'))
            return ldif_fail(r, r->line_no, "bad character in attribute name");
    }
    if (r->line[0] == ';')
        return ldif_fail(r, r->line_no, "attribute name missing before its options");
    v = colon + 1;
    if (*v == ':') {
        b64 = 1;
        v++;
    } else if (*v == '<') {
        return ldif_fail(r, r->line_no, "URL values (attr:< url) are not supported");
    }
    while (*v == ' ')
        v++;
    vlen = r->llen - (size_t)(v - r->line);

    if (!r->have_dn) {
        if (nlen == 7 && strncasecmp(r->line, "version", 7) == 0 && !b64)
            return 0;
        if ((nlen == 6 && strncasecmp(r->line, "search", 6) == 0) ||
            (nlen == 6 && strncasecmp(r->line, "result", 6) == 0)) {
            *skip = 1; /* ldapsearch -L trailer */
            return 0;
        }
        if (nlen != 2 || strncasecmp(r->line, "dn", 2) != 0)
            return ldif_fail(r, r->line_no, "record does not start with 'dn:'");
    } else if (nlen == 2 && strncasecmp(r->line, "dn", 2) == 0) {
        return ldif_fail(r, r->line_no, "'dn:' inside a record (missing blank line?)");
    } else if (nlen == 10 && strncasecmp(r->line, "changetype", 10) == 0) {
        if (vlen == 3 && strncasecmp(v, "add", 3) == 0)
            return 0;
        return ldif_fail(r, r->line_no,
                         "change records are not supported: export entries (changetype: add)");
    } else if (nlen == 7 && strncasecmp(r->line, "control", 7) == 0) {
        return ldif_fail(r, r->line_no, "control lines are not supported");
    }
    if ((off = ldif_store(r, r->line, nlen)) < 0)
        return ldif_fail(r, r->line_no, "entry larger than the limit");
    if (b64) {
        if (ldif_grow(&r->arena, &r->acap, r->alen, vlen + 1, LDIF_MAX_ENTRY) < 0)
            return ldif_fail(r, r->line_no, "entry larger than the limit");
        long n = ldif_base64(v, vlen, r->arena + r->alen);
        if (n < 0)
            return ldif_fail(r, r->line_no, "malformed base64 value");
        voff = (long)r->alen;
        r->arena[r->alen + (size_t)n] = '\0';
        r->alen += (size_t)n + 1;
        vlen = (size_t)n;
    } else if ((voff = ldif_store(r, v, vlen)) < 0) {
        return ldif_fail(r, r->line_no, "entry larger than the limit");
    }
    if (!r->have_dn) {
        r->have_dn = 1;
        r->dn_off = (size_t)voff;
        r->dn_len = vlen;
        return 0;
    }
    if (r->nvals == LDIF_MAX_VALUES)
        return ldif_fail(r, r->line_no, "entry has too many values");
    if (r->nvals == r->vcap) {
        r->vcap = r->vcap ? r->vcap * 2 : 64;
        r->vals = xreallocarray(r->vals, r->vcap, sizeof(*r->vals));
    }
    r->vals[r->nvals++] = (struct ldif_value){(size_t)off, nlen, (size_t)voff, vlen};
    return 0;
}

int src_ldif_read(FILE *fp, const char *name, const struct ldif_filters *f,
                  const struct source_sink *sink, char *err, size_t errlen)
{
    struct ldif_reader *r = xcalloc(1, sizeof(*r));
    int rc, skip = 0;

    r->fp = fp;
    r->name = name;
    r->err = err;
    r->errlen = errlen;
    while ((rc = ldif_logical(r)) == 1) {
        if (r->llen == 0) {
            if (r->have_dn && (rc = ldif_emit(r, f, sink)) != 0)
                goto out;
            ldif_reset_entry(r);
            skip = 0;
            continue;
        }
        if (r->line[0] == '#' || skip)
            continue;
        if (r->line[0] == '-' && r->llen == 1) {
            rc = ldif_fail(r, r->line_no, "change records are not supported");
            goto out;
        }
        if ((rc = ldif_attr_line(r, &skip)) != 0)
            goto out;
    }
    if (rc < 0) {
        rc = SOURCE_ERR;
        goto out;
    }
    rc = r->have_dn ? ldif_emit(r, f, sink) : 0;
out:
    attrs_free(&r->attrs);
    free(r->vals);
    free(r->arena);
    free(r->line);
    free(r->phys);
    free(r);
    return rc;
}

/* src_ldif_compile - compile an optional filter; empty text gives NULL */
static int src_ldif_compile(const char *text, const char *what, struct filter **f)
{
    char err[256];

    *f = NULL;
    if (text == NULL || text[0] == '\0')
        return 0;
    if (filter_parse(text, f, err, sizeof(err)) < 0) {
        log_warnx("config: %s: %s", what, err);
        return -1;
    }
    return 0;
}

/* src_ldif_open_read - the configured file with locally evaluated filters into sink */
static int src_ldif_open_read(const struct conf *cf, const struct source_sink *sink, char *err,
                              size_t errlen)
{
    struct filter *sel = NULL, *grp = NULL, *dis = NULL;
    FILE *fp;
    int rc = SOURCE_ERR;

    if (src_ldif_compile(cf->map_filter, "[ldif] filter", &sel) < 0 ||
        src_ldif_compile(cf->map_group_filter, "[ldif] group_filter", &grp) < 0 ||
        src_ldif_compile(cf->map_disabled_filter, "[ldif] disabled_filter", &dis) < 0) {
        snprintf(err, errlen, "ldif: bad filter in configuration");
        goto out;
    }
    if ((fp = fopen(cf->ldif_path, "r")) == NULL) {
        snprintf(err, errlen, "ldif: cannot open %s: %s", cf->ldif_path, strerror(errno));
        goto out;
    }
    {
        struct ldif_filters f = {sel, grp, dis};
        rc = src_ldif_read(fp, cf->ldif_path, &f, sink, err, errlen);
    }
    fclose(fp);
out:
    filter_free(sel);
    filter_free(grp);
    filter_free(dis);
    return rc;
}

static void src_ldif_describe(const struct conf *cf, char *buf, size_t len)
{
    snprintf(buf, len, "ldif:%s", cf->ldif_path);
}

static int src_ldif_run(struct source_run *run)
{
    struct src_dir d;
    int rc;

    if ((rc = src_dir_open(&d, run)) == 0)
        rc = src_ldif_open_read(run->cf, &d.sink, run->err, run->errlen);
    return src_dir_close(&d, rc);
}

const struct source src_ldif = {
    .name = "ldif",
    .conf = CONF_SOURCE_LDIF,
    .describe = src_ldif_describe,
    .run = src_ldif_run,
};
