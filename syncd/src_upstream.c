/*
 * src_upstream - an upstream hub's feed over libcurl into apply; see src_upstream.h.
 *
 * Ownership: one CURL handle per run (reused for the snapshot after a 410, so the
 * connection is kept), freed before returning; the decoder lives in struct pull.
 */
#include "syncd/src_upstream.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "schema/feed.h"
#include "syncd/apply_feed.h"

#define UPSTREAM_AGENT    "rcptdir-syncd"
#define UPSTREAM_ERRBODY  1024 /* bytes of a non-200 answer kept for its message */
#define UPSTREAM_TOKEN    4096
#define UPSTREAM_MIN_AUTO (1LL << 30) /* max_size = 0: at least this many bytes */
#define UPSTREAM_NAME     64          /* bytes of the edge's name, with its NUL (lookupd/edges.h) */

/* what one request needs while libcurl calls back */
struct pull {
    CURL *curl;
    struct curl_slist *hdrs; /* the headers every request sends (token, name) */
    struct apply *apply;
    enum feed_kind want;      /* the kind asked for */
    uint64_t since;           /* changes: the generation asked from */
    unsigned wait;            /* changes: seconds the hub may hold the request (long poll) */
    uint64_t max_jump;        /* most generations one feed may move the store (0: no bound) */
    char refusal[256];        /* why pull_record refused the feed, or "" */
    char key[UPSTREAM_TOKEN]; /* the feed token: keyed feeds verify with it (wiped at the end) */
    size_t keylen;
    const volatile sig_atomic_t *stop;
    long max_size;
    long status; /* HTTP status, once known */
    int too_big; /* the transfer was stopped at max_size */
    int dec_rc;  /* the decoder's result: 0 or an enum feed_err */
    struct feed_dec dec;
    uint64_t bytes, records;
    char body[UPSTREAM_ERRBODY + 1]; /* a non-200 answer's start */
    size_t bodylen;
};

/* pull_record - the decoder's callback: the header, then each record into apply */
static int pull_record(void *ctx, const struct feed_header *h, const struct feed_record *r)
{
    struct pull *p = ctx;

    if (r != NULL) {
        p->records++;
        return apply_feed_record(p->apply, r);
    }
    if (h->kind != p->want || (h->kind == FEED_CHANGES && h->from != p->since))
        return FEED_ERR_HEADER; /* not what was asked for */
    if (p->max_jump > 0 && h->to > apply_generation(p->apply) &&
        h->to - apply_generation(p->apply) > p->max_jump) {
        /* a forged feed must not move the store's generation out of a real hub's reach */
        snprintf(p->refusal, sizeof(p->refusal),
                 "refused: the upstream's feed moves this store from generation %" PRIu64
                 " to %" PRIu64 ", more than [upstream] max_jump (%" PRIu64
                 ") at once: a forged feed? run with --force to take it",
                 apply_generation(p->apply), h->to, p->max_jump);
        return APPLY_REFUSED;
    }
    return apply_feed_header(p->apply, h);
}

static size_t pull_write(char *data, size_t size, size_t n, void *ctx)
{
    struct pull *p = ctx;

    n *= size;
    if (p->status == 0)
        curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &p->status);
    if (p->status != 200) { /* keep the start of the answer for the message */
        size_t k = UPSTREAM_ERRBODY - p->bodylen < n ? UPSTREAM_ERRBODY - p->bodylen : n;
        memcpy(p->body + p->bodylen, data, k);
        p->bodylen += k;
        p->body[p->bodylen] = '\0';
        return n;
    }
    p->bytes += n;
    if (p->bytes > (uint64_t)p->max_size) {
        p->too_big = 1;
        return 0;
    }
    if ((p->dec_rc = feed_dec_push(&p->dec, data, n, pull_record, p)) != 0)
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    return n;
}

/* pull_message - the hub's JSON {"error": ...}, or the answer's first line, made printable */
static void pull_message(const struct pull *p, char *out, size_t len)
{
    json_t *j = json_loadb(p->body, p->bodylen, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "error"));
    size_t i = 0;

    for (const char *s = msg != NULL ? msg : p->body; *s != '\0' && *s != '\n' && i + 1 < len; s++)
        out[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[i] = '\0';
    json_decref(j);
}

/*
 * upstream_max_size - [upstream] max_size, or for 0 four times the store's size on disk
 * (data.mdb's allocated blocks: the map is sparse), at least UPSTREAM_MIN_AUTO: a feed is
 * written into the map before its trailer is checked, so a hostile one is bounded by what the
 * store holds, not by the disk
 */
static long long upstream_max_size(const struct conf *cf)
{
    char path[4096];
    struct stat sb;
    long long used = 0;

    if (cf->up_max_size > 0)
        return cf->up_max_size;
    snprintf(path, sizeof(path), "%s/data.mdb", cf->store_path);
    if (stat(path, &sb) == 0)
        used = (long long)sb.st_blocks * 512;
    return 4 * used > UPSTREAM_MIN_AUTO ? 4 * used : UPSTREAM_MIN_AUTO;
}

/* pull_progress - libcurl's progress callback: a signal stops a transfer (a long poll too) */
static int pull_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
    const struct pull *p = ctx;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return p->stop != NULL && *p->stop ? 1 : 0;
}

/* pull_name - the name this edge gives the hub: [upstream] name, or the host name */
static void pull_name(const struct conf *cf, char *buf, size_t len)
{
    if (cf->up_name != NULL && cf->up_name[0] != '\0') {
        snprintf(buf, len, "%s", cf->up_name);
        return;
    }
    if (gethostname(buf, len) != 0)
        buf[0] = '\0';
    buf[len - 1] = '\0';
}

/* pull_setup - the options every request shares, the token as p's key; 0, or SOURCE_ERR_CONFIG
 * (the token file) or SOURCE_ERR with err set */
static int pull_setup(const struct conf *cf, struct pull *p, struct curl_slist **hdrs, char *err,
                      size_t errlen)
{
    CURL *c = p->curl;
    char token[UPSTREAM_TOKEN], msg[256], name[UPSTREAM_NAME + 32];
    int ok = 1;

    if (cf->up_token_file != NULL && cf->up_token_file[0] != '\0') {
        char *line;
        long n = fs_read_secret(cf->up_token_file, token, sizeof(token), msg, sizeof(msg));
        if (n <= 0) {
            snprintf(err, errlen, "upstream: token_file: %s", n == 0 ? "empty" : msg);
            return SOURCE_ERR_CONFIG;
        }
        memcpy(p->key, token, (size_t)n);
        p->keylen = (size_t)n;
        line = xmalloc((size_t)n + 32);
        snprintf(line, (size_t)n + 32, "Authorization: Bearer %s", token);
        *hdrs = curl_slist_append(*hdrs, line);
        explicit_bzero(line, (size_t)n + 32);
        explicit_bzero(token, sizeof(token));
        free(line);
        if (*hdrs == NULL) {
            snprintf(err, errlen, "upstream: out of memory");
            return SOURCE_ERR;
        }
    }
    pull_name(cf, msg, UPSTREAM_NAME);
    if (msg[0] != '\0') { /* the hub's edges table (docs/protocol.md "Edges") */
        snprintf(name, sizeof(name), "Rcptdir-Edge: %s", msg);
        if ((*hdrs = curl_slist_append(*hdrs, name)) == NULL) {
            snprintf(err, errlen, "upstream: out of memory");
            return SOURCE_ERR;
        }
    }
    ok &= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, pull_progress) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cf->up_timeout) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)cf->up_timeout) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_USERAGENT, UPSTREAM_AGENT) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK; /* gzip when served */
    ok &= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)upstream_max_size(cf)) ==
          CURLE_OK;
    if (cf->up_ca_file != NULL && cf->up_ca_file[0] != '\0')
        ok &= curl_easy_setopt(c, CURLOPT_CAINFO, cf->up_ca_file) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pull_write) == CURLE_OK;
    if (!ok) {
        snprintf(err, errlen, "upstream: libcurl does not accept the options it needs");
        return SOURCE_ERR;
    }
    return 0;
}

/*
 * pull_once - one request (snapshot, or changes since p->since); 0 with p->status set (the
 * feed was applied when 200), else SOURCE_ERR / APPLY_REFUSED / apply's code, err set
 */
static int pull_once(const struct conf *cf, struct pull *p, char *err, size_t errlen)
{
    char url[2048], cerr[CURL_ERROR_SIZE] = "", wait[32] = "", genhdr[64];
    size_t n = strlen(cf->up_url);
    struct curl_slist *hdrs;
    CURLcode cc;
    int rc;

    while (n > 0 && cf->up_url[n - 1] == '/')
        n--;
    if (p->wait > 0)
        snprintf(wait, sizeof(wait), "&wait=%u", p->wait);
    if (p->want == FEED_SNAPSHOT)
        snprintf(url, sizeof(url), "%.*s/v1/snapshot", (int)n, cf->up_url);
    else
        snprintf(url, sizeof(url), "%.*s/v1/changes?since=%" PRIu64 "%s", (int)n, cf->up_url,
                 p->since, wait);
    /* the generation this store has, for the hub's edges table */
    snprintf(genhdr, sizeof(genhdr), "Rcptdir-Generation: %" PRIu64, p->since);
    if ((hdrs = curl_slist_append(NULL, genhdr)) == NULL) {
        snprintf(err, errlen, "upstream: out of memory");
        return SOURCE_ERR;
    }
    for (struct curl_slist *h = p->hdrs; h != NULL; h = h->next)
        if (curl_slist_append(hdrs, h->data) == NULL) {
            curl_slist_free_all(hdrs);
            snprintf(err, errlen, "upstream: out of memory");
            return SOURCE_ERR;
        }
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, hdrs);
    /* a long poll sends nothing while it waits: wait seconds more before it is "too slow" */
    curl_easy_setopt(p->curl, CURLOPT_LOW_SPEED_TIME, (long)(cf->up_timeout + (long long)p->wait));
    feed_dec_init(&p->dec);
    feed_dec_key(&p->dec, p->key, p->keylen);
    p->status = 0;
    p->too_big = 0;
    p->dec_rc = 0;
    p->bytes = p->records = 0;
    p->bodylen = 0;
    p->body[0] = '\0';
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, cerr);
    log_debug("upstream: GET %s", url);
    cc = curl_easy_perform(p->curl);
    curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    /* the decoder stopped on a format error, or its callback (pull_record) stopped it with
     * apply's code or FEED_ERR_HEADER: each code means one thing (schema/err.h) */
    rc = p->dec_rc == FEED_ERR_STOPPED ? feed_dec_stopped(&p->dec) : p->dec_rc;
    if (rc == APPLY_REFUSED) {
        snprintf(err, errlen, "%s", p->refusal[0] != '\0' ? p->refusal : apply_refusal(p->apply));
        return APPLY_REFUSED;
    }
    if (p->too_big || (rc == 0 && cc == CURLE_FILESIZE_EXCEEDED)) { /* counted or announced */
        snprintf(err, errlen, "upstream %s: the feed is larger than max_size (%lld bytes)", url,
                 upstream_max_size(cf));
        return SOURCE_ERR;
    }
    if (rc == APPLY_BADFEED) {
        snprintf(err, errlen,
                 "upstream %s: record %" PRIu64 " cannot be right (an address that is not "
                 "normalized, or one sent twice)",
                 url, p->records);
        return SOURCE_ERR;
    }
    if (p->dec_rc != 0 && (p->dec_rc != FEED_ERR_STOPPED || rc == FEED_ERR_HEADER)) {
        snprintf(err, errlen, "upstream %s: %s after %" PRIu64 " bytes", url, err_strerror(rc),
                 p->bytes);
        return SOURCE_ERR;
    }
    if (rc != 0)
        return rc; /* a store error (MDB_MAP_FULL and the like), or EINVAL from apply */
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "upstream %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
        return SOURCE_ERR;
    }
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &p->status);
    if (p->status == 200 && feed_dec_finish(&p->dec) != 0) {
        snprintf(err, errlen, "upstream %s: %s after %" PRIu64 " bytes (stream cut short?)", url,
                 feed_strerror(FEED_ERR_TRUNCATED), p->bytes);
        return SOURCE_ERR;
    }
    return 0;
}

/* what one run fetched, for the note syncd logs */
struct upstream_stats {
    char kind;         /* 'S' snapshot or 'C' changes: what was applied */
    uint64_t from, to; /* the feed's generations */
    uint64_t bytes;    /* feed bytes received (after content decoding) */
    uint64_t wire;     /* body bytes on the wire (gzip, when the hub compressed) */
    uint64_t records;
    int requests; /* HTTP requests made (2 after a 410 fallback) */
    int waited;   /* a long poll was asked for */
};

/*
 * src_upstream_pull - fetch and apply one feed into a (fresh from apply_begin()). Returns 0,
 * SOURCE_ERR (message in err), SOURCE_ERR_CONFIG (the token file cannot be read, or the hub
 * refused the token: message in err), APPLY_REFUSED (the reason in err), or a store error from
 * apply (MDB_MAP_FULL: grow and run again).
 */
static int src_upstream_pull(const struct conf *cf, struct apply *a, const struct source_run *r,
                             struct upstream_stats *us, char *err, size_t errlen)
{
    int force = r->force;
    struct pull *p = xcalloc(1, sizeof(*p));
    struct curl_slist *hdrs = NULL;
    uint64_t gen = apply_generation(a);
    char msg[256];
    time_t t0;
    unsigned wait;
    int rc;

    memset(us, 0, sizeof(*us));
    p->apply = a;
    p->max_size = (long)upstream_max_size(cf);
    if ((p->curl = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "upstream: cannot initialise libcurl");
        rc = SOURCE_ERR;
        goto out;
    }
    if ((rc = pull_setup(cf, p, &hdrs, err, errlen)) != 0)
        goto out;
    p->hdrs = hdrs;
    p->stop = r->stop;
    p->max_jump = force ? 0 : (uint64_t)cf->up_max_jump;
    curl_easy_setopt(p->curl, CURLOPT_XFERINFODATA, p);
    /* a store that never synced takes a snapshot; otherwise what changed since its generation */
    p->want = gen == 0 ? FEED_SNAPSHOT : FEED_CHANGES;
    p->since = gen;
    /* --watch: the hub holds the request until it commits (docs/protocol.md "Long poll") */
    wait = r->watch && cf->up_wait > 0 ? (unsigned)cf->up_wait : 0;
    t0 = time(NULL);
    for (;;) {
        us->requests++;
        p->wait = p->want == FEED_CHANGES ? wait : 0;
        if ((rc = pull_once(cf, p, err, errlen)) != 0)
            goto out;
        if (p->status == 200)
            break;
        pull_message(p, msg, sizeof(msg));
        if (p->want == FEED_CHANGES && p->status == 410) {
            log_info("upstream: %s; taking a snapshot", msg);
            p->want = FEED_SNAPSHOT;
            continue;
        }
        if (p->want == FEED_CHANGES && p->status == 409 && force) {
            log_warnx("upstream: %s; taking its snapshot (--force)", msg);
            p->want = FEED_SNAPSHOT;
            continue;
        }
        if (p->status == 409) {
            snprintf(err, errlen,
                     "refused: this store (generation %" PRIu64 ") is ahead of the upstream "
                     "(\"%s\"): a hub restored from an older backup? run with --force to take "
                     "its snapshot",
                     gen, msg);
            rc = APPLY_REFUSED;
        } else if (p->status == 401 || p->status == 403) {
            snprintf(err, errlen,
                     "upstream %s refused the feed token (HTTP %ld: %s): check [upstream] "
                     "token_file against the hub's feed_token_file",
                     cf->up_url, p->status, msg);
            rc = SOURCE_ERR_CONFIG; /* asking again will not help */
        } else {
            snprintf(err, errlen, "upstream %s answered HTTP %ld: %s", cf->up_url, p->status,
                     msg[0] ? msg : "(no message)");
            rc = SOURCE_ERR;
        }
        goto out;
    }
    /* --watch asks again at once when the hub sent news, or held the request as asked; a hub
     * that answers a long poll at once without news (older than wait=) is polled each
     * [sync] interval instead */
    us->waited = wait > 0 && (p->dec.h.from != p->dec.h.to || p->want == FEED_SNAPSHOT ||
                              time(NULL) - t0 >= (time_t)wait / 2);
    us->kind = (char)p->dec.h.kind;
    us->from = p->dec.h.from;
    us->to = p->dec.h.to;
    us->bytes = p->bytes;
    us->records = p->records;
    {
        curl_off_t wire = 0;
        if (curl_easy_getinfo(p->curl, CURLINFO_SIZE_DOWNLOAD_T, &wire) == CURLE_OK && wire > 0)
            us->wire = (uint64_t)wire;
    }
out:
    if (p->curl != NULL)
        curl_easy_cleanup(p->curl);
    curl_slist_free_all(hdrs);
    explicit_bzero(p->key, sizeof(p->key));
    explicit_bzero(&p->dec.mac, sizeof(p->dec.mac));
    free(p);
    return rc;
}

static int src_upstream_run(struct source_run *r)
{
    struct upstream_stats us;
    int rc = src_upstream_pull(r->cf, r->apply, r, &us, r->err, r->errlen);

    r->waited = us.waited;
    if (rc == 0)
        snprintf(r->note, sizeof(r->note),
                 "upstream %s from generation %" PRIu64 " to %" PRIu64 ": %" PRIu64
                 " records, %" PRIu64 " bytes, %" PRIu64 " on the wire%s",
                 us.kind == FEED_SNAPSHOT ? "snapshot" : "changes", us.from, us.to, us.records,
                 us.bytes, us.wire, us.requests > 1 ? " (after a fallback to the snapshot)" : "");
    return rc;
}

static int src_upstream_init(char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) == 0)
        return 0;
    snprintf(err, errlen, "upstream: cannot initialise libcurl");
    return -1;
}

static void src_upstream_describe(const struct conf *cf, char *buf, size_t len)
{
    snprintf(buf, len, "%s", cf->up_url);
}

const struct source src_upstream = {
    .name = "upstream",
    .conf = CONF_SOURCE_UPSTREAM,
    .global_init = src_upstream_init,
    .global_cleanup = curl_global_cleanup,
    .describe = src_upstream_describe,
    .run = src_upstream_run,
};
