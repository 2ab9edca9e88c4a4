/*
 * src_ad - Active Directory, incremental: [ldap] preset = ad with incremental = yes.
 *
 * Why uSNChanged and not DirSync: uSNChanged polling needs no rights beyond reading the
 * objects (DirSync needs "Replicating Directory Changes" on the whole naming context, or
 * its object-security mode, which Samba and AD answer differently), works on any base (an
 * OU; DirSync only on a partition root), combines with paging (DirSync does not), and its
 * state is one number per DC that we can check (DirSync's cookie is opaque and may be
 * refused by another DC or Windows version). Both are bound to one DC.
 *
 * One run:
 *   1. bind (src_ldap_bind: the same connection rules as src_ldap); read the root DSE:
 *      highestCommittedUSN (H), dsServiceName, defaultNamingContext; read the DC's
 *      invocationId from its dsServiceName object.
 *   2. the stored state (meta "src.ad.*", apply_state_get): the mark M, the DC's
 *      invocationId and a fingerprint of the mapping configuration. No mark, another
 *      invocationId (another DC, or this one restored from a backup), M > H (restored),
 *      another configuration -> a full sync (src_ldap's reader through the full-stream
 *      driver: mark and sweep, the safety rules).
 *   3. otherwise the changes since M through the entry-change driver (apply_change.h):
 *        a. the configured searches with (uSNChanged>=M+1) added: every entry that changed
 *           and matches the filter *now* is put (its addresses replace the stored ones;
 *           group and disabled are evaluated by the directory, as in a full sync);
 *        b. a search of the whole domain for (uSNChanged>=M+1) with the Show Deleted
 *           control, ids only: every changed object not put in (a) left the store's view
 *           (deleted: a tombstone keeps its objectGUID; moved out of the base; no longer
 *           matching the filter, e.g. mail removed) and is deleted by id (an id the store
 *           does not hold is no change).
 *   4. the new mark is H as read *before* the searches (a change made meanwhile is read
 *      again next time: putting an entry twice is harmless); mark, invocationId, DC name
 *      and fingerprint are written in the sync's own transaction (apply_state_put).
 *
 * Tombstones outlive their deletion for the tombstone lifetime (60 or 180 days): a store
 * not synced for longer must be synced in full (--full). Ownership: everything is freed
 * before run() returns.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hset.h"
#include "common/log.h"
#include "common/str.h"
#include "syncd/apply_change.h"
#include "syncd/entry.h"
#include "syncd/source.h"
#include "syncd/src_dir.h"
#include "syncd/src_ldap.h"

#define SRC_AD_SHOW_DELETED "1.2.840.113556.1.4.417"

/* what the DC says about itself */
struct src_ad_dc {
    char usn[32];      /* highestCommittedUSN, decimal */
    char service[512]; /* dsServiceName */
    char nc[512];      /* defaultNamingContext */
    char invocation[64];
};

/* one incremental run */
struct src_ad_inc {
    struct source_run *run;
    struct mapping map;
    struct sync_entry entry;
    struct map_stats stats;
    struct hset put; /* ids put in step (a) */
    uint64_t puts, deletes;
    char why[256];
};

/* src_ad_first - the first value of attr in the only entry of a base search; "" when absent */
static int src_ad_base_value(LDAP *ld, const char *dn, const char *attr, int hex, char *buf,
                             size_t cap, char *err, size_t errlen)
{
    char *attrs[2] = {(char *)(uintptr_t)attr, NULL};
    LDAPMessage *res = NULL, *e;
    struct berval **v;
    int rc;

    buf[0] = '\0';
    rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, NULL,
                           LDAP_NO_LIMIT, &res);
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        snprintf(err, errlen, "ad: reading %s of '%.200s': %s", attr, dn, ldap_err2string(rc));
        return SOURCE_ERR;
    }
    if ((e = ldap_first_entry(ld, res)) != NULL && (v = ldap_get_values_len(ld, e, attr)) != NULL) {
        if (v[0] != NULL) {
            size_t n = v[0]->bv_len;
            if (hex) {
                str_hex(buf, cap, v[0]->bv_val, n);
            } else {
                snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), v[0]->bv_val);
            }
        }
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
    return 0;
}

static int src_ad_dc_read(LDAP *ld, struct src_ad_dc *dc, char *err, size_t errlen)
{
    int rc;

    if ((rc = src_ad_base_value(ld, "", "highestCommittedUSN", 0, dc->usn, sizeof(dc->usn), err,
                                errlen)) != 0 ||
        (rc = src_ad_base_value(ld, "", "dsServiceName", 0, dc->service, sizeof(dc->service), err,
                                errlen)) != 0 ||
        (rc = src_ad_base_value(ld, "", "defaultNamingContext", 0, dc->nc, sizeof(dc->nc), err,
                                errlen)) != 0)
        return rc;
    if (dc->usn[0] == '\0' || dc->service[0] == '\0' || dc->nc[0] == '\0') {
        snprintf(err, errlen,
                 "ad: the server's root DSE has no highestCommittedUSN, dsServiceName or "
                 "defaultNamingContext: not an Active Directory DC (incremental = yes needs one)");
        return SOURCE_ERR;
    }
    if ((rc = src_ad_base_value(ld, dc->service, "invocationId", 1, dc->invocation,
                                sizeof(dc->invocation), err, errlen)) != 0)
        return rc;
    if (dc->invocation[0] == '\0') {
        snprintf(err, errlen, "ad: no invocationId on '%.200s'", dc->service);
        return SOURCE_ERR;
    }
    return 0;
}

/* src_ad_fingerprint - what the mapping configuration selects: another one -> full sync */
static void src_ad_fingerprint(const struct conf *cf, char *buf, size_t cap)
{
    char text[8192];
    size_t n = 0;

#define SRC_AD_ADD(s)                                                                              \
    n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, "%s\n", (s))
    for (size_t i = 0; i < cf->ldap_base.n; i++)
        SRC_AD_ADD(cf->ldap_base.v[i]);
    SRC_AD_ADD(cf->map_filter);
    SRC_AD_ADD(cf->map_group_filter);
    SRC_AD_ADD(cf->map_disabled_filter);
    SRC_AD_ADD(cf->map_primary_attr);
    for (size_t i = 0; i < cf->map_address_attrs.n; i++)
        SRC_AD_ADD(cf->map_address_attrs.v[i]);
    for (size_t i = 0; i < cf->map_id_attrs.n; i++)
        SRC_AD_ADD(cf->map_id_attrs.v[i]);
#undef SRC_AD_ADD
    snprintf(buf, cap, "%016llx",
             (unsigned long long)hset_hash(text, n < sizeof(text) ? n : sizeof(text)));
}

/* the sink of step (a): an entry that changed and matches the filter now */
static int src_ad_put(void *ctx, const struct attrs *a, const char *dn, size_t dnlen, int is_group,
                      int is_disabled)
{
    struct src_ad_inc *c = ctx;
    uint64_t cut = c->stats.range_cut;
    size_t n;
    int rc;

    if (*c->run->stop)
        return SOURCE_ERR;
    n = entry_map(&c->map, a, dn, dnlen, is_group, is_disabled, &c->entry, &c->stats);
    if (c->stats.range_cut != cut) {
        snprintf(c->why, sizeof(c->why), "an entry came with an address attribute cut short");
        return SOURCE_ERR;
    }
    hset_add(&c->put, hset_hash(c->entry.id, c->entry.id_len));
    c->puts++;
    rc = n > 0 ? apply_change_put(c->run->apply, &c->entry)
               : apply_change_delete(c->run->apply, c->entry.id, c->entry.id_len);
    return rc;
}

/* step (b): a changed object that was not put is gone from the store's view */
static int src_ad_gone(void *ctx, const char *id, size_t len)
{
    struct src_ad_inc *c = ctx;

    if (*c->run->stop)
        return SOURCE_ERR;
    if (hset_has(&c->put, hset_hash(id, len)))
        return 0;
    c->deletes++;
    return apply_change_delete(c->run->apply, id, len);
}

static int src_ad_incremental(struct source_run *run, LDAP *ld, const struct src_ad_dc *dc,
                              unsigned long long mark)
{
    struct src_ad_inc c = {.run = run};
    struct source_sink sink = {src_ad_put, &c};
    LDAPControl *show = NULL;
    char extra[64];
    int rc;

    if ((rc = apply_change_start(run->apply)) != 0)
        return rc;
    src_dir_mapping(run->cf, &c.map);
    snprintf(extra, sizeof(extra), "(uSNChanged>=%llu)", mark + 1);
    rc = src_ldap_read_on(run->cf, ld, extra, &sink, run->err, run->errlen);
    if (rc == 0 && (rc = ldap_control_create(SRC_AD_SHOW_DELETED, 1, NULL, 0, &show)) != 0) {
        snprintf(run->err, run->errlen, "ad: creating the Show Deleted control: %s",
                 ldap_err2string(rc));
        rc = SOURCE_ERR;
    }
    if (rc == 0)
        rc = src_ldap_ids(run->cf, ld, dc->nc, extra, show, src_ad_gone, &c, run->err, run->errlen);
    if (rc == SOURCE_ERR && run->err[0] == '\0')
        snprintf(run->err, run->errlen, "ad: %s", c.why[0] ? c.why : "stopped");
    run->invalid = c.stats.invalid;
    if (rc == 0)
        snprintf(run->note, sizeof(run->note),
                 "ad: changes since USN %llu: %llu entries read, %llu gone", mark,
                 (unsigned long long)c.puts, (unsigned long long)c.deletes);
    ldap_control_free(show);
    hset_free(&c.put);
    entry_free(&c.entry);
    return rc;
}

static int src_ad_full(struct source_run *run, LDAP *ld, const char *why)
{
    struct src_dir d;
    int rc;

    log_info("ad: full sync: %s", why);
    if ((rc = src_dir_open(&d, run)) == 0)
        rc = src_ldap_read_on(run->cf, ld, NULL, &d.sink, run->err, run->errlen);
    rc = src_dir_close(&d, rc);
    if (rc == 0 && run->note[0] == '\0')
        snprintf(run->note, sizeof(run->note), "ad: full sync (%s)", why);
    return rc;
}

static int src_ad_run(struct source_run *run)
{
    struct src_ad_dc dc = {0};
    char mark[64] = "", inv[64] = "", fp[32] = "", want_fp[32], why[128] = "";
    unsigned long long m = 0, h;
    LDAP *ld;
    int rc;

    if ((rc = src_ldap_bind(run->cf, &ld, run->err, run->errlen)) != 0)
        return rc;
    if ((rc = src_ad_dc_read(ld, &dc, run->err, run->errlen)) != 0)
        goto out;
    h = strtoull(dc.usn, NULL, 10);
    src_ad_fingerprint(run->cf, want_fp, sizeof(want_fp));
    if (apply_state_get(run->apply, "ad.usn", mark, sizeof(mark)) != 0 || mark[0] == '\0')
        snprintf(why, sizeof(why), "no high-water mark in the store");
    else if (apply_state_get(run->apply, "ad.invocation", inv, sizeof(inv)) != 0 ||
             strcmp(inv, dc.invocation) != 0)
        snprintf(why, sizeof(why), "another DC (invocationId %.32s, the mark is from %.32s)",
                 dc.invocation, inv[0] ? inv : "none");
    else if ((m = strtoull(mark, NULL, 10)) > h)
        snprintf(why, sizeof(why),
                 "the DC's highestCommittedUSN %llu is below the mark %llu "
                 "(restored from a backup?)",
                 h, m);
    else if (apply_state_get(run->apply, "ad.config", fp, sizeof(fp)) != 0 ||
             strcmp(fp, want_fp) != 0)
        snprintf(why, sizeof(why), "the mapping configuration changed");
    rc = why[0] ? src_ad_full(run, ld, why) : src_ad_incremental(run, ld, &dc, m);
    if (rc == 0 && ((rc = apply_state_put(run->apply, "ad.usn", dc.usn)) != 0 ||
                    (rc = apply_state_put(run->apply, "ad.invocation", dc.invocation)) != 0 ||
                    (rc = apply_state_put(run->apply, "ad.dc", dc.service)) != 0 ||
                    (rc = apply_state_put(run->apply, "ad.config", want_fp)) != 0))
        snprintf(run->err, run->errlen, "ad: writing the high-water mark failed");
out:
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}

static void src_ad_describe(const struct conf *cf, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s (ad, incremental)", cf->ldap_uri.n ? cf->ldap_uri.v[0] : "ldap",
             cf->ldap_base.n ? cf->ldap_base.v[0] : "");
}

const struct source src_ad = {
    .name = "ad",
    .conf = CONF_SOURCE_AD,
    .describe = src_ad_describe,
    .run = src_ad_run,
};
