/*
 * loadclient - socketmap (or HTTP) load generator: N persistent connections, each with one
 * request outstanding at a time (as each Postfix process does), optional idle connections
 * held open (connected one second before the measurement starts, so the server has
 * accepted them), for a fixed time. Prints lookups/s and latency percentiles.
 *
 *   loadclient [-c CONNS] [-i IDLE] [-t SECONDS] [-m MAP] [-H | -P] ADDRESS KEYFILE
 *
 * KEYFILE holds one key per line; connection k starts at key k * 7919 and walks the list.
 * -H: HTTP/1.1 instead of socketmap, "GET /v1/recipients/KEY" on keep-alive connections
 * (plain sockets, one request at a time, no pipelining); ADDRESS is then inet:HOST:PORT.
 * -P: the Postfix policy delegation protocol instead (check_policy_service): a request shaped
 * like Postfix 3.7's at RCPT time (22 attributes, about 500 bytes), recipient=KEY, from a
 * client address that changes with the key (10.X.Y.1, 200 /24s per connection); found
 * counts "action=DUNNO", errors 4xx actions.
 * When the server answers "Connection: close" the connection is opened again for the next
 * request (counted in reconnects=; that request's latency includes the connect).
 * Output (one line): "conns=16 idle=0 lookups=... rate=... p50_us=... p99_us=... mean_us=...
 * errors=... found=..." where found counts positive answers (socketmap "OK ...", HTTP
 * "result":"valid") and errors TEMP/PERM replies or HTTP statuses other than 200.
 * One thread drives every connection through epoll, so the client costs little CPU.
 */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/listen.h"

#define LC_HIST_US 100000 /* latency histogram: 1 µs buckets up to 100 ms */

struct lc_conn {
    int fd;
    int id;        /* its number */
    size_t next;   /* next key index */
    uint64_t sent; /* when the outstanding request was sent (ns) */
    char in[4096];
    size_t inlen;
};

/* what one reply said; LC_PARTIAL: more bytes needed */
enum lc_reply { LC_PARTIAL, LC_FOUND, LC_NOTFOUND, LC_ERROR };

static char **keys;
static size_t nkeys;
static const char *map = "rcpt";
static int http, policy, ep;
static struct listen_spec ls;
static uint64_t reconnects;
static uint32_t hist[LC_HIST_US + 1];

/* lc_now - monotonic nanoseconds */
static uint64_t lc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* lc_connect - a blocking connection to ls, or exit */
static int lc_connect(void)
{
    static struct addrinfo *res;
    int fd = -1;

    if (ls.is_unix) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, ls.path, strlen(ls.path));
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            goto fail;
    } else {
        struct addrinfo hints = {0};
        hints.ai_socktype = SOCK_STREAM;
        if (res == NULL && getaddrinfo(ls.host, ls.port, &hints, &res) != 0)
            goto fail;
        fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
            goto fail;
        {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
        }
    }
    return fd;
fail:
    perror("loadclient: connect");
    exit(2);
}

/* lc_http_request - "GET /v1/recipients/KEY" with KEY percent-encoded; its length */
static int lc_http_request(char *buf, size_t cap, const char *k)
{
    static const char hex[] = "0123456789ABCDEF";
    char path[3200];
    size_t n = 0;

    for (; *k != '\0' && n + 4 < sizeof(path); k++) {
        unsigned char ch = (unsigned char)*k;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~@+", ch) != NULL) {
            path[n++] = (char)ch;
        } else {
            path[n++] = '%';
            path[n++] = hex[ch >> 4];
            path[n++] = hex[ch & 15];
        }
    }
    path[n] = '\0';
    return snprintf(buf, cap, "GET /v1/recipients/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
}

/* lc_policy_request - a policy request at RCPT time for KEY from connection number conn */
static int lc_policy_request(char *buf, size_t cap, const char *k, size_t next, int conn)
{
    return snprintf(buf, cap,
                    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
                    "helo_name=client.example\nqueue_id=\nsender=sender@foreign.test\n"
                    "recipient=%s\nrecipient_count=0\nclient_address=10.%u.%u.1\n"
                    "client_name=unknown\nreverse_client_name=unknown\n"
                    "instance=8a3.6573d5a1.4b6f2.0\nsasl_method=\nsasl_username=\n"
                    "sasl_sender=\nsize=0\nccert_subject=\nccert_issuer=\n"
                    "ccert_fingerprint=\nencryption_protocol=\nencryption_cipher=\n"
                    "client_port=41234\n\n",
                    k, (unsigned)(next % 200), (unsigned)conn & 255);
}

/* lc_policy_reply - "action=...\n\n" complete in c->in? */
static enum lc_reply lc_policy_reply(const struct lc_conn *c)
{
    if (c->inlen < 2 || c->in[c->inlen - 1] != '\n' || c->in[c->inlen - 2] != '\n')
        return c->inlen == sizeof(c->in) ? LC_ERROR : LC_PARTIAL;
    if (c->inlen > 8 && c->in[7] == '4')
        return LC_ERROR;
    return strncmp(c->in, "action=DUNNO\n", 13) == 0 ? LC_FOUND : LC_NOTFOUND;
}

/* lc_open - (re)connect a connection and watch it */
static void lc_open(struct lc_conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

    c->fd = lc_connect();
    c->inlen = 0;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* lc_send - send the next request of a connection; one the server closed is reopened first
 * (its latency includes the connect) */
static void lc_send(struct lc_conn *c)
{
    char buf[3400];
    size_t next = c->next++;
    const char *k = keys[next % nkeys];
    int n = http ? lc_http_request(buf, sizeof(buf), k)
            : policy
                ? lc_policy_request(buf, sizeof(buf), k, next, c->id)
                : snprintf(buf, sizeof(buf), "%zu:%s %s,", strlen(map) + 1 + strlen(k), map, k);

    c->sent = lc_now();
    if (c->fd < 0) {
        lc_open(c);
        reconnects++;
    }
    if (write(c->fd, buf, (size_t)n) != n) {
        perror("loadclient: write");
        exit(2);
    }
}

/* lc_sockmap_reply - one netstring reply complete in c->in? */
static enum lc_reply lc_sockmap_reply(const struct lc_conn *c)
{
    const char *colon = memchr(c->in, ':', c->inlen);
    size_t len, hdr;

    if (colon == NULL)
        return LC_PARTIAL;
    len = strtoul(c->in, NULL, 10);
    hdr = (size_t)(colon - c->in) + 1;
    if (c->inlen < hdr + len + 1)
        return LC_PARTIAL;
    if (c->in[hdr + len] != ',')
        return LC_ERROR;
    if (len >= 4 && (strncmp(c->in + hdr, "TEMP", 4) == 0 || strncmp(c->in + hdr, "PERM", 4) == 0))
        return LC_ERROR;
    return len >= 3 && strncmp(c->in + hdr, "OK ", 3) == 0 ? LC_FOUND : LC_NOTFOUND;
}

/* lc_http_reply - one HTTP response complete in c->in? (needs a Content-Length); *closing:
 * the server said "Connection: close" */
static enum lc_reply lc_http_reply(const struct lc_conn *c, int *closing)
{
    const char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4), *p, *body;
    size_t hlen, clen = (size_t)-1;

    if (end == NULL)
        return c->inlen == sizeof(c->in) ? LC_ERROR : LC_PARTIAL;
    hlen = (size_t)(end - c->in) + 4;
    for (p = memchr(c->in, '\n', hlen); p != NULL && p + 1 < end;
         p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
        if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
            clen = strtoul(p + 16, NULL, 10);
        else if (strncasecmp(p + 1, "Connection: close", 17) == 0)
            *closing = 1;
    }
    if (clen == (size_t)-1 || hlen + clen > sizeof(c->in))
        return LC_ERROR;
    if (c->inlen < hlen + clen)
        return LC_PARTIAL;
    if (c->inlen < 12 || strncmp(c->in, "HTTP/1.1 200", 12) != 0)
        return LC_ERROR;
    body = c->in + hlen;
    return memmem(body, clen, "\"result\":\"valid\"", 16) != NULL ? LC_FOUND : LC_NOTFOUND;
}

int main(int argc, char **argv)
{
    int conns = 1, idle = 0, secs = 5, ch;
    struct lc_conn *cs;
    struct rlimit rl;
    char err[256], line[1100];
    uint64_t done = 0, errors = 0, found = 0, start, end, total = 0;
    size_t cap = 0;
    FILE *fp;

    while ((ch = getopt(argc, argv, "c:i:t:m:HP")) != -1) {
        switch (ch) {
        case 'c':
            conns = atoi(optarg);
            break;
        case 'i':
            idle = atoi(optarg);
            break;
        case 't':
            secs = atoi(optarg);
            break;
        case 'm':
            map = optarg;
            break;
        case 'H':
            http = 1;
            break;
        case 'P':
            policy = 1;
            break;
        default:
            return 64;
        }
    }
    if (optind + 2 != argc || conns < 1) {
        fprintf(stderr, "usage: loadclient [-c CONNS] [-i IDLE] [-t SECONDS] [-m MAP] [-H | -P] "
                        "ADDRESS KEYFILE\n");
        return 64;
    }
    if (listen_parse(argv[optind], &ls, err, sizeof(err)) < 0) {
        fprintf(stderr, "loadclient: %s\n", err);
        return 64;
    }
    if ((fp = fopen(argv[optind + 1], "r")) == NULL) {
        perror(argv[optind + 1]);
        return 66;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (nkeys == cap) {
            cap = cap ? cap * 2 : 1024;
            keys = realloc(keys, cap * sizeof(*keys));
        }
        keys[nkeys++] = strdup(line);
    }
    fclose(fp);
    if (nkeys == 0)
        return 65;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)(conns + idle + 64)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < idle; i++)
        (void)lc_connect(); /* held open, never used */
    if (idle > 0)
        sleep(1); /* let the server accept them: measure the steady state, not the burst */
    ep = epoll_create1(0);
    cs = calloc((size_t)conns, sizeof(*cs));
    for (int i = 0; i < conns; i++) {
        lc_open(&cs[i]);
        cs[i].id = i;
        cs[i].next = (size_t)i * 7919;
    }
    start = lc_now();
    end = start + (uint64_t)secs * 1000000000u;
    for (int i = 0; i < conns; i++)
        lc_send(&cs[i]);
    for (;;) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 1000);
        uint64_t now = lc_now();

        if (now >= end)
            break;
        for (int i = 0; i < n; i++) {
            struct lc_conn *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
            enum lc_reply got;
            int closing = 0;

            if (r <= 0) {
                fprintf(stderr, "loadclient: server closed a connection\n");
                return 2;
            }
            c->inlen += (size_t)r;
            /* one reply outstanding: complete when the netstring (response) is */
            got = http     ? lc_http_reply(c, &closing)
                  : policy ? lc_policy_reply(c)
                           : lc_sockmap_reply(c);
            if (got == LC_PARTIAL)
                continue;
            if (got == LC_ERROR)
                errors++;
            else if (got == LC_FOUND)
                found++;
            {
                uint64_t us = (now - c->sent) / 1000;
                hist[us > LC_HIST_US ? LC_HIST_US : us]++;
                total += now - c->sent;
            }
            done++;
            c->inlen = 0;
            if (closing) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
            }
            lc_send(c);
        }
    }
    {
        double elapsed = (double)(lc_now() - start) / 1e9;
        uint64_t p50 = 0, p99 = 0, seen = 0;
        int got50 = 0;

        for (uint32_t us = 0; us <= LC_HIST_US; us++) {
            seen += hist[us];
            if (!got50 && seen * 100 >= done * 50) {
                p50 = us;
                got50 = 1;
            }
            if (seen * 100 >= done * 99) {
                p99 = us;
                break;
            }
        }
        printf("conns=%d idle=%d lookups=%llu rate=%.0f p50_us=%llu p99_us=%llu mean_us=%.1f "
               "errors=%llu found=%llu reconnects=%llu\n",
               conns, idle, (unsigned long long)done, (double)done / elapsed,
               (unsigned long long)p50, (unsigned long long)p99,
               done ? (double)total / (double)done / 1000.0 : 0.0, (unsigned long long)errors,
               (unsigned long long)found, (unsigned long long)reconnects);
    }
    free(cs); /* the connections close at exit */
    return 0;
}
