/*
 * policy - the policy delegation server and its harvest defence; see policy.h.
 *
 * The event loop is deliberately small: a Postfix client sends one request and waits, so a
 * connection holds at most the few bytes read ahead of a reply it has not taken. Its epoll
 * data is the connection's address; the listeners are numbered 1..n and the stop event 0
 * in data.u64 instead (no connection lives at such an address). Timeouts are deadlines:
 * each connection carries the second it must be closed at, moved on when it makes
 * progress, and a sweep once a second closes those that are due.
 *
 * Why not sockmap.c's workers with a protocol table: they buffer a whole request until its
 * netstring is complete and re-parse it from the start (SOCKMAP_MAX_QUERY bytes a
 * connection); a policy request is parsed as it streams in and only five attributes are
 * kept, so the buffering, the end-of-input and error handling (a reply, then a half-close and
 * a drain) and the timeouts all differ, and the harvest table wants one writer. Sharing would
 * have meant a protocol table through the middle of sockmap.c; this loop is about 200 lines.
 */
#include "lookupd/policy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "lookupd/policy_proto.h"
#include "lookupd/stats.h"

#define PC_EVENTS 64

/* Counters: written by the policy thread only, read by /metrics. */
enum pc_counter {
    PC_ACCEPTED = 0,
    PC_REFUSED,
    PC_TIMEDOUT,
    PC_REQUESTS,
    PC_MALFORMED,
    PC_UNKNOWN,
    PC_PENALTIES,
    PC_REFUSALS,
    PC_EXEMPT,
    PC_NCOUNTERS
};

static const char *const pc_counter_help[PC_NCOUNTERS][2] = {
    {"rcptdir_policy_connections_accepted_total", "Policy connections accepted."},
    {"rcptdir_policy_connections_refused_total",
     "Policy connections closed at once because max_connections was reached."},
    {"rcptdir_policy_connections_timedout_total",
     "Policy connections closed for idleness or an unfinished request."},
    {"rcptdir_policy_requests_total", "Policy requests answered."},
    {"rcptdir_policy_malformed_total", "Malformed policy requests (answered, then closed)."},
    {"rcptdir_harvest_unknown_total", "Unknown recipients counted against their clients."},
    {"rcptdir_harvest_penalties_total",
     "Penalties started (a client or prefix over its threshold)."},
    {"rcptdir_harvest_refusals_total", "Recipients refused because their client was penalised."},
    {"rcptdir_harvest_exempt_total",
     "RCPT requests from exempt or authenticated clients (never counted)."},
};

struct pc_conn {
    int fd;
    struct pc_conn *prev, *next;
    time_t deadline; /* monotonic second it is closed at */
    time_t begun;    /* when the request being read began; 0 between requests */
    size_t inoff, inlen, outoff, outlen;
    uint32_t events;
    unsigned eof : 1, closing : 1, draining : 1;
    struct policy_parser parser;
    char in[POLICY_INBUF];
    char out[POLICY_OUTBUF];
};

struct policy {
    int *fds;
    size_t nfds;
    int epfd, stopfd;
    pthread_t tid;
    int started;
    struct lk_db *db;
    const struct lookup_opts *opts;
    struct lk_reader rd;
    struct lk_stats *stats;
    long long max_conns, idle;
    int disconnect;
    struct pc_conn *conns;
    _Atomic uint64_t nconns;
    _Atomic uint64_t counter[PC_NCOUNTERS];
    pthread_mutex_t mu; /* the harvest table */
    struct harvest *hv;
    struct harvest_params hp;
};

/* pc_mono - monotonic seconds */
static time_t pc_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/* pc_inc - add one to a counter (single writer) */
static void pc_inc(struct policy *ps, enum pc_counter c)
{
    atomic_store_explicit(&ps->counter[c],
                          atomic_load_explicit(&ps->counter[c], memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

struct policy *policy_new(const struct policy_params *p, struct lk_db *db,
                          const struct lookup_opts *opts)
{
    struct policy *ps = xcalloc(1, sizeof(*ps));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    uint64_t seed = 0;

    ps->db = db;
    ps->opts = opts;
    ps->max_conns = p->max_connections;
    ps->idle = p->idle_timeout;
    ps->disconnect = p->disconnect;
    ps->hp = p->harvest;
    ps->nfds = p->nfds;
    ps->fds = xcalloc(p->nfds ? p->nfds : 1, sizeof(*ps->fds));
    memcpy(ps->fds, p->fds, p->nfds * sizeof(*ps->fds));
    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    ps->hv = harvest_new(&p->harvest, seed);
    ps->hp.exempt = NULL; /* harvest keeps its own copy */
    pthread_mutex_init(&ps->mu, NULL);
    ps->stats = stats_new();
    if ((ps->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (ps->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        epoll_ctl(ps->epfd, EPOLL_CTL_ADD, ps->stopfd, &ev) < 0)
        fatal("policy: epoll");
    for (size_t i = 0; i < p->nfds; i++) {
        ev.data.u64 = i + 1;
        if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, ps->fds[i], &ev) < 0)
            fatal("policy: epoll_ctl listener");
    }
    return ps;
}

/* pc_close - forget a connection */
static void pc_close(struct policy *ps, struct pc_conn *c)
{
    close(c->fd);
    *(c->prev != NULL ? &c->prev->next : &ps->conns) = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    atomic_fetch_sub(&ps->nconns, 1);
    free(c);
}

/* pc_accept - take the connections waiting on listener fd */
static void pc_accept(struct policy *ps, int fd, time_t now)
{
    static struct log_limit lim_full = LOG_LIMIT_DEFAULT, lim_err = LOG_LIMIT_DEFAULT;

    for (int k = 0; k < PC_EVENTS; k++) {
        struct epoll_event ev = {.events = EPOLLIN};
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        struct pc_conn *c;

        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                log_limited(&lim_err, "policy: accept: %s", strerror(errno));
            return;
        }
        if ((long long)atomic_load(&ps->nconns) >= ps->max_conns) {
            close(cfd);
            pc_inc(ps, PC_REFUSED);
            log_limited(&lim_full,
                        "policy: max_connections (%lld) reached, closing new connections",
                        ps->max_conns);
            continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on unix: fine */
        if ((c = malloc(sizeof(*c))) == NULL) {
            close(cfd);
            log_limited(&lim_err, "policy: out of memory, connection closed");
            continue;
        }
        memset(c, 0, offsetof(struct pc_conn, in));
        policy_parser_init(&c->parser);
        c->fd = cfd;
        c->deadline = now + ps->idle;
        c->events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(ps->epfd, EPOLL_CTL_ADD, cfd, &ev) < 0) {
            close(cfd);
            free(c);
            continue;
        }
        c->next = ps->conns;
        if (c->next != NULL)
            c->next->prev = c;
        ps->conns = c;
        atomic_fetch_add(&ps->nconns, 1);
        pc_inc(ps, PC_ACCEPTED);
    }
}

/* pc_refusal - the action for a penalised client */
static void pc_refusal(const struct policy *ps, const struct harvest_verdict *v, char *act,
                       size_t len)
{
    char who[CIDR_TEXT_MAX];

    cidr_format(&v->who, v->plen, who, sizeof(who));
    snprintf(act, len, "%s 4.7.1 Too many unknown recipients from %s, try again later",
             ps->disconnect ? "421" : "450", who);
}

/* pc_penalised_log - the one line for a new penalty */
static void pc_penalised_log(const struct policy *ps, const struct harvest_verdict *v)
{
    static struct log_limit lim = LOG_LIMIT_DEFAULT;
    char who[CIDR_TEXT_MAX];

    cidr_format(&v->who, v->plen, who, sizeof(who));
    log_limited(&lim,
                "policy: harvest: %s %s penalised for %lld s: %u unknown recipients within %lld s "
                "(threshold %lld)",
                v->prefix ? "prefix" : "client", who, ps->hp.penalty, v->count, ps->hp.window,
                v->prefix ? ps->hp.prefix_threshold : ps->hp.threshold);
}

/*
 * pc_rcpt - the action for a RCPT request: a penalised client's refusal, else the access
 * map's answer, with an unknown recipient counted against its client
 */
static void pc_rcpt(struct policy *ps, const struct policy_req *req, char *act, size_t len)
{
    struct harvest_verdict v;
    struct lookup_answer ans;
    struct cidr_addr ca;
    uint64_t t0 = stats_now_ns();
    int counted = 0, penalised = 0;

    if ((req->seen & POLICY_F_CLIENT) && !(req->toolong & POLICY_F_CLIENT) &&
        cidr_addr_parse(req->client_address, strlen(req->client_address), &ca) == 0) {
        counted = !req->sasl && !harvest_exempt(ps->hv, &ca);
        if (!counted)
            pc_inc(ps, PC_EXEMPT);
    }
    if (counted) {
        pthread_mutex_lock(&ps->mu);
        penalised = harvest_check(ps->hv, &ca, (int64_t)pc_mono(), &v);
        pthread_mutex_unlock(&ps->mu);
        if (penalised) {
            pc_inc(ps, PC_REFUSALS);
            pc_refusal(ps, &v, act, len);
            return;
        }
    }
    if (!(req->seen & POLICY_F_RECIPIENT) || (req->toolong & POLICY_F_RECIPIENT)) {
        /* nothing to look up, or more than any address: as the socketmap's over-long key */
        memset(&ans, 0, sizeof(ans));
        ans.result = LOOKUP_INVALID;
    } else {
        lk_db_lookup(ps->db, &ps->rd, ps->opts, 0, req->recipient, req->recipient_len, &ans);
    }
    stats_lookup(ps->stats, STATS_POLICY, ans.result, stats_now_ns() - t0);
    if (ans.result == LOOKUP_UNKNOWN && counted) {
        pc_inc(ps, PC_UNKNOWN);
        pthread_mutex_lock(&ps->mu);
        penalised = harvest_unknown(ps->hv, &ca, (int64_t)pc_mono(), &v);
        pthread_mutex_unlock(&ps->mu);
        if (penalised) {
            if (v.newly) {
                pc_inc(ps, PC_PENALTIES);
                pc_penalised_log(ps, &v);
            }
            pc_inc(ps, PC_REFUSALS);
            pc_refusal(ps, &v, act, len);
            return;
        }
    }
    if (policy_access_action(&ans, act, len) == 0)
        snprintf(act, len, "451 4.3.5 Temporary failure: internal error");
}

/* pc_answer - append the reply to one request */
static void pc_answer(struct policy *ps, struct pc_conn *c)
{
    const struct policy_req *req = &c->parser.req;
    char act[POLICY_MAX_REPLY - 16];

    pc_inc(ps, PC_REQUESTS);
    if ((req->seen & POLICY_F_STATE) && strcasecmp(req->state, "RCPT") == 0 &&
        strcmp(req->request, "smtpd_access_policy") == 0)
        pc_rcpt(ps, req, act, sizeof(act));
    else
        memcpy(act, "DUNNO", 6);
    c->outlen += policy_reply(act, c->out + c->outlen, sizeof(c->out) - c->outlen);
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        char st[sizeof(req->state) + 8], rc[LOG_SAFE_MAX + 8], cl[sizeof(req->client_address) + 8];
        log_debug("policy: %s %s from %s: %s",
                  log_safe(st, sizeof(st), req->state, strlen(req->state)),
                  log_safe(rc, sizeof(rc), req->recipient, req->recipient_len),
                  log_safe(cl, sizeof(cl), req->client_address, strlen(req->client_address)), act);
    }
}

/* pc_malformed - answer a request the parser refused, and close after it */
static void pc_malformed(struct policy *ps, struct pc_conn *c, const char *reason)
{
    static struct log_limit lim = LOG_LIMIT_DEFAULT;
    char act[POLICY_MAX_REPLY - 16];

    snprintf(act, sizeof(act), "451 4.3.5 Policy request malformed: %s", reason);
    c->outlen += policy_reply(act, c->out + c->outlen, sizeof(c->out) - c->outlen);
    c->closing = 1;
    pc_inc(ps, PC_MALFORMED);
    log_limited(&lim, "policy: malformed request, closing: %s", reason);
}

/* pc_room - 1 when another reply fits in the output buffer */
static int pc_room(const struct pc_conn *c)
{
    return sizeof(c->out) - c->outlen >= POLICY_MAX_REPLY;
}

/* pc_parse - feed the bytes read to the parser and answer each request, while replies fit */
static void pc_parse(struct policy *ps, struct pc_conn *c)
{
    while (!c->closing && c->inoff < c->inlen && pc_room(c)) {
        size_t used = 0;
        enum policy_status st =
            policy_parse(&c->parser, c->in + c->inoff, c->inlen - c->inoff, &used);

        c->inoff += used;
        if (st == POLICY_REQ)
            pc_answer(ps, c);
        else if (st == POLICY_ERR)
            pc_malformed(ps, c, c->parser.reason);
    }
    if (c->inoff == c->inlen)
        c->inoff = c->inlen = 0;
    if (c->eof && !c->closing && c->inlen == 0 && pc_room(c)) {
        const char *reason = policy_parse_eof(&c->parser);
        if (reason != NULL)
            pc_malformed(ps, c, reason);
    }
}

/* pc_send - write what waits; -1 when the connection is broken */
static int pc_send(struct pc_conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n > 0)
            c->outoff += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
    c->outoff = c->outlen = 0;
    return 0;
}

/*
 * pc_drain - after the reply to a malformed request: read and drop what the client still
 * sends, until it closes or POLICY_LINGER seconds are over. Closing with unread input would
 * send a reset, which can destroy the reply before the client has read it.
 */
static int pc_drain(struct pc_conn *c, time_t now)
{
    if (!c->draining) {
        c->draining = 1;
        c->deadline = now + POLICY_LINGER;
        if (shutdown(c->fd, SHUT_WR) < 0)
            return -1;
    }
    /* a few reads a wake-up: a client that keeps sending must not hold the thread */
    for (int k = 0; k < 16; k++) {
        ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
        if (n == 0 || (n < 0 && errno != EINTR))
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
    return 0;
}

/* pc_serve - one event on a connection; -1 when it is to be closed */
static int pc_serve(struct policy *ps, struct pc_conn *c, uint32_t events, time_t now)
{
    size_t before = c->outoff + c->inlen;
    uint32_t want;

    if (c->draining)
        return pc_drain(c, now);
    if (c->inlen == 0 && !c->eof && !c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
        if (n > 0)
            c->inlen = (size_t)n;
        else if (n == 0)
            c->eof = 1;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
    }
    do {
        pc_parse(ps, c);
        if (pc_send(c) < 0)
            return -1;
    } while (c->inlen > 0 && !c->closing && pc_room(c));
    if (c->outlen == 0 && c->eof)
        return -1;
    if (c->outlen == 0 && c->closing) {
        if (pc_drain(c, now) < 0)
            return -1;
        want = EPOLLIN;
        goto arm;
    }
    /* progress moves the deadline; a request begun must end within POLICY_PARTIAL_TIMEOUT */
    if (policy_parse_eof(&c->parser) == NULL)
        c->begun = 0;
    else if (c->begun == 0)
        c->begun = now;
    if (c->outoff + c->inlen != before || (events & EPOLLIN))
        c->deadline = now + ps->idle;
    if (c->begun != 0 && c->deadline > c->begun + POLICY_PARTIAL_TIMEOUT)
        c->deadline = c->begun + POLICY_PARTIAL_TIMEOUT;
    want = (c->inlen == 0 && !c->eof && !c->closing ? EPOLLIN : 0) | (c->outlen ? EPOLLOUT : 0);
arm:
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(ps->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
            return -1;
        c->events = want;
    }
    return 0;
}

/* pc_sweep - close the connections whose deadline has come */
static void pc_sweep(struct policy *ps, time_t now)
{
    struct pc_conn *c = ps->conns, *next;

    for (; c != NULL; c = next) {
        next = c->next;
        if (now < c->deadline)
            continue;
        log_debug("policy: closing %s connection", c->draining ? "malformed"
                                                   : c->begun  ? "slow"
                                                               : "idle");
        if (!c->draining)
            pc_inc(ps, PC_TIMEDOUT);
        pc_close(ps, c);
    }
}

/* pc_main - the policy thread */
static void *pc_main(void *arg)
{
    struct policy *ps = arg;
    struct epoll_event ev[PC_EVENTS];
    time_t swept = pc_mono();

    for (;;) {
        int n = epoll_wait(ps->epfd, ev, PC_EVENTS, 1000);
        time_t now = pc_mono();
        int stop = 0;

        if (n < 0 && errno != EINTR)
            fatal("policy: epoll_wait");
        lk_db_batch_begin(&ps->rd);
        for (int i = 0; i < n; i++) {
            uint64_t tag = ev[i].data.u64;

            if (tag == 0)
                stop = 1;
            else if (tag <= ps->nfds)
                pc_accept(ps, ps->fds[tag - 1], now);
            else if (pc_serve(ps, ev[i].data.ptr, ev[i].events, now) < 0)
                pc_close(ps, ev[i].data.ptr);
        }
        lk_db_batch_end(ps->db, &ps->rd);
        if (stop)
            break;
        if (now != swept) {
            swept = now;
            pc_sweep(ps, now);
        }
    }
    while (ps->conns != NULL) {
        pc_send(ps->conns);
        pc_close(ps, ps->conns);
    }
    lk_db_reader_close(ps->db, &ps->rd);
    return NULL;
}

void policy_start(struct policy *ps)
{
    int rc = pthread_create(&ps->tid, NULL, pc_main, ps);

    if (rc != 0) {
        errno = rc;
        fatal("policy: pthread_create");
    }
    ps->started = 1;
}

void policy_stop(struct policy *ps)
{
    uint64_t one = 1;

    if (ps != NULL && write(ps->stopfd, &one, sizeof(one)) < 0)
        log_warn("policy: stop");
}

void policy_join(struct policy *ps)
{
    if (ps != NULL && ps->started)
        pthread_join(ps->tid, NULL);
    if (ps != NULL)
        ps->started = 0;
}

void policy_free(struct policy *ps)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < ps->nfds; i++)
        close(ps->fds[i]);
    close(ps->epfd);
    close(ps->stopfd);
    harvest_free(ps->hv);
    pthread_mutex_destroy(&ps->mu);
    free(ps->fds);
    free(ps);
}

void policy_metrics(struct policy *ps, FILE *fp)
{
    size_t tracked, penalised;
    uint64_t evictions;

    if (ps == NULL)
        return;
    for (int c = 0; c < PC_NCOUNTERS; c++)
        fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", pc_counter_help[c][0],
                pc_counter_help[c][1], pc_counter_help[c][0], pc_counter_help[c][0],
                (unsigned long long)atomic_load_explicit(&ps->counter[c], memory_order_relaxed));
    pthread_mutex_lock(&ps->mu);
    harvest_counts(ps->hv, (int64_t)pc_mono(), &tracked, &penalised);
    evictions = harvest_evictions(ps->hv);
    pthread_mutex_unlock(&ps->mu);
    fprintf(fp,
            "# HELP rcptdir_policy_connections_open Policy connections open now.\n"
            "# TYPE rcptdir_policy_connections_open gauge\n"
            "rcptdir_policy_connections_open %llu\n"
            "# HELP rcptdir_harvest_tracked Clients and prefixes in the harvest table.\n"
            "# TYPE rcptdir_harvest_tracked gauge\n"
            "rcptdir_harvest_tracked %zu\n"
            "# HELP rcptdir_harvest_penalised Clients and prefixes penalised now.\n"
            "# TYPE rcptdir_harvest_penalised gauge\n"
            "rcptdir_harvest_penalised %zu\n"
            "# HELP rcptdir_harvest_evictions_total Entries dropped from the full harvest table.\n"
            "# TYPE rcptdir_harvest_evictions_total counter\n"
            "rcptdir_harvest_evictions_total %llu\n",
            (unsigned long long)atomic_load(&ps->nconns), tracked, penalised,
            (unsigned long long)evictions);
}

json_t *policy_harvest_json(struct policy *ps)
{
    struct harvest_info list[POLICY_SHOW_MAX];
    json_t *v = json_object(), *arr = json_array();
    time_t mono = pc_mono(), wall = time(NULL);
    size_t n, tracked, penalised;

    pthread_mutex_lock(&ps->mu);
    n = harvest_list(ps->hv, (int64_t)mono, list, POLICY_SHOW_MAX);
    harvest_counts(ps->hv, (int64_t)mono, &tracked, &penalised);
    pthread_mutex_unlock(&ps->mu);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        char who[CIDR_TEXT_MAX];

        cidr_format(&list[i].who, list[i].plen, who, sizeof(who));
        json_object_set_new(o, "client", json_string(who));
        json_object_set_new(o, "prefix", json_boolean(list[i].plen < 128));
        json_object_set_new(o, "count", json_integer(list[i].count));
        json_object_set_new(o, "until", json_integer((json_int_t)(wall + (list[i].until - mono))));
        json_object_set_new(o, "remaining", json_integer((json_int_t)(list[i].until - mono)));
        json_array_append_new(arr, o);
    }
    json_object_set_new(v, "threshold", json_integer(ps->hp.threshold));
    json_object_set_new(v, "prefix_threshold", json_integer(ps->hp.prefix_threshold));
    json_object_set_new(v, "window", json_integer(ps->hp.window));
    json_object_set_new(v, "penalty", json_integer(ps->hp.penalty));
    json_object_set_new(v, "max_clients", json_integer(ps->hp.max_entries));
    json_object_set_new(v, "tracked", json_integer((json_int_t)tracked));
    json_object_set_new(v, "penalised", json_integer((json_int_t)penalised));
    json_object_set_new(v, "offenders", arr);
    return v;
}
