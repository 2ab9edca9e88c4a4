/*
 * status - the snapshot behind /v1/status, /v1/history and the status page; see status.h.
 */
#include "lookupd/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "common/xmalloc.h"
#include "lookupd/feedsrv.h"

const char *status_verdict_name(enum status_verdict v)
{
    switch (v) {
    case STATUS_HEALTHY:
        return "healthy";
    case STATUS_FAILED:
        return "last sync failed";
    case STATUS_STALE:
        return "stale";
    case STATUS_UNAVAILABLE:
        return "store unavailable";
    }
    return "?";
}

void status_age_text(char *buf, size_t len, long long secs)
{
    if (secs < 0)
        secs = 0;
    if (secs < 60)
        snprintf(buf, len, "%lld s", secs);
    else if (secs < 3600)
        snprintf(buf, len, "%lld min", secs / 60);
    else if (secs < 86400 && secs % 3600 / 60 == 0)
        snprintf(buf, len, "%lld h", secs / 3600);
    else if (secs < 86400)
        snprintf(buf, len, "%lld h %lld min", secs / 3600, secs % 3600 / 60);
    else if (secs % 86400 / 3600 == 0)
        snprintf(buf, len, "%lld d", secs / 86400);
    else
        snprintf(buf, len, "%lld d %lld h", secs / 86400, secs % 86400 / 3600);
}

enum status_verdict status_verdict_of(const struct lk_status *s, char *reason, size_t len)
{
    const struct store_info *in = &s->info;
    char age[64], max[64];
    int failing = in->last_result[0] != '\0' && strcmp(in->last_result, "ok") != 0;

    status_age_text(age, sizeof(age), (long long)s->now - (long long)in->last_success);
    status_age_text(max, sizeof(max), s->max_age);
    switch (s->fresh) {
    case LOOKUP_UNREADABLE:
        snprintf(reason, len, "the store cannot be read: %s; every lookup is a temporary failure",
                 s->store_error);
        return STATUS_UNAVAILABLE;
    case LOOKUP_NEVER:
        snprintf(reason, len, "no sync has succeeded yet%s%s; every lookup is a temporary failure",
                 failing ? ": " : "", failing ? in->last_error : "");
        return STATUS_STALE;
    case LOOKUP_STALE:
        snprintf(reason, len,
                 "the last good sync was %s ago, more than max_age (%s): unknown addresses get "
                 "a temporary failure%s%s",
                 age, max, failing ? "; last attempt: " : "", failing ? in->last_error : "");
        return STATUS_STALE;
    case LOOKUP_FRESH:
        break;
    }
    if (failing) {
        snprintf(reason, len,
                 "the last attempt %s: %s. Lookups still answer from the sync of %s ago, "
                 "within max_age (%s)",
                 strcmp(in->last_result, "refused") == 0 ? "was refused" : "failed", in->last_error,
                 age, max);
        return STATUS_FAILED;
    }
    snprintf(reason, len, "the last sync succeeded %s ago (max_age %s)", age, max);
    return STATUS_HEALTHY;
}

/* status_copy - bytes into a NUL-terminated buffer of cap bytes (cut to fit) */
static void status_copy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int status_take_sync(void *ctx, const struct store_hist *h)
{
    struct lk_status *s = ctx;
    int today = h->time + 86400 > (uint64_t)s->now;
    struct status_sync *y;

    if (today) {
        s->day.ok += h->result == STORE_HIST_OK;
        s->day.refused += h->result == STORE_HIST_REFUSED;
        s->day.failed += h->result == STORE_HIST_FAILED;
        if (h->result == STORE_HIST_OK) {
            s->day.added += h->added;
            s->day.changed += h->changed;
            s->day.removed += h->removed;
        }
    }
    if (s->nsyncs >= s->maxsyncs)
        return !today; /* newest first: older ones are not today either */
    y = &s->syncs[s->nsyncs++];

    y->time = h->time;
    y->duration_ms = h->duration_ms;
    y->result = h->result;
    y->gen_before = h->gen_before;
    y->gen_after = h->gen_after;
    y->added = h->added;
    y->changed = h->changed;
    y->removed = h->removed;
    status_copy(y->source, sizeof(y->source), h->source, h->sourcelen);
    status_copy(y->error, sizeof(y->error), h->error, h->errorlen);
    return 0;
}

/* status_read_domains - the first STATUS_DOMAINS_MAX managed domains, in order */
static int status_read_domains(MDB_txn *txn, const struct store *st, struct lk_status *s)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(txn, store_dbi(st, STORE_DOMAIN), &cur)) != 0)
        return rc;
    s->domains = xcalloc(STATUS_DOMAINS_MAX, sizeof(*s->domains));
    while (s->ndomains < STATUS_DOMAINS_MAX &&
           (rc = mdb_cursor_get(cur, &k, &v, s->ndomains == 0 ? MDB_FIRST : MDB_NEXT)) == 0)
        status_copy(s->domains[s->ndomains++], sizeof(s->domains[0]), k.mv_data, k.mv_size);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || s->ndomains == STATUS_DOMAINS_MAX ? 0 : rc;
}

/* status_read_sync - the syncrepl source's meta (store.h STORE_META_SYNC_*), when present */
static void status_read_sync(MDB_txn *txn, const struct store *st, struct lk_status *s)
{
    char persist[32], last[32];

    s->sync.change_age = -1;
    if (store_meta_get(txn, st, STORE_META_SYNC_MODE, s->sync.mode, sizeof(s->sync.mode)) != 0) {
        s->sync.mode[0] = '\0';
        return;
    }
    if (store_meta_get(txn, st, STORE_META_SYNC_PERSIST, persist, sizeof(persist)) == 0)
        s->sync.persist = strcmp(persist, "up") == 0;
    if (store_meta_get(txn, st, STORE_META_SYNC_CHANGE, last, sizeof(last)) == 0 && last[0])
        s->sync.change_age = (long long)s->now - atoll(last);
}

/* status_take_edges - the edges table's list (computed there once), and its rows for the page */
static void status_take_edges(struct lk_status *s)
{
    size_t i;
    json_t *e;

    s->edges_json = feedsrv_edges_json(s->info.generation);
    json_array_foreach(s->edges_json, i, e)
    {
        struct status_edge *d;
        const char *name = json_string_value(json_object_get(e, "name"));
        json_t *lag = json_object_get(e, "lag_seconds");

        if (s->nedges == STATUS_EDGES_MAX)
            break;
        d = &s->edges[s->nedges++];
        str_copy(d->name, name != NULL ? name : "?", sizeof(d->name));
        d->generation = (uint64_t)json_integer_value(json_object_get(e, "generation"));
        d->lag = json_is_integer(lag) ? (long long)json_integer_value(lag) : -1;
        d->stale = json_is_true(json_object_get(e, "stale"));
    }
}

struct lk_status *status_fill(struct lk_db *db, struct lk_reader *rd, const char *version,
                              long long max_age, struct policy *policy,
                              const struct status_want *want)
{
    struct lk_status *s = xcalloc(1, sizeof(*s));
    const struct store *st;
    MDB_txn *txn;
    int err;

    s->now = time(NULL);
    s->version = version;
    s->max_age = max_age;
    s->maxsyncs = want->syncs < STATUS_HIST_MAX ? want->syncs : STATUS_HIST_MAX;
    if (s->maxsyncs > 0)
        s->syncs = xcalloc(s->maxsyncs, sizeof(*s->syncs));
    err = lk_db_begin(db, rd, &txn, &st);
    if (err == 0)
        err = store_info_read(txn, st, &s->info);
    if (err == 0)
        err = store_hist_each(txn, st, 0, status_take_sync, s);
    if (err == 0 && want->domains)
        err = status_read_domains(txn, st, s);
    if (err == 0)
        status_read_sync(txn, st, s);
    lk_db_end(db, rd);
    if (err == STORE_ERR_NOSTORE)
        s->fresh = LOOKUP_NEVER;
    else if (err != 0) {
        s->fresh = LOOKUP_UNREADABLE;
        lk_db_strerror(db, err, s->store_error, sizeof(s->store_error));
    } else
        s->fresh = lookup_freshness(s->info.last_success, max_age, s->now);
    if (want->minutes > 0) {
        s->nminutes = want->minutes < STATS_MINUTES ? want->minutes : STATS_MINUTES;
        s->minutes = xcalloc(s->nminutes, sizeof(*s->minutes));
        stats_minutes(s->minutes, s->nminutes, s->now);
        for (size_t i = s->nminutes > 60 ? s->nminutes - 60 : 0; i < s->nminutes; i++)
            for (size_t k = 0; k < STATS_NKINDS; k++)
                s->answers_hour[k] += s->minutes[i].n[k];
    }
    if (want->harvest && policy != NULL)
        s->harvest = policy_harvest_json(policy);
    status_take_edges(s);
    s->verdict = status_verdict_of(s, s->reason, sizeof(s->reason));
    return s;
}

void status_free(struct lk_status *s)
{
    if (s == NULL)
        return;
    if (s->harvest != NULL)
        json_decref(s->harvest);
    if (s->edges_json != NULL)
        json_decref(s->edges_json);
    free(s->syncs);
    free(s->domains);
    free(s->minutes);
    free(s);
}

/* status_str - a JSON string of untrusted bytes, or null when not valid UTF-8 */
static json_t *status_str(const char *text)
{
    json_t *v = json_string(text);

    return v != NULL ? v : json_null();
}

json_t *status_json(const struct lk_status *s)
{
    const struct store_info *in = &s->info;
    json_t *v = json_object(), *counts = json_object();

    json_object_set_new(v, "version", json_string(s->version));
    json_object_set_new(v, "status", json_string(lookup_freshness_name(s->fresh)));
    json_object_set_new(v, "stale", json_boolean(s->fresh != LOOKUP_FRESH));
    json_object_set_new(v, "verdict", json_string(status_verdict_name(s->verdict)));
    json_object_set_new(v, "reason", status_str(s->reason));
    json_object_set_new(v, "max_age", json_integer(s->max_age));
    if (s->fresh == LOOKUP_UNREADABLE)
        json_object_set_new(v, "error", json_string(s->store_error));
    json_object_set_new(v, "generation", json_integer((json_int_t)in->generation));
    json_object_set_new(v, "last_attempt", json_integer((json_int_t)in->last_attempt));
    json_object_set_new(v, "last_success", json_integer((json_int_t)in->last_success));
    json_object_set_new(v, "last_result", json_string(in->last_result));
    json_object_set_new(v, "last_error", status_str(in->last_error));
    json_object_set_new(v, "source", status_str(in->source));
    json_object_set_new(v, "duration_ms", json_integer((json_int_t)in->duration_ms));
    json_object_set_new(v, "age",
                        in->last_success == 0
                            ? json_null()
                            : json_integer((long long)s->now - (long long)in->last_success));
    json_object_set_new(counts, "addresses", json_integer((json_int_t)in->addresses));
    json_object_set_new(counts, "entries", json_integer((json_int_t)in->entries));
    json_object_set_new(counts, "domains", json_integer((json_int_t)in->domains));
    json_object_set_new(counts, "invalid", json_integer((json_int_t)in->invalid));
    json_object_set_new(counts, "conflicts", json_integer((json_int_t)in->conflicts));
    json_object_set_new(v, "counts", counts);
    {
        json_t *d = json_object();
        json_object_set_new(d, "ok", json_integer((json_int_t)s->day.ok));
        json_object_set_new(d, "refused", json_integer((json_int_t)s->day.refused));
        json_object_set_new(d, "failed", json_integer((json_int_t)s->day.failed));
        json_object_set_new(d, "added", json_integer((json_int_t)s->day.added));
        json_object_set_new(d, "changed", json_integer((json_int_t)s->day.changed));
        json_object_set_new(d, "removed", json_integer((json_int_t)s->day.removed));
        json_object_set_new(v, "syncs_last_24h", d);
    }
    if (s->nminutes >= 60) {
        json_t *a = json_object();
        for (size_t k = 0; k < STATS_NKINDS; k++)
            json_object_set_new(a, stats_kind_name((enum stats_kind)k),
                                json_integer((json_int_t)s->answers_hour[k]));
        json_object_set_new(v, "answers_last_hour", a);
    }
    if (s->domains != NULL) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->ndomains; i++)
            json_array_append_new(a, status_str(s->domains[i]));
        json_object_set_new(v, "managed_domains", a);
    }
    if (s->sync.mode[0] != '\0') {
        json_t *o = json_object();
        json_object_set_new(o, "mode", json_string(s->sync.mode));
        json_object_set_new(o, "persist", json_boolean(s->sync.persist));
        json_object_set_new(o, "last_change_age",
                            s->sync.change_age >= 0 ? json_integer(s->sync.change_age)
                                                    : json_null());
        json_object_set_new(v, "sync", o);
    }
    if (s->edges_json != NULL)
        json_object_set(v, "edges", s->edges_json);
    return v;
}

json_t *status_history_json(const struct lk_status *s)
{
    json_t *v = json_object(), *syncs = json_array(), *mins = json_array();

    for (size_t i = 0; i < s->nsyncs; i++) {
        const struct status_sync *y = &s->syncs[i];
        json_t *o = json_object();
        json_object_set_new(o, "time", json_integer((json_int_t)y->time));
        json_object_set_new(o, "duration_ms", json_integer((json_int_t)y->duration_ms));
        json_object_set_new(o, "source", status_str(y->source));
        json_object_set_new(o, "result", json_string(store_hist_result_name(y->result)));
        json_object_set_new(o, "error", status_str(y->error));
        json_object_set_new(o, "generation_before", json_integer((json_int_t)y->gen_before));
        json_object_set_new(o, "generation_after", json_integer((json_int_t)y->gen_after));
        json_object_set_new(o, "added", json_integer((json_int_t)y->added));
        json_object_set_new(o, "changed", json_integer((json_int_t)y->changed));
        json_object_set_new(o, "removed", json_integer((json_int_t)y->removed));
        json_array_append_new(syncs, o);
    }
    for (size_t i = 0; i < s->nminutes; i++) {
        const struct stats_minute *m = &s->minutes[i];
        json_t *o;
        if (!m->known)
            continue;
        o = json_object();
        json_object_set_new(o, "time", json_integer((json_int_t)(m->minute * 60)));
        for (size_t k = 0; k < STATS_NKINDS; k++)
            json_object_set_new(o, stats_kind_name((enum stats_kind)k),
                                json_integer((json_int_t)m->n[k]));
        json_object_set_new(o, "p50_us", json_integer((json_int_t)m->p50_us));
        json_object_set_new(o, "p90_us", json_integer((json_int_t)m->p90_us));
        json_object_set_new(o, "p99_us", json_integer((json_int_t)m->p99_us));
        json_array_append_new(mins, o);
    }
    json_object_set_new(v, "syncs", syncs);
    json_object_set_new(v, "minutes", mins);
    return v;
}
