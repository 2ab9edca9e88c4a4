/*
 * fuzz_ldif - src_ldif_read() over arbitrary bytes (through fmemopen), with fixed select,
 * group and disabled filters. The sink checks what a source promises: values within the
 * documented bounds and readable to their last byte, the group/disabled flags equal to
 * the filters' verdicts, only selected entries; each entry is also mapped with the
 * default mapping (entry_map) and its keys must be valid, distinct, primary first. The
 * read ends with 0, SOURCE_ERR and a "fuzz.ldif:LINE: " message, or the sink's own code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "schema/addr.h"
#include "syncd/entry.h"
#include "syncd/src_ldif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STOP_RC 12345

static struct filter *sel, *grp, *dis;
static char *addr_attrs_v[] = {"mail", "mailLocalAddress", "mailAlternateAddress",
                               "proxyAddresses"};
static char *id_attrs_v[] = {"entryUUID", "objectGUID"};
static const struct cfg_list addr_attrs = {addr_attrs_v, 4};
static const struct cfg_list id_attrs = {id_attrs_v, 2};
static const struct mapping mapping = {&addr_attrs, "mail", &id_attrs, 0};

struct fctx {
    int calls, stop_at;
    struct sync_entry e;
    struct map_stats st;
    volatile unsigned sum;
};

static struct filter *compile(const char *text)
{
    struct filter *f;
    char err[256];

    if (filter_parse(text, &f, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", text, err);
        abort();
    }
    return f;
}

static void check_entry(struct fctx *c, const struct attrs *a, const char *dn, size_t dnlen,
                        int is_group, int is_disabled)
{
    size_t total = dnlen, n;

    if (dnlen >= LDIF_MAX_LINE || a->n > LDIF_MAX_VALUES)
        abort();
    for (size_t i = 0; i < dnlen; i++)
        c->sum += (unsigned char)dn[i];
    for (size_t i = 0; i < a->n; i++) {
        const struct attr_value *v = &a->v[i];
        if (v->name_len == 0 || v->name_len >= LDIF_MAX_LINE || v->len >= LDIF_MAX_LINE)
            abort();
        if (memchr(v->name, ';', v->name_len) != NULL || memchr(v->name, ':', v->name_len))
            abort();
        c->sum += (unsigned char)v->name[0] + (unsigned char)v->name[v->name_len - 1];
        if (v->len > 0)
            c->sum += (unsigned char)v->val[0] + (unsigned char)v->val[v->len - 1];
        total += v->name_len + v->len;
    }
    if (total > LDIF_MAX_ENTRY)
        abort();
    if (!filter_match(sel, a) || is_group != filter_match(grp, a) ||
        is_disabled != filter_match(dis, a))
        abort();

    n = entry_map(&mapping, a, dn, dnlen, is_group, is_disabled, &c->e, &c->st);
    if (n != c->e.naddrs || c->e.id_len == 0 || c->e.id_len > RCPT_ENTRY_MAX ||
        strlen(c->e.id) != c->e.id_len)
        abort();
    if (n == 0)
        return;
    if (c->e.primary_len != c->e.addrs[0].len ||
        memcmp(c->e.primary, c->e.addrs[0].key, c->e.primary_len) != 0 ||
        c->e.addrs[0].kind != (is_group ? RCPT_GROUP : RCPT_USER))
        abort();
    for (size_t i = 0; i < n; i++) {
        char again[ADDR_KEY_SIZE];
        const struct sync_addr *s = &c->e.addrs[i];
        int r = addr_normalize(again, sizeof(again), s->key, s->len, ADDR_CATCHALL);
        if (r < 0 || (size_t)r != s->len || memcmp(again, s->key, s->len) != 0)
            abort(); /* a key is its own normal form */
        if (i > 0 && s->kind != RCPT_ALIAS)
            abort();
        for (size_t j = 0; j < i; j++)
            if (c->e.addrs[j].len == s->len && memcmp(c->e.addrs[j].key, s->key, s->len) == 0)
                abort(); /* duplicates are folded */
    }
}

static int sink_entry(void *ctx, const struct attrs *a, const char *dn, size_t dnlen, int is_group,
                      int is_disabled)
{
    struct fctx *c = ctx;

    check_entry(c, a, dn, dnlen, is_group, is_disabled);
    c->calls++;
    return c->calls == c->stop_at ? STOP_RC : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fctx c;
    struct source_sink sink = {sink_entry, &c};
    struct ldif_filters f;
    char err[512], *buf;
    FILE *fp;
    int rc;

    if (sel == NULL) {
        log_init("fuzz_ldif", 1, LOG_LEVEL_ERR);
        sel = compile("(!(objectClass=device))");
        grp = compile("(|(objectClass=groupOfNames)(objectClass=group)(cn=*grp*))");
        dis = compile("(|(description=disabled)(userAccountControl:1.2.840.113556.1.4.803:=2)"
                      "(!(mail=*)))");
    }
    f.select = sel;
    f.group = grp;
    f.disabled = dis;
    memset(&c, 0, sizeof(c));
    c.stop_at = size % 5 == 0 ? 2 : 0;
    buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    if (size > 0)
        memcpy(buf, data, size);
    fp = fmemopen(buf, size, "r");
    if (fp == NULL)
        abort();
    err[0] = '\0';
    rc = src_ldif_read(fp, "fuzz.ldif", &f, &sink, err, sizeof(err));
    fclose(fp);
    free(buf);
    entry_free(&c.e);

    if (rc == SOURCE_ERR) {
        const char *p = err + strlen("fuzz.ldif:");
        if (strncmp(err, "fuzz.ldif:", 10) != 0 || *p < '1' || *p > '9')
            abort();
        while (*p >= '0' && *p <= '9')
            p++;
        if (p[0] != ':' || p[1] != ' ' || p[2] == '\0')
            abort();
    } else if (rc == STOP_RC) {
        if (c.calls != c.stop_at)
            abort();
    } else if (rc != 0 || err[0] != '\0') {
        abort();
    }
    return 0;
}
