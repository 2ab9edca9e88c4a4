/*
 * src_ldap - paged LDAP search as a directory source; see src_ldap.h.
 */
#include "syncd/src_ldap.h"

#include <lber.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/hset.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "syncd/entry.h"
#include "syncd/ldap_conn.h"
#include "syncd/src_dir.h"

struct src_ldap_run {
    struct ldap_conn c; /* the connection, its configuration and error buffer */
    const struct conf *cf;
    struct berval **vals; /* the value arrays of the entry being decoded */
    size_t vcap;
    struct mapping map;
    struct hset groups, disabled;
    const struct source_sink *sink;
    struct attrs attrs;
    unsigned long references; /* search continuation references skipped */
    LDAPControl *ctrl;        /* one more control on each page request (or NULL) */
    struct berval ***more;    /* values fetched by range retrieval for the current entry */
    size_t nmore, cmore;
    char *err;
    size_t errlen;
};

/* src_ldap_fail - one message for the failed step; returns SOURCE_ERR */
static int src_ldap_fail(struct src_ldap_run *r, const char *act, int code, const char *detail)
{
    return ldap_conn_fail(&r->c, act, code, detail);
}

typedef int (*src_ldap_entry_fn)(struct src_ldap_run *r, LDAPMessage *entry, void *ctx);

/* src_ldap_send_page - send one page request */
static int src_ldap_send_page(struct src_ldap_run *r, const char *base, const char *filter,
                              char **attrs, struct berval *cookie, int *msgid)
{
    LDAPControl *page = NULL, *ctrls[3] = {NULL, r->ctrl, NULL};
    int rc;

    rc = ldap_create_page_control(r->c.ld, (ber_int_t)r->cf->ldap_page_size, cookie, 1, &page);
    if (rc != LDAP_SUCCESS)
        return src_ldap_fail(r, "creating the paged-results control", rc, NULL);
    ctrls[0] = page;
    rc = ldap_search_ext(r->c.ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL, NULL,
                         LDAP_NO_LIMIT, msgid);
    ldap_control_free(page);
    if (rc != LDAP_SUCCESS)
        return src_ldap_fail(r, "sending the search", rc, NULL);
    return 0;
}

/* src_ldap_page_result - check the page's result; sets the cookie for the next page */
static int src_ldap_page_result(struct src_ldap_run *r, LDAPMessage *msg, struct berval *cookie)
{
    LDAPControl **sctrls = NULL, *pc;
    char *errmsg = NULL, **refs = NULL;
    ber_int_t estimate;
    int code = 0, rc;

    rc = ldap_parse_result(r->c.ld, msg, &code, NULL, &errmsg, &refs, &sctrls, 0);
    if (rc != LDAP_SUCCESS || code != LDAP_SUCCESS || refs != NULL) {
        src_ldap_fail(r, "searching",
                      rc != LDAP_SUCCESS ? rc
                      : refs             ? LDAP_REFERRAL
                                         : code,
                      errmsg);
        rc = SOURCE_ERR;
        goto out;
    }
    ber_memfree(cookie->bv_val);
    cookie->bv_val = NULL;
    cookie->bv_len = 0;
    if ((pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL)) != NULL &&
        (rc = ldap_parse_pageresponse_control(r->c.ld, pc, &estimate, cookie)) != LDAP_SUCCESS) {
        src_ldap_fail(r, "reading the paged-results control", rc, NULL);
        rc = SOURCE_ERR;
    }
out:
    ldap_memfree(errmsg);
    ldap_memvfree((void **)refs);
    ldap_controls_free(sctrls);
    return rc;
}

/* src_ldap_search_paged - run one paged search, calling fn for each entry */
static int src_ldap_search_paged(struct src_ldap_run *r, const char *base, const char *filter,
                                 char **attrs, src_ldap_entry_fn fn, void *ctx)
{
    struct berval cookie = {0, NULL};
    struct timeval tv = {(time_t)r->cf->ldap_timeout, 0};
    int msgid, rc, more;

    if ((rc = src_ldap_send_page(r, base, filter, attrs, &cookie, &msgid)) != 0)
        return rc;
    do {
        LDAPMessage *res = NULL, *m;
        rc = ldap_result(r->c.ld, msgid, LDAP_MSG_ALL, &tv, &res);
        if (rc == 0) {
            ldap_abandon_ext(r->c.ld, msgid, NULL, NULL);
            rc = src_ldap_fail(r, "waiting for a page of results", LDAP_TIMEOUT, NULL);
            break;
        }
        if (rc < 0) {
            int code = LDAP_OTHER;
            ldap_get_option(r->c.ld, LDAP_OPT_RESULT_CODE, &code);
            rc = src_ldap_fail(r, "reading results", code, NULL);
            break;
        }
        /* find the result first, so the next page is on its way while this one is used */
        rc = SOURCE_ERR;
        for (m = ldap_first_message(r->c.ld, res); m != NULL; m = ldap_next_message(r->c.ld, m))
            if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
                rc = src_ldap_page_result(r, m, &cookie);
        if (rc == SOURCE_ERR && r->err[0] == '\0')
            src_ldap_fail(r, "searching", LDAP_OTHER, "no result message");
        more = rc == 0 && cookie.bv_len > 0;
        if (more)
            rc = src_ldap_send_page(r, base, filter, attrs, &cookie, &msgid);
        for (m = ldap_first_message(r->c.ld, res); rc == 0 && m != NULL;
             m = ldap_next_message(r->c.ld, m)) {
            int t = ldap_msgtype(m);
            if (t == LDAP_RES_SEARCH_ENTRY)
                rc = fn(r, m, ctx);
            else if (t == LDAP_RES_SEARCH_REFERENCE && r->references++ == 0)
                /* search continuation references (RFC 4511 4.5.3): other naming contexts
                 * under the base, which Active Directory names for every search from a
                 * domain root (Configuration, DomainDnsZones, ...). They hold no entries of
                 * this directory: skipped, never chased, not an error. */
                log_debug("ldap: skipping search continuation references under %s", base);
        }
        ldap_msgfree(res);
        if (rc != 0)
            break;
    } while (more);
    if (rc != 0 && more)
        ldap_abandon_ext(r->c.ld, msgid, NULL, NULL);
    ber_memfree(cookie.bv_val);
    return rc;
}

/*
 * One entry decoded without copying: the DN and the values point into the entry's
 * BerElement (as ldapsearch does it); only the value arrays are allocated, and the array
 * of them (r->vals) grows to the entry with the most attributes and is reused.
 */
struct src_ldap_held {
    BerElement *ber;
    struct berval dn;
    struct berval **vals; /* r->vals */
    size_t n;
};

/* src_ldap_entry_attrs - decode an entry into r->attrs (borrowed from h); -1 on error */
static int src_ldap_entry_attrs(struct src_ldap_run *r, LDAPMessage *e, struct src_ldap_held *h)
{
    struct berval name, *vals;
    int rc;

    attrs_clear(&r->attrs);
    h->n = 0;
    h->ber = NULL;
    h->vals = r->vals;
    if ((rc = ldap_get_dn_ber(r->c.ld, e, &h->ber, &h->dn)) != LDAP_SUCCESS)
        return src_ldap_fail(r, "decoding an entry", rc, NULL);
    for (;;) {
        vals = NULL;
        rc = ldap_get_attribute_ber(r->c.ld, e, h->ber, &name, &vals);
        if (rc != LDAP_SUCCESS)
            return src_ldap_fail(r, "decoding an entry", rc, NULL);
        if (name.bv_val == NULL)
            break;
        if (vals == NULL)
            continue;
        if (h->n == r->vcap) {
            r->vcap = r->vcap ? 2 * r->vcap : 16;
            r->vals = xreallocarray(r->vals, r->vcap, sizeof(*r->vals));
        }
        h->vals = r->vals;
        h->vals[h->n++] = vals;
        for (size_t i = 0; vals[i].bv_val != NULL; i++)
            attrs_add(&r->attrs, name.bv_val, name.bv_len, vals[i].bv_val, vals[i].bv_len);
    }
    return 0;
}

static void src_ldap_held_free(struct src_ldap_held *h)
{
    for (size_t i = 0; i < h->n; i++)
        ber_memfree(h->vals[i]);
    h->n = 0;
    if (h->ber != NULL)
        ber_free(h->ber, 0);
    h->ber = NULL;
}

/* src_ldap_entry_hash - the entry's id as entry.c computes it, hashed; 0 on error */
static uint64_t src_ldap_entry_hash(struct src_ldap_run *r, LDAPMessage *e)
{
    char id[RCPT_ENTRY_MAX + 1];
    struct src_ldap_held h;
    uint64_t hash = 0;

    if (src_ldap_entry_attrs(r, e, &h) == 0)
        hash =
            hset_hash(id, entry_id(&r->map, &r->attrs, h.dn.bv_val, h.dn.bv_len, id, sizeof(id)));
    src_ldap_held_free(&h);
    return hash;
}

static int src_ldap_collect_id(struct src_ldap_run *r, LDAPMessage *e, void *ctx)
{
    uint64_t h = src_ldap_entry_hash(r, e);

    if (h == 0)
        return SOURCE_ERR;
    hset_add(ctx, h);
    return 0;
}

static void src_ldap_more_free(struct src_ldap_run *r)
{
    for (size_t i = 0; i < r->nmore; i++)
        ber_bvecfree(r->more[i]);
    r->nmore = 0;
}

/* the most follow-up requests for one attribute of one entry (a server that never ends) */
#define SRC_LDAP_RANGE_MAX_STEPS 10000

/*
 * src_ldap_range_follow - the rest of attribute name (namelen bytes, without options) of the
 * entry dn after value index next-1: base searches for "name;range=NEXT-*" (or NEXT-END when
 * range_size asks for chunks) until the directory answers with a chunk ending in "-*". The
 * values are appended to r->attrs under the bare name; the arrays are kept in r->more.
 */
static int src_ldap_range_follow(struct src_ldap_run *r, const char *dn, const char *name,
                                 size_t namelen, unsigned long next)
{
    struct timeval tv = {(time_t)r->cf->ldap_timeout, 0};
    char want[160], *attrs[2] = {want, NULL}, detail[512];

    for (int step = 0; step < SRC_LDAP_RANGE_MAX_STEPS; step++) {
        LDAPMessage *res = NULL, *e;
        BerElement *ber = NULL;
        unsigned long low = 0, high = 0;
        int found = 0, rc;
        char *a;

        if (r->cf->ldap_range_size > 0)
            snprintf(want, sizeof(want), "%.*s;range=%lu-%lu", (int)namelen, name, next,
                     next + (unsigned long)r->cf->ldap_range_size - 1);
        else
            snprintf(want, sizeof(want), "%.*s;range=%lu-*", (int)namelen, name, next);
        rc = ldap_search_ext_s(r->c.ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
                               NULL, &tv, LDAP_NO_LIMIT, &res);
        if (rc != LDAP_SUCCESS) {
            ldap_msgfree(res);
            snprintf(detail, sizeof(detail), "range retrieval of %s in %.120s", want, dn);
            return src_ldap_fail(r, "searching", rc, detail);
        }
        e = ldap_first_entry(r->c.ld, res);
        for (a = e ? ldap_first_attribute(r->c.ld, e, &ber) : NULL; a != NULL;
             a = ldap_next_attribute(r->c.ld, e, ber)) {
            struct attr_value v = {.name = a, .name_len = strcspn(a, ";"), .full_len = strlen(a)};
            struct berval **vals;
            if (v.name_len != namelen || strncasecmp(a, name, namelen) != 0 ||
                attrs_range(&v, &low, &high) != 1) {
                ldap_memfree(a);
                continue;
            }
            found = 1;
            vals = ldap_get_values_len(r->c.ld, e, a);
            ldap_memfree(a);
            if (vals != NULL) {
                if (r->nmore == r->cmore) {
                    r->cmore = r->cmore ? 2 * r->cmore : 8;
                    r->more = xreallocarray(r->more, r->cmore, sizeof(*r->more));
                }
                r->more[r->nmore++] = vals;
                for (size_t i = 0; vals[i] != NULL; i++)
                    attrs_add(&r->attrs, name, namelen, vals[i]->bv_val, vals[i]->bv_len);
            }
            break;
        }
        ber_free(ber, 0);
        ldap_msgfree(res);
        if (!found || low != next || (high != ATTRS_RANGE_END && high < low)) {
            snprintf(detail, sizeof(detail), "range retrieval of %s in %.120s: %s", want, dn,
                     found ? "the directory answered another range" : "no values came back");
            return src_ldap_fail(r, "searching", LDAP_OTHER, detail);
        }
        if (high == ATTRS_RANGE_END)
            return 0;
        next = high + 1;
    }
    snprintf(detail, sizeof(detail), "range retrieval of %.*s in %.120s: more than %d requests",
             (int)namelen, name, dn, SRC_LDAP_RANGE_MAX_STEPS);
    return src_ldap_fail(r, "searching", LDAP_OTHER, detail);
}

/*
 * src_ldap_ranges - Active Directory range retrieval: an attribute that came as
 * "name;range=LOW-HIGH" with HIGH not "*" (more values than the DC sends at once, 1500 on
 * Windows, or the chunk range_size asked for) is followed to its end; the chunk already here
 * then counts as whole (its options are dropped from the name)
 */
static int src_ldap_ranges(struct src_ldap_run *r, struct src_ldap_held *h)
{
    size_t n0 = r->attrs.n;

    for (size_t i = 0; i < n0; i++) {
        struct attr_value *v = &r->attrs.v[i];
        unsigned long low, high;
        int rc = attrs_range(v, &low, &high);
        if (rc == 0 || (rc == 1 && high == ATTRS_RANGE_END))
            continue;
        if (rc < 0)
            return src_ldap_fail(r, "decoding an entry", LDAP_DECODING_ERROR,
                                 "a malformed ;range= option");
        /* every value of this chunk (they are adjacent) counts as whole from now on */
        for (size_t j = i; j < n0; j++)
            if (r->attrs.v[j].name == v->name)
                r->attrs.v[j].full_len = r->attrs.v[j].name_len;
        if ((rc = src_ldap_range_follow(r, h->dn.bv_val, v->name, v->name_len, high + 1)) != 0)
            return rc;
    }
    return 0;
}

/* src_ldap_deliver - one entry of the main search to the sink */
static int src_ldap_deliver(struct src_ldap_run *r, LDAPMessage *e, void *ctx)
{
    char id[RCPT_ENTRY_MAX + 1];
    struct src_ldap_held h;
    uint64_t hash;
    int rc;

    (void)ctx;
    if ((rc = src_ldap_entry_attrs(r, e, &h)) == 0 && (rc = src_ldap_ranges(r, &h)) == 0) {
        hash =
            hset_hash(id, entry_id(&r->map, &r->attrs, h.dn.bv_val, h.dn.bv_len, id, sizeof(id)));
        rc = r->sink->entry(r->sink->ctx, &r->attrs, h.dn.bv_val, h.dn.bv_len,
                            hset_has(&r->groups, hash), hset_has(&r->disabled, hash));
    }
    src_ldap_held_free(&h);
    src_ldap_more_free(r);
    return rc;
}

/* src_ldap_and - "(&A B)" */
static char *src_ldap_and(const char *a, const char *b)
{
    return xasprintf("(&%s%s)", a, b);
}

/* src_ldap_read - the whole directory into sink; 0, SOURCE_ERR, or the sink's code */
int src_ldap_read_on(const struct conf *cf, LDAP *ld, const char *extra,
                     const struct source_sink *sink, char *err, size_t errlen)
{
    struct src_ldap_run r = {.c = {.cf = cf, .err = err, .errlen = errlen, .ld = ld},
                             .cf = cf,
                             .sink = sink,
                             .err = err,
                             .errlen = errlen};
    char **attrs, **ranged, *id_attrs[16 + 1], *filter = NULL;
    size_t na = 0, ni = 0;
    int rc = 0;

    err[0] = '\0';
    src_dir_mapping(cf, &r.map);
    attrs = xcalloc(cf->map_address_attrs.n + cf->map_id_attrs.n + 2, sizeof(*attrs));
    ranged = xcalloc(cf->map_address_attrs.n + 1, sizeof(*ranged));
    for (size_t i = 0; i < cf->map_address_attrs.n; i++) {
        const char *a = cf->map_address_attrs.v[i];
        /* range_size: ask for the first chunk of each multi-valued address attribute */
        if (cf->ldap_range_size > 0 && strcasecmp(a, cf->map_primary_attr) != 0)
            a = ranged[i] = xasprintf("%s;range=0-%lld", a, cf->ldap_range_size - 1);
        attrs[na++] = (char *)(uintptr_t)a;
    }
    attrs[na++] = cf->map_primary_attr;
    for (size_t i = 0; i < cf->map_id_attrs.n && ni < 16; i++)
        attrs[na++] = id_attrs[ni++] = cf->map_id_attrs.v[i];
    id_attrs[ni] = NULL;
    if (ni == 0) {
        id_attrs[0] = (char *)(uintptr_t)LDAP_NO_ATTRS;
        id_attrs[1] = NULL;
    }

    if (ld == NULL && (rc = ldap_conn_open(&r.c)) != 0)
        goto out;
    filter = extra ? src_ldap_and(cf->map_filter, extra) : xstrdup(cf->map_filter);
    for (size_t b = 0; rc == 0 && b < cf->ldap_base.n; b++) {
        const char *base = cf->ldap_base.v[b];
        char *f;
        if (cf->map_group_filter[0] != '\0') {
            f = src_ldap_and(filter, cf->map_group_filter);
            rc = src_ldap_search_paged(&r, base, f, id_attrs, src_ldap_collect_id, &r.groups);
            free(f);
        }
        if (rc == 0 && cf->map_disabled_filter[0] != '\0') {
            f = src_ldap_and(filter, cf->map_disabled_filter);
            rc = src_ldap_search_paged(&r, base, f, id_attrs, src_ldap_collect_id, &r.disabled);
            free(f);
        }
    }
    for (size_t b = 0; rc == 0 && b < cf->ldap_base.n; b++)
        rc = src_ldap_search_paged(&r, cf->ldap_base.v[b], filter, attrs, src_ldap_deliver, NULL);
out:
    if (ld == NULL)
        ldap_conn_close(&r.c);
    free(filter);
    hset_free(&r.groups);
    hset_free(&r.disabled);
    attrs_free(&r.attrs);
    free(r.vals);
    src_ldap_more_free(&r);
    free(r.more);
    for (size_t i = 0; i < cf->map_address_attrs.n; i++)
        free(ranged[i]);
    free(ranged);
    free(attrs);
    return rc;
}

int src_ldap_bind(const struct conf *cf, LDAP **ld, char *err, size_t errlen)
{
    struct ldap_conn c = {.cf = cf, .err = err, .errlen = errlen};
    int rc;

    err[0] = '\0';
    rc = ldap_conn_open(&c);
    *ld = c.ld; /* NULL unless rc == 0: ldap_conn_open() closes what it could not bind */
    return rc;
}

struct src_ldap_ids_ctx {
    int (*fn)(void *ctx, const char *id, size_t len);
    void *ctx;
};

static int src_ldap_id_deliver(struct src_ldap_run *r, LDAPMessage *e, void *ctx)
{
    struct src_ldap_ids_ctx *c = ctx;
    char id[RCPT_ENTRY_MAX + 1];
    struct src_ldap_held h;
    int rc;

    if ((rc = src_ldap_entry_attrs(r, e, &h)) == 0)
        rc = c->fn(c->ctx, id,
                   entry_id(&r->map, &r->attrs, h.dn.bv_val, h.dn.bv_len, id, sizeof(id)));
    src_ldap_held_free(&h);
    return rc;
}

int src_ldap_ids(const struct conf *cf, LDAP *ld, const char *base, const char *filter,
                 LDAPControl *ctrl, int (*fn)(void *ctx, const char *id, size_t len), void *ctx,
                 char *err, size_t errlen)
{
    struct src_ldap_run r = {.c = {.cf = cf, .err = err, .errlen = errlen, .ld = ld},
                             .cf = cf,
                             .err = err,
                             .errlen = errlen,
                             .ctrl = ctrl};
    struct src_ldap_ids_ctx c = {fn, ctx};
    char *attrs[16 + 1];
    size_t n = 0;
    int rc;

    err[0] = '\0';
    src_dir_mapping(cf, &r.map);
    for (size_t i = 0; i < cf->map_id_attrs.n && n < 16; i++)
        attrs[n++] = cf->map_id_attrs.v[i];
    attrs[n] = NULL;
    rc = src_ldap_search_paged(&r, base, filter, attrs, src_ldap_id_deliver, &c);
    attrs_free(&r.attrs);
    free(r.vals);
    return rc;
}

static void src_ldap_describe(const struct conf *cf, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", cf->ldap_uri.n ? cf->ldap_uri.v[0] : "ldap",
             cf->ldap_base.n ? cf->ldap_base.v[0] : "");
}

static int src_ldap_run(struct source_run *run)
{
    struct src_dir d;
    int rc;

    if ((rc = src_dir_open(&d, run)) == 0)
        rc = src_ldap_read_on(run->cf, NULL, NULL, &d.sink, run->err, run->errlen);
    return src_dir_close(&d, rc);
}

const struct source src_ldap = {
    .name = "ldap",
    .conf = CONF_SOURCE_LDAP,
    .describe = src_ldap_describe,
    .run = src_ldap_run,
};
