/*
 * src_syncrepl - an OpenLDAP provider's changes (RFC 4533 Content Synchronization, libldap's
 * ldap_sync_*) as a source; see src_syncrepl.h.
 *
 * One run:
 *   - the cookie comes from the store (meta sync_cookie, valid only for the same search:
 *     sync_search); none, or one for another search: a full refresh;
 *   - ldap_sync_init() runs the refresh stage; its callbacks collect changed entries (ADD /
 *     MODIFY: a copy of their attributes) and hand them on in batches of SR_BATCH: one
 *     search per batch for the group and disabled members among them ((&filter
 *     group_filter (|(entryUUID=..)..))), then apply_change_put() each; deletes (syncIdSet
 *     with refreshDeletes, DELETE in the persist stage) go to apply_change_delete();
 *   - a refresh that starts without a cookie lists the whole directory: its entries go to the
 *     full-directory driver (apply_full_entry(), mark and sweep at commit, as a paged sync),
 *     unless deletes are held back (that needs the change driver, which can leave the sweep
 *     out);
 *   - any other refresh is authoritative (every entry not named is gone:
 *     apply_change_sweep()) when it was sent with reloadHint or, retried after 53 below,
 *     without a cookie (the change driver is attached by then), when it ended with
 *     refreshDeletes FALSE or held a present phase, or when the provider answered with an
 *     empty cookie (it ignored ours);
 *   - e-syncRefreshRequired (4096) -> once more with reloadHint (a full reload); "consumer
 *     state is newer than provider" (53) -> once more without a cookie; both before any data;
 *   - the new cookie is written with the data (apply_meta_put), so a failed run keeps both.
 *   - deletes that trickle in over many runs or persist batches add up against
 *     max_delete_ratio over [sync] delete_window (apply_delete_window()), as one big one would.
 *
 * libldap's refresh loop has no deadline and ignores the callbacks' return values
 * (notes-syncrepl.md 1.2): a watchdog (SIGALRM once a second) shuts the socket down when
 * no message arrived for [ldap] timeout seconds or syncd is told to stop, and the
 * callbacks record their first failure in the run's state.
 *
 * --watch (r->watch): refreshAndPersist on a connection kept between runs (sr_live). After
 * the refresh stage each run collects persist-stage changes until none arrived for
 * SR_QUIET_MS or SR_BATCH are pending, and returns 0 with r->again set, so syncd commits
 * them and calls again at once. A lost connection: what arrived is committed (each change
 * came with its cookie), sync_persist = down, and the next run reconnects (syncd backs off
 * after a failure).
 *
 * A hung provider during --watch (alive for TCP, so keepalive does not help, but silent: a
 * stopped slapd): after [ldap] persist_probe seconds without a message on the persist
 * connection, a base search of the root DSE for no attributes goes out on that connection;
 * any answer within [ldap] timeout proves the provider alive. libldap's ldap_sync_poll()
 * reads results for the sync's message id only and queues the others on the connection
 * (result.c: ld_responses), where ldap_result() for the probe's id finds its answer. No
 * answer: the connection is dropped as lost (above), with a warning naming the silence.
 *
 * Ownership: the run's state is on the stack of run() and freed before it returns; the live
 * connection is freed by a failure or global_cleanup.
 */
#include "syncd/src_syncrepl.h"

#include <errno.h>
#include <inttypes.h>
#include <lber.h>
#include <ldap.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "common/hset.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"
#include "syncd/apply_change.h"
#include "syncd/apply_full.h"
#include "syncd/entry.h"
#include "syncd/ldap_conn.h"
#include "syncd/src_dir.h"
#include "syncd/src_ldap.h"

#define SR_BATCH    500 /* changed entries per filter search round and per persist commit */
#define SR_IDS      100 /* entryUUIDs per group/disabled search */
#define SR_QUIET_MS 50  /* persist: commit when no message arrived for this long */
#define SR_UUID_LEN 36
#define SR_OID      LDAP_CONTROL_SYNC

/* one changed entry, copied out of its message: names and values in one buffer */
struct sr_entry {
    char uuid[SR_UUID_LEN + 1];
    char *dn;
    char *buf; /* name\0value... */
    size_t len, cap;
    size_t *off; /* per pair: offset of the name; the value follows its NUL, length vlen */
    size_t *vlen;
    size_t n, pcap;
};

/* the state of one sync stream (a refresh, or a persist connection's batches) */
struct sr {
    struct source_run *run;
    const struct conf *cf;
    struct ldap_conn c, f; /* the sync connection; the filter searches' (lazily) */
    ldap_sync_t ls;
    char **attrs;
    struct mapping map;
    struct sync_entry entry;
    struct map_stats stats;
    struct sr_entry *pend;
    size_t npend, cappend;
    struct hset present; /* entry ids named as present or changed in this refresh */
    int had_cookie, saw_present, done, failed;
    int full;     /* this run is a full refresh into apply_full (mark and sweep), not changes */
    int map_full; /* a store write failed with MDB_MAP_FULL: syncd grows the map, runs again */
    int refresh_deletes; /* of the searchResultDone: 1, 0, -1 (4096), -2 none */
    int hold;            /* deletes are held back: not applied, the cookie not advanced */
    uint64_t held;       /* deletes (and sweeps) held back by this run */
    uint64_t msgs, puts, dels;
    char why[512];
    char saved[STORE_META_MAX]; /* the cookie in the store as this stream last read or wrote it */
    /* persist: a provider alive but silent is asked a question on the same connection */
    struct timespec heard, probed; /* the last message or answer; when the probe went out */
    int probe;                     /* the probe's message id, 0 when none is out */
};

static struct sr *sr_live; /* --watch: the persist connection between runs */

/* ---- the watchdog: libldap's refresh loop has no deadline ---- */

static volatile sig_atomic_t sr_wd_fd = -1, sr_wd_idle, sr_wd_limit, sr_wd_fired;
static const volatile sig_atomic_t *sr_wd_stop;

static void sr_wd_tick(int sig)
{
    (void)sig;
    if (sr_wd_fd < 0)
        return;
    if (++sr_wd_idle >= sr_wd_limit || (sr_wd_stop != NULL && *sr_wd_stop)) {
        sr_wd_fired = 1;
        shutdown(sr_wd_fd, SHUT_RDWR);
    }
}

static void sr_wd_arm(struct sr *s)
{
    struct sigaction sa;
    struct itimerval it = {{1, 0}, {1, 0}};
    int fd = -1;

    ldap_get_option(s->c.ld, LDAP_OPT_DESC, &fd);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sr_wd_tick;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sr_wd_idle = 0;
    sr_wd_fired = 0;
    sr_wd_limit = (sig_atomic_t)s->cf->ldap_timeout;
    sr_wd_stop = s->run->stop;
    sr_wd_fd = fd;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void sr_wd_disarm(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};

    setitimer(ITIMER_REAL, &it, NULL);
    sr_wd_fd = -1;
}

/* ---- helpers ---- */

static void sr_fail(struct sr *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sr_fail(struct sr *s, const char *fmt, ...)
{
    va_list ap;

    if (s->failed)
        return;
    s->failed = 1;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
}

/* sr_store_fail - a store write failed: MDB_MAP_FULL makes syncd grow the map and run again */
static void sr_store_fail(struct sr *s, int rc)
{
    sr_fail(s, "store: %s", store_strerror(rc));
    s->map_full = s->map_full || rc == MDB_MAP_FULL;
}

static void sr_uuid(const struct berval *raw, char out[SR_UUID_LEN + 1])
{
    const unsigned char *u = (const unsigned char *)raw->bv_val;

    if (raw->bv_len != 16) { /* not a UUID: keep what printable form there is */
        snprintf(out, SR_UUID_LEN + 1, "%.*s", (int)(raw->bv_len < 36 ? raw->bv_len : 36),
                 raw->bv_val);
        return;
    }
    /* 8-4-4-4-12 digits: a million of them in a present phase, so not through snprintf */
    out += str_hex(out, 9, u, 4);
    *out++ = '-';
    out += str_hex(out, 5, u + 4, 2);
    *out++ = '-';
    out += str_hex(out, 5, u + 6, 2);
    *out++ = '-';
    out += str_hex(out, 5, u + 8, 2);
    *out++ = '-';
    str_hex(out, 13, u + 10, 6);
}

static void sr_entry_free(struct sr_entry *e)
{
    free(e->dn);
    free(e->buf);
    free(e->off);
    free(e->vlen);
    memset(e, 0, sizeof(*e));
}

static void sr_entry_add(struct sr_entry *e, const char *name, const struct berval *v)
{
    size_t nl = strlen(name), need = nl + 1 + v->bv_len + 1;

    if (e->len + need > e->cap) {
        e->cap = (e->len + need) * 2;
        e->buf = xrealloc(e->buf, e->cap);
    }
    if (e->n == e->pcap) {
        e->pcap = e->pcap ? 2 * e->pcap : 8;
        e->off = xreallocarray(e->off, e->pcap, sizeof(*e->off));
        e->vlen = xreallocarray(e->vlen, e->pcap, sizeof(*e->vlen));
    }
    e->off[e->n] = e->len;
    e->vlen[e->n++] = v->bv_len;
    memcpy(e->buf + e->len, name, nl + 1);
    memcpy(e->buf + e->len + nl + 1, v->bv_val, v->bv_len);
    e->buf[e->len + nl + 1 + v->bv_len] = '\0';
    e->len += need;
}

/* sr_copy - a changed entry's DN and requested attributes into the pending list */
static int sr_copy(struct sr *s, LDAPMessage *msg, const char *uuid)
{
    struct sr_entry *e;
    BerElement *ber = NULL;
    char *dn, *a;

    if (s->npend == s->cappend) {
        s->cappend = s->cappend ? 2 * s->cappend : 64;
        s->pend = xreallocarray(s->pend, s->cappend, sizeof(*s->pend));
    }
    e = &s->pend[s->npend];
    memset(e, 0, sizeof(*e));
    memcpy(e->uuid, uuid, SR_UUID_LEN + 1);
    if ((dn = ldap_get_dn(s->c.ld, msg)) == NULL)
        return -1;
    e->dn = xstrdup(dn);
    ldap_memfree(dn);
    for (a = ldap_first_attribute(s->c.ld, msg, &ber); a != NULL;
         a = ldap_next_attribute(s->c.ld, msg, ber)) {
        struct berval **v = ldap_get_values_len(s->c.ld, msg, a);
        for (size_t i = 0; v != NULL && v[i] != NULL; i++)
            sr_entry_add(e, a, v[i]);
        ldap_value_free_len(v);
        ldap_memfree(a);
    }
    if (ber != NULL)
        ber_free(ber, 0);
    s->npend++;
    return 0;
}

/* sr_member_search - which of pend[from..to) match (&filter extra): their uuids into set */
static int sr_member_search(struct sr *s, const char *extra, size_t from, size_t to,
                            struct hset *set)
{
    struct timeval tv = {(time_t)s->cf->ldap_timeout, 0};
    char *attrs[] = {(char *)(uintptr_t) "entryUUID", NULL};
    size_t flen = strlen(s->cf->map_filter) + strlen(extra) + 16 + (to - from) * 50;
    char *f = xmalloc(flen), *p;
    LDAPMessage *res = NULL, *m;
    int rc;

    p = f + snprintf(f, flen, "(&%s%s(|", s->cf->map_filter, extra);
    for (size_t i = from; i < to; i++)
        p += snprintf(p, flen - (size_t)(p - f), "(entryUUID=%s)", s->pend[i].uuid);
    snprintf(p, flen - (size_t)(p - f), "))");
    rc = ldap_search_ext_s(s->f.ld, s->cf->ldap_base.v[0], LDAP_SCOPE_SUBTREE, f, attrs, 0, NULL,
                           NULL, &tv, LDAP_NO_LIMIT, &res);
    free(f);
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        sr_fail(s, "ldap: searching the group or disabled members among changed entries: %s",
                ldap_err2string(rc));
        return -1;
    }
    for (m = ldap_first_entry(s->f.ld, res); m != NULL; m = ldap_next_entry(s->f.ld, m)) {
        struct berval **v = ldap_get_values_len(s->f.ld, m, "entryUUID");
        if (v != NULL && v[0] != NULL)
            hset_add(set, hset_hash(v[0]->bv_val, v[0]->bv_len));
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
    return 0;
}

/* sr_flush - the pending changed entries into the store */
static int sr_flush(struct sr *s)
{
    struct hset groups = {0}, disabled = {0};
    struct attrs at = {0};
    int rc = 0;

    if (s->failed || s->npend == 0)
        goto out;
    if (s->cf->map_group_filter[0] != '\0' || s->cf->map_disabled_filter[0] != '\0') {
        if (s->f.ld == NULL) {
            s->f.cf = s->cf;
            s->f.err = s->why;
            s->f.errlen = sizeof(s->why);
            if (ldap_conn_open(&s->f) != 0) {
                s->failed = 1;
                goto out;
            }
            ldap_set_option(s->f.ld, LDAP_OPT_RESTART, LDAP_OPT_ON); /* the watchdog's SIGALRM */
        }
        for (size_t i = 0; i < s->npend && rc == 0; i += SR_IDS) {
            size_t to = i + SR_IDS < s->npend ? i + SR_IDS : s->npend;
            if (s->cf->map_group_filter[0] != '\0')
                rc = sr_member_search(s, s->cf->map_group_filter, i, to, &groups);
            if (rc == 0 && s->cf->map_disabled_filter[0] != '\0')
                rc = sr_member_search(s, s->cf->map_disabled_filter, i, to, &disabled);
        }
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; i < s->npend; i++) {
        struct sr_entry *e = &s->pend[i];
        uint64_t h = hset_hash(e->uuid, strlen(e->uuid));
        attrs_clear(&at);
        for (size_t j = 0; j < e->n; j++) {
            const char *name = e->buf + e->off[j];
            size_t nl = strlen(name);
            attrs_add(&at, name, nl, name + nl + 1, e->vlen[j]);
        }
        entry_map(&s->map, &at, e->dn, strlen(e->dn), hset_has(&groups, h), hset_has(&disabled, h),
                  &s->entry, &s->stats);
        /* the id is the entryUUID the stream names it by (deletes come by it alone) */
        memcpy(s->entry.id, e->uuid, strlen(e->uuid) + 1);
        s->entry.id_len = strlen(e->uuid);
        rc = s->full ? apply_full_entry(s->run->apply, &s->entry)
                     : apply_change_put(s->run->apply, &s->entry);
        if (rc != 0) {
            sr_store_fail(s, rc);
            break;
        }
        s->puts++;
    }
out:
    for (size_t i = 0; i < s->npend; i++)
        sr_entry_free(&s->pend[i]);
    s->npend = 0;
    attrs_free(&at);
    hset_free(&groups);
    hset_free(&disabled);
    return s->failed ? -1 : 0;
}

static void sr_delete(struct sr *s, const char *uuid)
{
    int rc;

    if (s->failed || sr_flush(s) != 0) /* in order: an add then a delete of one entry */
        return;
    if (s->hold) {
        s->held++;
        return;
    }
    if (s->full) { /* a refresh without a cookie lists what exists; it has nothing to delete */
        sr_fail(s,
                "syncrepl: the provider sent a delete (%s) in a refresh without a cookie; "
                "nothing was applied",
                uuid);
        return;
    }
    if ((rc = apply_change_delete(s->run->apply, uuid, strlen(uuid))) != 0)
        sr_store_fail(s, rc);
    s->dels++;
}

/*
 * sr_present - id exists: kept by the sweep. A full refresh's driver keeps its own list of
 * the entries it was sent (sent 1); an entry only named as present (sent 0) in a refresh
 * without a cookie would be swept: fail instead (slapd sends none there)
 */
static void sr_present(struct sr *s, const char *id, int sent)
{
    if (!s->full)
        hset_add(&s->present, hset_hash(id, strlen(id)));
    else if (!sent)
        sr_fail(s,
                "syncrepl: the provider named the entry %s present without sending it, in a "
                "refresh without a cookie; nothing was applied",
                id);
}

/*
 * sr_single - 1 when msg is the only message libldap has handed over. Its sync loops pass
 * every callback the head of what ldap_result(LDAP_MSG_RECEIVED) returned instead of each
 * message (notes-syncrepl.md 1.2), so of a chain of several all but the first would be lost
 * without a trace. Our connection reads one message per call (no readahead), but messages
 * the probe's ldap_result() read and queued come back as a chain: fail the run instead (the
 * next one resumes from the stored cookie, and the same changes come again).
 */
static int sr_single(struct sr *s, LDAPMessage *msg)
{
    if (ldap_next_message(s->c.ld, msg) == NULL)
        return 1;
    sr_fail(s,
            "ldap: libldap handed over %d sync messages at once, which its ldap_sync_* "
            "calls would lose all but one of: nothing of this batch was applied",
            ldap_count_messages(s->c.ld, msg));
    return 0;
}

/* ---- libldap's callbacks (their return values are ignored: failures go to s) ---- */

static int sr_on_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid,
                       ldap_sync_refresh_t phase)
{
    struct sr *s = ls->ls_private;
    char id[SR_UUID_LEN + 1];

    sr_wd_idle = 0;
    s->msgs++;
    if (!sr_single(s, msg))
        return 0;
    sr_uuid(uuid, id);
    switch (phase) {
    case LDAP_SYNC_CAPI_PRESENT:
        s->saw_present = 1;
        sr_present(s, id, 0);
        break;
    case LDAP_SYNC_CAPI_ADD:
    case LDAP_SYNC_CAPI_MODIFY:
        sr_present(s, id, 1);
        if (!s->failed && sr_copy(s, msg, id) != 0)
            sr_fail(s, "ldap: decoding the entry %s", id);
        if (s->npend >= SR_BATCH)
            sr_flush(s);
        break;
    case LDAP_SYNC_CAPI_DELETE:
        sr_delete(s, id);
        break;
    default:
        break;
    }
    return 0;
}

static int sr_on_reference(ldap_sync_t *ls, LDAPMessage *msg)
{
    sr_single(ls->ls_private, msg);
    return 0; /* a referral names no entry of this directory */
}

static int sr_on_intermediate(ldap_sync_t *ls, LDAPMessage *msg, BerVarray uuids,
                              ldap_sync_refresh_t phase)
{
    struct sr *s = ls->ls_private;
    char id[SR_UUID_LEN + 1];

    sr_wd_idle = 0;
    s->msgs++;
    if (!sr_single(s, msg))
        return 0;
    switch (phase) {
    case LDAP_SYNC_CAPI_PRESENTS:
        s->saw_present = 1;
        break;
    case LDAP_SYNC_CAPI_PRESENTS_IDSET:
        s->saw_present = 1;
        for (size_t i = 0; uuids != NULL && uuids[i].bv_val != NULL; i++) {
            sr_uuid(&uuids[i], id);
            sr_present(s, id, 0);
        }
        break;
    case LDAP_SYNC_CAPI_DELETES_IDSET:
        for (size_t i = 0; uuids != NULL && uuids[i].bv_val != NULL; i++) {
            sr_uuid(&uuids[i], id);
            sr_delete(s, id);
        }
        break;
    case LDAP_SYNC_CAPI_DONE:
        s->done = 1;
        break;
    default:
        break;
    }
    return 0;
}

static int sr_on_result(ldap_sync_t *ls, LDAPMessage *msg, int refreshDeletes)
{
    struct sr *s = ls->ls_private;

    s->msgs++;
    s->done = 1;
    sr_single(s, msg);
    s->refresh_deletes = refreshDeletes;
    return 0;
}

/* ---- the search and its cookie ---- */

/* sr_search_id - what a cookie is valid for: base, filter and attributes, hashed */
static void sr_search_id(const struct sr *s, char *buf, size_t len)
{
    char *d = xasprintf("%s\n%s", s->cf->ldap_base.v[0], s->cf->map_filter);
    uint64_t h = hset_hash(d, strlen(d));

    for (size_t i = 0; s->attrs[i] != NULL; i++)
        h ^= hset_hash(s->attrs[i], strlen(s->attrs[i])) * (i + 3);
    snprintf(buf, len, "%016" PRIx64, h);
    free(d);
}

static void sr_free(struct sr *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->npend; i++)
        sr_entry_free(&s->pend[i]);
    free(s->pend);
    ber_memfree(s->ls.ls_cookie.bv_val);
    ldap_conn_close(&s->c);
    ldap_conn_close(&s->f);
    free(s->attrs);
    hset_free(&s->present);
    entry_free(&s->entry);
    free(s);
}

static struct sr *sr_new(struct source_run *r)
{
    struct sr *s = xcalloc(1, sizeof(*s));
    const struct conf *cf = r->cf;
    size_t na = 0;

    s->run = r;
    s->cf = cf;
    s->c.cf = cf;
    s->c.err = r->err;
    s->c.errlen = r->errlen;
    /* no readahead: with it ldap_result(LDAP_MSG_RECEIVED) hands libldap's sync loops chains
     * of messages, and they pass each callback the chain's head (notes-syncrepl.md 1.2):
     * tried, and a refresh lost most of its entries (syncd_syncrepl.sh failed) */
    s->c.no_readahead = 1;
    src_dir_mapping(cf, &s->map);
    s->attrs = xcalloc(cf->map_address_attrs.n + cf->map_id_attrs.n + 2, sizeof(*s->attrs));
    for (size_t i = 0; i < cf->map_address_attrs.n; i++)
        s->attrs[na++] = cf->map_address_attrs.v[i];
    s->attrs[na++] = cf->map_primary_attr;
    for (size_t i = 0; i < cf->map_id_attrs.n; i++)
        s->attrs[na++] = cf->map_id_attrs.v[i];
    return s;
}

/* sr_supported - 1 when the root DSE lists the Sync Request control */
static int sr_supported(struct sr *s)
{
    struct timeval tv = {(time_t)s->cf->ldap_timeout, 0};
    char *attrs[] = {(char *)(uintptr_t) "supportedControl", NULL};
    LDAPMessage *res = NULL, *m;
    int yes = 0;

    if (ldap_search_ext_s(s->c.ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
                          &tv, 0, &res) == LDAP_SUCCESS &&
        (m = ldap_first_entry(s->c.ld, res)) != NULL) {
        struct berval **v = ldap_get_values_len(s->c.ld, m, "supportedControl");
        for (size_t i = 0; v != NULL && v[i] != NULL; i++)
            if (v[i]->bv_len == strlen(SR_OID) && memcmp(v[i]->bv_val, SR_OID, v[i]->bv_len) == 0)
                yes = 1;
        ldap_value_free_len(v);
    }
    ldap_msgfree(res);
    return yes;
}

/* sr_reset - a fresh refresh: nothing seen yet */
static void sr_reset(struct sr *s)
{
    hset_free(&s->present);
    s->saw_present = s->done = s->failed = s->map_full = 0;
    s->refresh_deletes = -2; /* no searchResultDone (refreshAndPersist ends with DONE) */
    s->msgs = s->puts = s->dels = s->held = 0;
    s->why[0] = '\0';
}

static void sr_meta(struct sr *s, const char *name, const char *value)
{
    int rc = apply_meta_put(s->run->apply, name, value);
    if (rc != 0)
        sr_store_fail(s, rc);
}

static void sr_meta_time(struct sr *s)
{
    char now[32];
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    sr_meta(s, STORE_META_SYNC_CHANGE, now);
}

/* sr_save_cookie - the cookie libldap holds now, with the data it describes */
static void sr_save_cookie(struct sr *s)
{
    const struct berval *ck = &s->ls.ls_cookie;
    char buf[STORE_META_MAX], sid[32];
    size_t i;

    if (s->hold) /* the held deletes come again from this cookie */
        return;
    sr_search_id(s, sid, sizeof(sid));
    for (i = 0; ck->bv_val != NULL && i < ck->bv_len; i++)
        if (ck->bv_val[i] < 0x20 || ck->bv_val[i] > 0x7e)
            break;
    if (ck->bv_val == NULL || ck->bv_len == 0 || i < ck->bv_len || ck->bv_len >= sizeof(buf)) {
        /* no usable cookie: the next run starts over with a full refresh */
        if (ck->bv_len > 0)
            log_warnx("syncrepl: the provider's cookie cannot be kept (%zu bytes); the next "
                      "run does a full refresh",
                      (size_t)ck->bv_len);
        sr_meta(s, STORE_META_SYNC_COOKIE, "");
        s->saved[0] = '\0';
        return;
    }
    snprintf(buf, sizeof(buf), "%.*s", (int)ck->bv_len, ck->bv_val);
    sr_meta(s, STORE_META_SYNC_COOKIE, buf);
    memcpy(s->saved, buf, sizeof(s->saved));
    sr_meta(s, STORE_META_SYNC_SEARCH, sid);
}

/* sr_stored_cookie - the cookie in the store as this sync began ("" when none) into buf */
static void sr_stored_cookie(struct apply *a, char *buf, size_t cap)
{
    if (apply_meta_get(a, STORE_META_SYNC_COOKIE, buf, cap) != 0)
        buf[0] = '\0';
}

/* sr_load_cookie - the stored cookie into ls (when it is for this search); 1 when set */
static int sr_load_cookie(struct sr *s)
{
    char buf[STORE_META_MAX], sid[32], want[32];

    ber_memfree(s->ls.ls_cookie.bv_val);
    s->ls.ls_cookie.bv_val = NULL;
    s->ls.ls_cookie.bv_len = 0;
    sr_stored_cookie(s->run->apply, buf, sizeof(buf));
    snprintf(s->saved, sizeof(s->saved), "%s", buf);
    sr_search_id(s, want, sizeof(want));
    if (apply_meta_get(s->run->apply, STORE_META_SYNC_SEARCH, sid, sizeof(sid)) != 0 ||
        strcmp(sid, want) != 0 || buf[0] == '\0')
        return 0;
    ber_str2bv(buf, 0, 1, &s->ls.ls_cookie);
    return 1;
}

/* sr_ldap_error - a refresh that did not end well, in words an operator can act on */
static int sr_ldap_error(struct sr *s, int rc)
{
    char *diag = NULL;
    const char *hint = "";

    if (s->failed) {
        snprintf(s->run->err, s->run->errlen, "%s", s->why);
        return s->map_full ? MDB_MAP_FULL : SOURCE_ERR;
    }
    if (sr_wd_fired && !*s->run->stop)
        rc = LDAP_TIMEOUT;
    if (rc == LDAP_SIZELIMIT_EXCEEDED)
        hint = "the sync account may read only part of the directory: give it "
               "'limits dn.exact=\"<bind_dn>\" size=unlimited time=unlimited' on the provider "
               "(slapd.conf, or olcLimits in cn=config); nothing was applied";
    else if (rc == LDAP_TIMELIMIT_EXCEEDED)
        hint = "the sync account's time limit ended the refresh: add time=unlimited to its "
               "limits on the provider; nothing was applied";
    else if (rc == LDAP_TIMEOUT)
        hint = "no message from the provider within [ldap] timeout; nothing was applied";
    if (s->c.ld != NULL)
        ldap_get_option(s->c.ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
    snprintf(s->run->err, s->run->errlen, "ldap: syncrepl refresh at %s: %s%s%s%s%s",
             s->c.uri ? s->c.uri : "?", *s->run->stop ? "interrupted" : ldap_err2string(rc),
             diag && *diag ? ": " : "", diag ? diag : "", *hint ? "; " : "", hint);
    ldap_memfree(diag);
    return SOURCE_ERR;
}

/*
 * sr_window - the delete window for this run: none while deletes are held back already (it
 * did its job; a modify that removes an alias meets max_delete_ratio alone, as before, so it
 * does not get the whole batch, adds included, refused)
 */
static void sr_window(const struct sr *s, struct source_run *r)
{
    apply_delete_window(r->apply, s->hold ? 0 : (uint64_t)r->cf->delete_window);
}

/* sr_refresh - the refresh stage with the stored cookie, into the store; 0 or SOURCE_ERR */
static int sr_refresh(struct sr *s, int mode)
{
    int rc, tries = 0, reload = 0;

    memset(&s->ls, 0, sizeof(s->ls));
    ldap_sync_initialize(&s->ls);
    s->ls.ls_base = s->cf->ldap_base.v[0];
    s->ls.ls_scope = LDAP_SCOPE_SUBTREE;
    s->ls.ls_filter = s->cf->map_filter;
    s->ls.ls_attrs = s->attrs;
    s->ls.ls_timelimit = 0;
    s->ls.ls_sizelimit = 0;
    s->ls.ls_timeout = 0;
    s->ls.ls_search_entry = sr_on_entry;
    s->ls.ls_search_reference = sr_on_reference;
    s->ls.ls_intermediate = sr_on_intermediate;
    s->ls.ls_search_result = sr_on_result;
    s->ls.ls_private = s;
    s->ls.ls_ld = s->c.ld;
    s->had_cookie = sr_load_cookie(s);
    /* no cookie: the refresh lists the whole directory, as a paged sync does, so it goes into
     * the same mark-and-sweep driver (at 1M entries 16 s of CPU against 25 s as changes);
     * held deletes need the change driver, which can leave the sweep out */
    s->full = !s->had_cookie && !s->hold;
    if ((rc = s->full ? apply_full_start(s->run->apply) : apply_change_start(s->run->apply)) != 0)
        return rc;
    sr_window(s, s->run);
    for (;;) {
        sr_reset(s);
        s->ls.ls_reloadHint = reload;
        sr_wd_arm(s);
        rc = ldap_sync_init(&s->ls, mode);
        sr_wd_disarm();
        if (rc == LDAP_SYNC_REFRESH_REQUIRED && tries++ == 0 && s->msgs <= 1 && s->had_cookie) {
            log_info("syncrepl: the provider no longer knows the cookie "
                     "(e-syncRefreshRequired): full reload");
            reload = 1;
            continue;
        }
        if (rc == LDAP_UNWILLING_TO_PERFORM && tries++ == 0 && s->msgs == 0 && s->had_cookie) {
            log_warnx("syncrepl: the provider refused the cookie (consumer state newer than "
                      "provider: was it restored from a backup?): full refresh under the "
                      "safety rules");
            ber_memfree(s->ls.ls_cookie.bv_val);
            s->ls.ls_cookie.bv_val = NULL;
            s->ls.ls_cookie.bv_len = 0;
            s->had_cookie = 0;
            continue;
        }
        break;
    }
    /* refreshOnly ends with a searchResultDone (s->done); refreshAndPersist returns at
     * refreshDone, which libldap reports as DONE only on some message kinds */
    if (rc != LDAP_SUCCESS || s->failed || (!s->done && mode == LDAP_SYNC_REFRESH_ONLY))
        return sr_ldap_error(s, rc != LDAP_SUCCESS ? rc : LDAP_OTHER);
    if (sr_flush(s) != 0)
        return sr_ldap_error(s, LDAP_OTHER);
    /* authoritative: no cookie, reloadHint, a present phase, or our cookie ignored */
    if (!s->had_cookie || reload || s->saw_present || s->refresh_deletes == 0 ||
        s->ls.ls_cookie.bv_len == 0) {
        if (s->hold) {
            s->held++;
            snprintf(s->run->note, sizeof(s->run->note),
                     "syncrepl: %" PRIu64 " changed entries; the sweep of the entries not named "
                     "is held back",
                     s->puts);
            return 0;
        }
        /* a full refresh's driver sweeps at commit what the refresh did not list */
        if (!s->full && (rc = apply_change_sweep(s->run->apply, &s->present)) != 0) {
            snprintf(s->run->err, s->run->errlen, "store: %s", store_strerror(rc));
            return rc == MDB_MAP_FULL ? rc : SOURCE_ERR;
        }
        if (!s->had_cookie || reload)
            snprintf(s->run->note, sizeof(s->run->note), "syncrepl: %s, %" PRIu64 " entries",
                     reload ? "full reload" : "initial refresh", s->puts);
        else
            snprintf(s->run->note, sizeof(s->run->note),
                     "syncrepl: %" PRIu64 " changed entries, present phase (the entries not named "
                     "are gone)",
                     s->puts);
    } else {
        snprintf(s->run->note, sizeof(s->run->note),
                 "syncrepl: %" PRIu64 " changed, %" PRIu64 " deleted entries", s->puts, s->dels);
    }
    sr_save_cookie(s);
    if (s->puts + s->dels > 0)
        sr_meta_time(s);
    return s->failed ? sr_ldap_error(s, LDAP_OTHER) : 0;
}

/* sr_connect - the sync connection, with TCP keepalive; 0 or SOURCE_ERR */
static int sr_connect(struct sr *s)
{
    int idle = 30, probes = 3, intvl = 10;

    if (ldap_conn_open(&s->c) != 0)
        return SOURCE_ERR;
    /* the watchdog's SIGALRM interrupts libldap's poll: go on (its shutdown() still ends it) */
    ldap_set_option(s->c.ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
    ldap_set_option(s->c.ld, LDAP_OPT_X_KEEPALIVE_IDLE, &idle);
    ldap_set_option(s->c.ld, LDAP_OPT_X_KEEPALIVE_PROBES, &probes);
    ldap_set_option(s->c.ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &intvl);
    return 0;
}

static long sr_ms_since(const struct timespec *then, const struct timespec *now)
{
    return (long)(now->tv_sec - then->tv_sec) * 1000 + (now->tv_nsec - then->tv_nsec) / 1000000;
}

/*
 * sr_probe - the hung-provider check, once per turn of the persist loop: send the probe after
 * persist_probe seconds of silence, take its answer, or give up on it after [ldap] timeout.
 * 0 (nothing to do yet, or answered), 1 (no answer in time: hung), -1 (the connection failed).
 */
static int sr_probe(struct sr *s, const struct timespec *now)
{
    char *no_attrs[] = {(char *)(uintptr_t)LDAP_NO_ATTRS, NULL};
    struct timeval zero = {0, 0};
    LDAPMessage *res = NULL;
    int rc;

    if (s->probe == 0) {
        if (sr_ms_since(&s->heard, now) < s->cf->ldap_persist_probe * 1000)
            return 0;
        rc = ldap_search_ext(s->c.ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", no_attrs, 0, NULL,
                             NULL, NULL, 1, &s->probe);
        if (rc != LDAP_SUCCESS) {
            s->probe = 0;
            return -1;
        }
        s->probed = *now;
        log_debug("syncrepl: %lld s without a message on the persist connection: probing %s",
                  s->cf->ldap_persist_probe, s->c.uri ? s->c.uri : "?");
        return 0;
    }
    rc = ldap_result(s->c.ld, s->probe, LDAP_MSG_ALL, &zero, &res);
    if (rc < 0)
        return -1;
    if (rc > 0) { /* an answer, whatever it says: the provider is alive */
        ldap_msgfree(res);
        s->probe = 0;
        s->heard = *now;
        return 0;
    }
    return sr_ms_since(&s->probed, now) >= s->cf->ldap_timeout * 1000 ? 1 : 0;
}

/* sr_persist - the next batch of persist-stage changes; 0 (commit) or SOURCE_ERR */
static int sr_persist(struct sr *s, int *lost)
{
    struct timespec quiet, now;
    uint64_t before;
    int fd = -1, rc, empty = 0, hung = 0;

    sr_reset(s);
    s->full = 0; /* after a refresh without a cookie: the batches are changes (apply_change) */
    ldap_get_option(s->c.ld, LDAP_OPT_DESC, &fd);
    clock_gettime(CLOCK_MONOTONIC, &quiet);
    for (;;) {
        long waited;
        before = s->msgs;
        s->ls.ls_timeout = 0;
        rc = ldap_sync_poll(&s->ls);
        if (rc != LDAP_SUCCESS || s->done) { /* the search ended, or the connection */
            *lost = 1;
            break;
        }
        if (s->failed)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (s->msgs != before) {
            quiet = now;
            s->heard = now;
            empty = 0;
            if (s->npend + s->dels >= SR_BATCH)
                break;
            continue;
        }
        /* libldap may read a message off the socket in one call and hand it out in the next:
         * poll the socket only after two calls that brought nothing */
        if (++empty < 2)
            continue;
        if (*s->run->stop)
            break;
        waited = sr_ms_since(&quiet, &now);
        if (s->npend + s->dels > 0 && waited >= SR_QUIET_MS)
            break;
        if ((hung = sr_probe(s, &now)) != 0) {
            rc = hung < 0 ? LDAP_SERVER_DOWN : LDAP_TIMEOUT;
            *lost = 1;
            break;
        }
        {
            struct pollfd p = {fd, POLLIN, 0};
            /* a probe's reading may have queued sync messages: look again soon */
            int t = s->npend + s->dels > 0 ? SR_QUIET_MS - (int)waited : s->probe ? 100 : 1000;
            if (poll(&p, 1, t > 0 ? t : 1) < 0 && errno != EINTR) {
                *lost = 1;
                break;
            }
            empty = 0;
        }
    }
    if (sr_flush(s) != 0 || s->failed)
        return sr_ldap_error(s, LDAP_OTHER);
    if (*lost) {
        char *diag = NULL;
        if (hung > 0)
            log_warnx("syncrepl: the provider at %s is hung: no answer to a probe within %lld s "
                      "(timeout) after %lld s without a message on the persist connection; "
                      "dropping it, reconnecting",
                      s->c.uri ? s->c.uri : "?", s->cf->ldap_timeout, s->cf->ldap_persist_probe);
        ldap_get_option(s->c.ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        log_warnx("syncrepl: persist connection to %s lost: %s%s%s; reconnecting",
                  s->c.uri ? s->c.uri : "?", rc != LDAP_SUCCESS ? ldap_err2string(rc) : "ended",
                  diag && *diag ? ": " : "", diag ? diag : "");
        ldap_memfree(diag);
        sr_meta(s, STORE_META_SYNC_PERSIST, "down");
    }
    if (s->puts + s->dels > 0) {
        snprintf(s->run->note, sizeof(s->run->note),
                 "syncrepl: %" PRIu64 " changed, %" PRIu64 " deleted entries", s->puts, s->dels);
        sr_meta_time(s);
    }
    sr_save_cookie(s);
    return s->failed ? sr_ldap_error(s, LDAP_OTHER) : 0;
}

static int sr_usable(const struct conf *cf)
{
    return cf->ldap_base.n == 1 && cf->map_id_attrs.n > 0 &&
           strcasecmp(cf->map_id_attrs.v[0], "entryUUID") == 0;
}

/*
 * sr_committed - whether the store holds the cookie the live stream last wrote. A run that
 * returned 0 may still fail to commit (MDB_MAP_FULL: syncd grows the map and calls again;
 * a write error); its changes were read off the connection and are not in the store, so
 * the stream must start over from the stored cookie rather than go on past them.
 */
static int sr_committed(const struct sr *s, struct source_run *r)
{
    char buf[STORE_META_MAX];

    if (r->dry_run) /* nothing is ever committed: going on is all a dry run can do */
        return 1;
    sr_stored_cookie(r->apply, buf, sizeof(buf));
    return strcmp(buf, s->saved) == 0;
}

static int src_syncrepl_run(struct source_run *r)
{
    static int decided; /* auto: 1 syncrepl, -1 paged, once per process */
    struct sr *s;
    int rc, lost = 0;

    if (strcmp(r->cf->ldap_sync, "auto") == 0 && decided == 0 && !sr_usable(r->cf)) {
        log_info("sync = auto: paged (syncrepl needs one base and id_attrs starting with "
                 "entryUUID)");
        decided = -1;
    }
    if (decided < 0)
        return src_ldap.run(r);
    r->err[0] = '\0';
    r->can_hold = 1;
    if (r->hold && sr_live != NULL && !sr_live->hold) { /* a refused batch: again from the cookie */
        sr_free(sr_live);
        sr_live = NULL;
    }
    if (sr_live != NULL && !sr_committed(sr_live, r)) {
        log_warnx("syncrepl: the last batch read was not committed to the store; reading it "
                  "again from the cookie there");
        sr_free(sr_live);
        sr_live = NULL;
    }
    if ((s = sr_live) != NULL) { /* --watch, connected: the next batch of changes */
        if ((rc = apply_change_start(r->apply)) != 0)
            return rc;
        sr_window(s, r);
        s->run = r;
        s->c.err = r->err;
        s->c.errlen = r->errlen;
        rc = sr_persist(s, &lost);
        r->invalid = s->stats.invalid;
        r->hold = s->hold;
        r->held = s->held;
        r->again = !*r->stop;
        if (lost || rc != 0) {
            sr_live = NULL;
            sr_free(s);
        }
        return rc;
    }
    s = sr_new(r);
    s->hold = r->hold;
    if ((rc = sr_connect(s)) != 0)
        goto out;
    if (decided == 0 && strcmp(r->cf->ldap_sync, "auto") == 0) {
        decided = sr_supported(s) ? 1 : -1;
        log_info("sync = auto: %s", decided > 0 ? "syncrepl (the provider offers RFC 4533)"
                                                : "paged (the provider offers no syncrepl)");
        if (decided < 0) {
            sr_free(s);
            return src_ldap.run(r);
        }
    }
    rc = sr_refresh(s, r->watch ? LDAP_SYNC_REFRESH_AND_PERSIST : LDAP_SYNC_REFRESH_ONLY);
    if (rc == 0) {
        apply_meta_put(r->apply, STORE_META_SYNC_MODE, r->watch ? "persist" : "refresh");
        apply_meta_put(r->apply, STORE_META_SYNC_PERSIST, r->watch ? "up" : "down");
    }
    r->invalid = s->stats.invalid;
    r->held = s->held;
    if (rc == 0 && r->watch) {
        clock_gettime(CLOCK_MONOTONIC, &s->heard);
        sr_live = s;
        r->again = 1;
        return 0;
    }
out:
    sr_free(s);
    return rc;
}

static void src_syncrepl_cleanup(void)
{
    sr_free(sr_live);
    sr_live = NULL;
}

static void src_syncrepl_describe(const struct conf *cf, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", cf->ldap_uri.n ? cf->ldap_uri.v[0] : "ldap",
             cf->ldap_base.n ? cf->ldap_base.v[0] : "");
}

const struct source src_syncrepl = {
    .name = "syncrepl",
    .conf = CONF_SOURCE_SYNCREPL,
    .global_cleanup = src_syncrepl_cleanup,
    .describe = src_syncrepl_describe,
    .run = src_syncrepl_run,
};
