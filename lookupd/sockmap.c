/*
 * sockmap - epoll socketmap server with per-thread readers; see sockmap.h.
 */
#include "lookupd/sockmap.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netstring.h"
#include "common/xmalloc.h"
#include "lookupd/sockmap_proto.h"
#include "lookupd/stats.h"

/* Room for the longest acceptable netstring: digits, ':', payload, ','. */
#define SOCKMAP_INBUF_MAX (SOCKMAP_MAX_QUERY + NS_MAX_DIGITS + 2)
#define SOCKMAP_EVENTS    128

/* What an epoll event's data.ptr points at: each struct starts with one of these. */
enum sm_kind { SM_LISTENER, SM_STOP, SM_CONN };
struct sm_handle {
    enum sm_kind kind;
};

struct sm_listener {
    struct sm_handle h;
    int fd;
    int is_unix;
};

struct sm_conn {
    struct sm_handle h;
    int fd;
    struct sm_conn *prev, *next;
    time_t last_active;   /* monotonic seconds of the last progress */
    time_t partial_since; /* when unfinished input began to wait; 0 none */
    char *in;
    size_t inlen, incap;
    size_t outoff, outlen;
    uint32_t events; /* registered with epoll */
    unsigned eof : 1, closing : 1;
    char out[SOCKMAP_OUTBUF];
};

struct sm_worker {
    struct sockmap *sm;
    int id;
    int epfd;
    pthread_t tid;
    int started;
    struct lk_reader rd;
    struct lk_stats *stats;
    struct sm_conn *head;
    size_t nconns;
    int listening;           /* the listeners are in this worker's epoll set */
    time_t listen_off_until; /* re-arm them then (after EMFILE and friends) */
    time_t last_warn;
    uint64_t cpu_ns, wall_ns; /* thread CPU time and monotonic time at the last sm_load() */
    _Atomic int saturated;    /* sm_load(): it used SOCKMAP_SATURATED of a CPU; read by others */
};

struct sockmap {
    struct sm_listener *ls;
    size_t nls;
    struct sm_handle stop_h;
    int stopfd;
    struct sm_worker *w;
    int nw;
    struct lk_db *db;
    const struct lookup_opts *opts;
    long long max_conns, idle;
};

/* sm_now - monotonic seconds */
static time_t sm_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec;
}

/*
 * sm_listen_arm - add (on) or remove (off) the listeners in a worker's epoll set. A worker
 * that cannot add them all (out of memory) stays off and tries again a second later;
 * removing one that was never added is a harmless ENOENT.
 */
static void sm_listen_arm(struct sm_worker *w, int on)
{
    struct sockmap *sm = w->sm;

    for (size_t i = 0; on && i < sm->nls; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &sm->ls[i].h};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sm->ls[i].fd, &ev) < 0) {
            log_warn("sockmap: worker %d: epoll_ctl add listener", w->id);
            on = 0;
        }
    }
    for (size_t i = 0; !on && i < sm->nls; i++)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, sm->ls[i].fd, NULL);
    w->listening = on;
}

struct sockmap *sockmap_new(const struct sockmap_params *p, struct lk_db *db,
                            const struct lookup_opts *opts)
{
    struct sockmap *sm = xcalloc(1, sizeof(*sm));

    sm->db = db;
    sm->opts = opts;
    sm->max_conns = p->max_connections;
    sm->idle = p->idle_timeout;
    sm->nls = p->nfds;
    sm->ls = xcalloc(p->nfds ? p->nfds : 1, sizeof(*sm->ls));
    for (size_t i = 0; i < p->nfds; i++) {
        sm->ls[i].h.kind = SM_LISTENER;
        sm->ls[i].fd = p->fds[i];
        sm->ls[i].is_unix = p->is_unix[i];
    }
    sm->stop_h.kind = SM_STOP;
    if ((sm->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        fatal("sockmap: eventfd");
    sm->nw = p->threads > 0 ? p->threads : 1;
    sm->w = xcalloc((size_t)sm->nw, sizeof(*sm->w));
    for (int i = 0; i < sm->nw; i++) {
        struct sm_worker *w = &sm->w[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &sm->stop_h};

        w->sm = sm;
        w->id = i;
        if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
            fatal("sockmap: epoll_create1");
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, sm->stopfd, &ev) < 0)
            fatal("sockmap: epoll_ctl");
        w->stats = stats_new();
        stats_worker(w->stats, i);
        if (i == 0)
            sm_listen_arm(w, 1); /* the others when it is saturated (sm_listen_policy()) */
    }
    return sm;
}

/* sm_conn_close - forget a connection */
static void sm_conn_close(struct sm_worker *w, struct sm_conn *c)
{
    close(c->fd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    w->nconns--;
    stats_set(&w->stats->conns, w->nconns);
    atomic_fetch_sub(&stats_sockmap_open, 1);
    free(c->in);
    free(c);
}

/* sm_warn_limited - at most one warning of this kind per worker and second */
static int sm_warn_limited(struct sm_worker *w, time_t now)
{
    if (w->last_warn == now)
        return 0;
    w->last_warn = now;
    return 1;
}

/* sm_accept - accept what is waiting on a listener, up to SOCKMAP_ACCEPT_BATCH */
static void sm_accept(struct sm_worker *w, struct sm_listener *l, time_t now)
{
    struct sockmap *sm = w->sm;

    for (int i = 0; i < SOCKMAP_ACCEPT_BATCH; i++) {
        struct epoll_event ev;
        struct sm_conn *c;
        int fd, one = 1;

        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (sm_warn_limited(w, now))
                log_warn("sockmap: accept");
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* stop listening for a second rather than spin on the pending connection */
                sm_listen_arm(w, 0);
                w->listen_off_until = now + 1;
            }
            return;
        }
        if (atomic_fetch_add(&stats_sockmap_open, 1) >= sm->max_conns) {
            atomic_fetch_sub(&stats_sockmap_open, 1);
            close(fd);
            stats_inc(w->stats, STATS_REFUSED);
            if (sm_warn_limited(w, now))
                log_warnx("sockmap: max_connections (%lld) reached, closing new connections",
                          sm->max_conns);
            continue;
        }
        if (!l->is_unix)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = calloc(1, sizeof(*c));
        if (c != NULL && (c->in = malloc(SOCKMAP_INBUF_START)) == NULL) {
            free(c);
            c = NULL;
        }
        if (c == NULL) {
            atomic_fetch_sub(&stats_sockmap_open, 1);
            close(fd);
            log_warnx("sockmap: out of memory, connection closed");
            continue;
        }
        c->h.kind = SM_CONN;
        c->fd = fd;
        c->incap = SOCKMAP_INBUF_START;
        c->last_active = now;
        c->events = EPOLLIN;
        ev.events = EPOLLIN;
        ev.data.ptr = &c->h;
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_warn("sockmap: epoll_ctl add");
            atomic_fetch_sub(&stats_sockmap_open, 1);
            close(fd);
            free(c->in);
            free(c);
            continue;
        }
        c->next = w->head;
        if (w->head != NULL)
            w->head->prev = c;
        w->head = c;
        w->nconns++;
        stats_set(&w->stats->conns, w->nconns);
        stats_inc(w->stats, STATS_ACCEPTED);
    }
}

/* sm_out_room - 1 when one more reply of any size fits in the output buffer */
static int sm_out_room(const struct sm_conn *c)
{
    return SOCKMAP_OUTBUF - c->outlen >= SOCKMAP_MAX_REPLY;
}

/* sm_put_text - append a reply netstring of text */
static void sm_put_text(struct sm_conn *c, const char *text)
{
    c->outlen += sockmap_reply_text(text, c->out + c->outlen, SOCKMAP_OUTBUF - c->outlen);
}

/* sm_answer - look one request up and append its reply */
static void sm_answer(struct sm_worker *w, struct sm_conn *c, const struct sockmap_req *req)
{
    static const enum stats_map smap[SOCKMAP_NMAPS] = {STATS_RCPT, STATS_ACCESS, STATS_DOMAIN};
    struct lookup_answer ans;
    char safe[LOG_SAFE_MAX + 8];
    uint64_t t0 = stats_now_ns();
    size_t n;

    if (req->badkey || req->keylen > ADDR_INPUT_MAX) {
        if (req->badkey)
            stats_inc(w->stats, STATS_BADKEY);
        log_warnx("sockmap: %s: %s key refused: %s", sockmap_map_name(req->map),
                  req->badkey ? "NUL, CR or LF in" : "over-long",
                  log_safe(safe, sizeof(safe), req->key, req->keylen));
        memset(&ans, 0, sizeof(ans));
        ans.result = LOOKUP_INVALID;
    } else {
        lk_db_lookup(w->sm->db, &w->rd, w->sm->opts, req->map == SOCKMAP_DOMAIN, req->key,
                     req->keylen, &ans);
    }
    n = sockmap_reply(req->map, &ans, c->out + c->outlen, SOCKMAP_OUTBUF - c->outlen);
    if (n == 0)
        sm_put_text(c, "TEMP internal error");
    c->outlen += n;
    stats_lookup(w->stats, smap[req->map], ans.result, stats_now_ns() - t0);
    if (log_get_level() >= LOG_LEVEL_DEBUG)
        log_debug("sockmap: %s %s: %s%s%s", sockmap_map_name(req->map),
                  log_safe(safe, sizeof(safe), req->key, req->keylen),
                  lookup_result_name(ans.result), ans.reason ? ": " : "",
                  ans.reason ? ans.reason : "");
}

/* sm_process - answer the complete requests in the input buffer while replies fit */
static void sm_process(struct sm_worker *w, struct sm_conn *c)
{
    size_t pos = 0;

    while (!c->closing && sm_out_room(c) && pos < c->inlen) {
        struct sockmap_req req;
        const char *reason;
        size_t used;
        enum sockmap_status st = sockmap_parse(c->in + pos, c->inlen - pos, &req, &used, &reason);

        if (st == SOCKMAP_MORE)
            break;
        if (st == SOCKMAP_PERM) {
            char text[128], safe[64];

            snprintf(text, sizeof(text), "PERM %s", reason);
            sm_put_text(c, text);
            stats_inc(w->stats, STATS_PERM);
            log_warnx("sockmap: %s, closing: %s", reason,
                      log_safe(safe, sizeof(safe), c->in + pos,
                               c->inlen - pos < 40 ? c->inlen - pos : 40));
            c->closing = 1;
            pos = c->inlen;
            break;
        }
        sm_answer(w, c, &req);
        pos += used;
    }
    if (pos > 0) {
        memmove(c->in, c->in + pos, c->inlen - pos);
        c->inlen -= pos;
    }
}

/* sm_flush - write what is waiting; 0, or -1 when the connection is broken */
static int sm_flush(struct sm_conn *c, time_t now)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        c->outoff += (size_t)n;
        c->last_active = now;
    }
    if (c->outoff == c->outlen) {
        c->outoff = c->outlen = 0;
    } else if (c->outoff > 0) {
        memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
        c->outlen -= c->outoff;
        c->outoff = 0;
    }
    return 0;
}

/* sm_read - one read into the input buffer; 0, or -1 when the connection is broken */
static int sm_read(struct sm_conn *c, time_t now)
{
    ssize_t n;

    if (c->inlen == c->incap) {
        size_t cap = c->incap * 4 < SOCKMAP_INBUF_MAX ? c->incap * 4 : SOCKMAP_INBUF_MAX;
        char *in;

        if (cap == c->incap)
            return -1; /* cannot happen: the parser refuses longer requests */
        if ((in = realloc(c->in, cap)) == NULL)
            return -1;
        c->in = in;
        c->incap = cap;
    }
    n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
    if (n > 0) {
        c->inlen += (size_t)n;
        c->last_active = now;
        return 0;
    }
    if (n == 0) {
        c->eof = 1;
        return 0;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* sm_want_in - 1 when the connection should be read from */
static int sm_want_in(const struct sm_conn *c)
{
    return !c->eof && !c->closing && sm_out_room(c);
}

/* sm_conn_run - handle events on a connection; -1 when it must be closed */
static int sm_conn_run(struct sm_worker *w, struct sm_conn *c, uint32_t events, time_t now)
{
    uint32_t want;

    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && sm_want_in(c) && sm_read(c, now) < 0)
        return -1;
    for (;;) {
        size_t inbefore = c->inlen;

        sm_process(w, c);
        if (sm_flush(c, now) < 0)
            return -1;
        /* flushing made room while complete requests still wait: answer them too */
        if (c->closing || c->inlen == 0 || c->inlen == inbefore || !sm_out_room(c))
            break;
    }
    if (c->eof && !c->closing && c->inlen > 0 && sm_out_room(c)) {
        /* the client half-closed inside a request: it will never be complete */
        sm_put_text(c, "PERM netstring truncated by end of input");
        stats_inc(w->stats, STATS_PERM);
        log_warnx("sockmap: netstring truncated by end of input, closing");
        c->closing = 1;
        c->inlen = 0;
        if (sm_flush(c, now) < 0)
            return -1;
    }
    if (c->outlen == 0 && (c->closing || c->eof))
        return -1; /* answered what was read; a truncated request left is dropped */
    if (c->inlen > 0 && c->partial_since == 0)
        c->partial_since = now;
    else if (c->inlen == 0)
        c->partial_since = 0;
    want = (sm_want_in(c) ? EPOLLIN : 0) | (c->outlen > 0 ? EPOLLOUT : 0);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = &c->h};
        if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
            return -1;
        c->events = want;
    }
    return 0;
}

/* sm_scan - close idle connections and requests that take too long to arrive */
static void sm_scan(struct sm_worker *w, time_t now)
{
    struct sm_conn *c, *next;

    for (c = w->head; c != NULL; c = next) {
        next = c->next;
        if (now - c->last_active >= w->sm->idle ||
            (c->partial_since != 0 && now - c->partial_since >= SOCKMAP_PARTIAL_TIMEOUT)) {
            log_debug("sockmap: closing %s connection", c->partial_since ? "slow" : "idle");
            stats_inc(w->stats, STATS_TIMEDOUT);
            sm_conn_close(w, c);
        }
    }
}

/* sm_thread_cpu_ns - CPU time of the calling thread, in nanoseconds */
static uint64_t sm_thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* sm_load - the worker's share of a CPU since the last call: its gauge, and saturated */
static void sm_load(struct sm_worker *w)
{
    uint64_t cpu = sm_thread_cpu_ns(), wall = stats_now_ns(), permille = 0;

    if (wall > w->wall_ns && cpu >= w->cpu_ns)
        permille = (cpu - w->cpu_ns) * 1000 / (wall - w->wall_ns);
    if (permille > 1000)
        permille = 1000;
    w->cpu_ns = cpu;
    w->wall_ns = wall;
    stats_set(&w->stats->cpu_permille, permille);
    atomic_store_explicit(&w->saturated, permille >= SOCKMAP_SATURATED * 10, memory_order_relaxed);
}

/*
 * sm_listen_policy - who takes new connections: worker 0 always, worker i only while
 * workers 0..i-1 are all saturated; none in the second after running out of descriptors
 */
static void sm_listen_policy(struct sm_worker *w, time_t now)
{
    int want = now >= w->listen_off_until;

    for (int i = 0; want && i < w->id; i++)
        want = atomic_load_explicit(&w->sm->w[i].saturated, memory_order_relaxed);
    if (want == w->listening)
        return;
    sm_listen_arm(w, want);
    if (w->id > 0)
        log_debug("sockmap: worker %d %s new connections", w->id,
                  want ? "takes" : "no longer takes");
}

/* sm_worker_main - one worker's event loop */
static void *sm_worker_main(void *arg)
{
    struct sm_worker *w = arg;
    struct epoll_event ev[SOCKMAP_EVENTS];
    time_t last_scan = sm_now();
    int stop = 0;

    w->cpu_ns = sm_thread_cpu_ns();
    w->wall_ns = stats_now_ns();
    while (!stop) {
        int n = epoll_wait(w->epfd, ev, SOCKMAP_EVENTS, 1000);
        time_t now = sm_now();

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("sockmap: epoll_wait");
        }
        /* what this wake-up brought is answered from one snapshot (db.h) */
        lk_db_batch_begin(&w->rd);
        for (int i = 0; i < n; i++) {
            struct sm_handle *h = ev[i].data.ptr;

            if (h->kind == SM_STOP) {
                stop = 1;
            } else if (h->kind == SM_LISTENER) {
                if (w->listening)
                    sm_accept(w, (struct sm_listener *)h, now);
            } else {
                struct sm_conn *c = (struct sm_conn *)h;
                if (sm_conn_run(w, c, ev[i].events, now) < 0)
                    sm_conn_close(w, c);
            }
        }
        lk_db_batch_end(w->sm->db, &w->rd);
        if (now != last_scan) {
            last_scan = now;
            sm_scan(w, now);
            sm_load(w);
            sm_listen_policy(w, now);
        }
    }
    /* stopping: the requests read so far are answered; send what fits, then close */
    while (w->head != NULL) {
        sm_flush(w->head, sm_now());
        sm_conn_close(w, w->head);
    }
    lk_db_reader_close(w->sm->db, &w->rd);
    return NULL;
}

void sockmap_start(struct sockmap *sm)
{
    for (int i = 0; i < sm->nw; i++) {
        int rc = pthread_create(&sm->w[i].tid, NULL, sm_worker_main, &sm->w[i]);
        if (rc != 0) {
            errno = rc;
            fatal("sockmap: pthread_create");
        }
        sm->w[i].started = 1;
    }
}

void sockmap_stop(struct sockmap *sm)
{
    uint64_t one = 1;
    ssize_t n = write(sm->stopfd, &one, sizeof(one));

    (void)n;
}

void sockmap_join(struct sockmap *sm)
{
    for (int i = 0; i < sm->nw; i++) {
        if (sm->w[i].started)
            pthread_join(sm->w[i].tid, NULL);
        sm->w[i].started = 0;
    }
}

void sockmap_free(struct sockmap *sm)
{
    if (sm == NULL)
        return;
    for (int i = 0; i < sm->nw; i++)
        close(sm->w[i].epfd);
    for (size_t i = 0; i < sm->nls; i++)
        close(sm->ls[i].fd);
    close(sm->stopfd);
    free(sm->w);
    free(sm->ls);
    free(sm);
}
