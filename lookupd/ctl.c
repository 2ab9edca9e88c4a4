/*
 * ctl - the operator's listings and -q --explain; see ctl.h.
 */
#include "lookupd/ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "lookupd/db.h"
#include "lookupd/http.h"
#include "schema/store_list.h"

/* ctl_str - a JSON string of stored bytes, or null when they are not UTF-8 */
static json_t *ctl_str(const char *s, size_t len)
{
    json_t *v = json_stringn(s, len);

    return v != NULL ? v : json_null();
}

/* ctl_print_json - one compact line; takes v */
static void ctl_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(v);
}

/* the counts of --count */
struct ctl_counts {
    uint64_t addresses, domains, entries, catchalls;
    uint64_t kind[4];  /* by enum rcpt_kind */
    uint64_t state[3]; /* by enum rcpt_state */
};

static int ctl_addr(void *ctx, const char *key, size_t len, const struct rcpt *r)
{
    const struct ctl_opts *o = ctx;
    json_t *v;

    if (!o->json) {
        printf("%.*s\t%s\t%s\t%.*s\n", (int)len, key, rcpt_kind_name(r->kind),
               rcpt_state_name(r->state), (int)r->primary_len, r->primary);
        return 0;
    }
    v = json_object();
    json_object_set_new(v, "address", ctl_str(key, len));
    json_object_set_new(v, "kind", json_string(rcpt_kind_name(r->kind)));
    json_object_set_new(v, "state", json_string(rcpt_state_name(r->state)));
    json_object_set_new(v, "primary", ctl_str(r->primary, r->primary_len));
    ctl_print_json(v);
    return 0;
}

static const char *ctl_domain_kind(enum store_domain_kind kind)
{
    return kind == STORE_DOMAIN_CONFIGURED ? "configured" : "derived";
}

static int ctl_domain(void *ctx, const char *dom, size_t len, enum store_domain_kind kind)
{
    const struct ctl_opts *o = ctx;
    json_t *v;

    if (!o->json) {
        printf("%.*s\t%s\n", (int)len, dom, ctl_domain_kind(kind));
        return 0;
    }
    v = json_object();
    json_object_set_new(v, "domain", ctl_str(dom, len));
    json_object_set_new(v, "source", json_string(ctl_domain_kind(kind)));
    ctl_print_json(v);
    return 0;
}

static int ctl_entry(void *ctx, const char *id, size_t len, const struct store_entry *e)
{
    const struct ctl_opts *o = ctx;
    const char *state = e->state != 0 ? rcpt_state_name(e->state) : "unknown";
    const char *kind = e->kind != 0 ? rcpt_kind_name(e->kind) : "unknown";
    const char *k;
    size_t off = 0, n;
    json_t *v, *addrs;

    if (!o->json) {
        printf("%.*s\t%s\t%s\t", (int)len, id, state, kind);
        for (int first = 1; store_entry_next(e, &off, &k, &n) == 1; first = 0)
            printf("%s%.*s", first ? "" : ",", (int)n, k);
        printf("\n");
        return 0;
    }
    v = json_object();
    addrs = json_array();
    json_object_set_new(v, "id", ctl_str(id, len));
    json_object_set_new(v, "state", json_string(state));
    json_object_set_new(v, "kind", json_string(kind));
    while (store_entry_next(e, &off, &k, &n) == 1)
        json_array_append_new(addrs, ctl_str(k, n));
    json_object_set_new(v, "addresses", addrs);
    ctl_print_json(v);
    return 0;
}

static int ctl_count_addr(void *ctx, const char *key, size_t len, const struct rcpt *r)
{
    struct ctl_counts *c = ctx;

    c->addresses++;
    c->catchalls += len > 0 && key[0] == '@';
    if ((unsigned)r->kind < 4)
        c->kind[r->kind]++;
    if ((unsigned)r->state < 3)
        c->state[r->state]++;
    return 0;
}

static int ctl_count_domain(void *ctx, const char *dom, size_t len, enum store_domain_kind kind)
{
    (void)dom;
    (void)len;
    (void)kind;
    ((struct ctl_counts *)ctx)->domains++;
    return 0;
}

static int ctl_count_entry(void *ctx, const char *id, size_t len, const struct store_entry *e)
{
    (void)id;
    (void)len;
    (void)e;
    ((struct ctl_counts *)ctx)->entries++;
    return 0;
}

/* ctl_count - every walk, counted; printed as lines or one JSON object */
static int ctl_count(MDB_txn *txn, const struct store *st, const struct ctl_opts *o)
{
    struct ctl_counts c = {0};
    const struct {
        const char *name;
        uint64_t *v;
    } rows[] = {
        {"addresses", &c.addresses},       {"domains", &c.domains},
        {"entries", &c.entries},           {"user", &c.kind[RCPT_USER]},
        {"group", &c.kind[RCPT_GROUP]},    {"alias", &c.kind[RCPT_ALIAS]},
        {"active", &c.state[RCPT_ACTIVE]}, {"disabled", &c.state[RCPT_DISABLED]},
        {"catch-all", &c.catchalls},
    };
    json_t *v;
    int rc;

    if ((rc = store_list_addrs(txn, st, o->domain, ctl_count_addr, &c)) != 0 ||
        (rc = store_list_domains(txn, st, o->domain, ctl_count_domain, &c)) != 0 ||
        (rc = store_list_entries(txn, st, o->domain, ctl_count_entry, &c)) != 0)
        return rc;
    if (!o->json) {
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            printf("%s\t%" PRIu64 "\n", rows[i].name, *rows[i].v);
        return 0;
    }
    v = json_object();
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        json_object_set_new(v, rows[i].name, json_integer((json_int_t)*rows[i].v));
    if (o->domain != NULL)
        json_object_set_new(v, "domain", json_string(o->domain));
    ctl_print_json(v);
    return 0;
}

int ctl_list(const struct conf *cf, enum ctl_what what, const struct ctl_opts *o)
{
    struct store *st;
    MDB_txn *txn;
    int rc;

    if ((rc = store_open(&st, cf->store_path, STORE_RDONLY, 0)) != 0) {
        fprintf(stderr, "rcptdir-lookupd: error: store %s: %s\n", cf->store_path,
                store_strerror(rc));
        return EX_TEMPFAIL;
    }
    if ((rc = store_begin(st, MDB_RDONLY, &txn)) == 0) {
        switch (what) {
        case CTL_LIST:
            rc = store_list_addrs(txn, st, o->domain, ctl_addr, (void *)(uintptr_t)o);
            break;
        case CTL_DOMAINS:
            rc = store_list_domains(txn, st, o->domain, ctl_domain, (void *)(uintptr_t)o);
            break;
        case CTL_ENTRIES:
            rc = store_list_entries(txn, st, o->domain, ctl_entry, (void *)(uintptr_t)o);
            break;
        case CTL_COUNT:
            rc = ctl_count(txn, st, o);
            break;
        }
        mdb_txn_abort(txn);
    }
    store_close(st);
    if (rc != 0) {
        fprintf(stderr, "rcptdir-lookupd: error: store %s: %s\n", cf->store_path,
                store_strerror(rc));
        return EX_TEMPFAIL;
    }
    return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

/* ctl_rule - the rule that decided a found or missing answer */
static const char *ctl_rule(const struct lookup_answer *ans)
{
    switch (ans->result) {
    case LOOKUP_DISABLED:
        return "disabled";
    case LOOKUP_VALID:
        if (ans->match == ADDR_MATCH_CATCHALL)
            return "catch-all";
        if (ans->match == ADDR_MATCH_EXTENSION)
            return "extension";
        return ans->kind == RCPT_ALIAS ? "alias" : "exact";
    default:
        return lookup_result_name(ans->result);
    }
}

int ctl_explain(const struct conf *cf, const struct lookup_opts *opts, const char *addr)
{
    struct lk_reader rd = {0};
    struct lookup_answer ans;
    struct lk_db *db = lk_db_new(cf->store_path);
    char entry[1024] = "";
    int rc, found, have_entry = 0;
    json_t *v;

    lk_db_batch_begin(&rd); /* the lookup and the entry search read one snapshot */
    rc = lk_db_lookup(db, &rd, opts, 0, addr, strlen(addr), &ans);
    found = ans.result == LOOKUP_VALID || ans.result == LOOKUP_DISABLED;
    if (found && rd.active && rd.err == 0)
        have_entry = store_entry_of(rd.txn, rd.st, ans.matched, strlen(ans.matched), entry,
                                    sizeof(entry)) == 0;
    lk_db_batch_end(db, &rd);
    lk_db_reader_close(db, &rd);
    lk_db_free(db);

    v = http_answer_json(addr, strlen(addr), &ans);
    json_object_set_new(v, "rule", json_string(ctl_rule(&ans)));
    if (found) {
        json_object_set_new(v, "match", json_string(addr_match_name(ans.match)));
        json_object_set_new(v, "matched", json_string(ans.matched));
        json_object_set_new(v, "entry", have_entry ? ctl_str(entry, strlen(entry)) : json_null());
    }
    if (ans.result == LOOKUP_DISABLED)
        json_object_set_new(
            v, "disabled_by",
            json_string(cf->map_disabled_filter != NULL && cf->map_disabled_filter[0] != '\0'
                            ? cf->map_disabled_filter
                            : "the source (a hub's disabled_filter)"));
    if (ans.result != LOOKUP_INVALID) {
        json_object_set_new(v, "last_success", json_integer((json_int_t)ans.last_success));
        json_object_set_new(v, "age",
                            ans.last_success != 0
                                ? json_integer((json_int_t)(time(NULL) - (time_t)ans.last_success))
                                : json_null());
    }
    ctl_print_json(v);
    if (rc < 0)
        return EX_TEMPFAIL;
    return ans.result == LOOKUP_VALID ? 0 : 1;
}
