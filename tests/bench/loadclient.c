/*
 * loadclient - socketmap load generator: N persistent connections, each with one request
 * outstanding at a time (as each Postfix process does), optional idle connections held
 * open, for a fixed time. Prints lookups/s and latency percentiles.
 *
 *   loadclient [-c CONNS] [-i IDLE] [-t SECONDS] [-m MAP] ADDRESS KEYFILE
 *
 * KEYFILE holds one key per line; connection k starts at key k and walks the list. Output
 * (one line): "conns=16 idle=0 lookups=... rate=... p50_us=... p99_us=... errors=..."
 * One thread drives every connection through epoll, so the client costs little CPU.
 */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
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
    size_t next;   /* next key index */
    uint64_t sent; /* when the outstanding request was sent (ns) */
    char in[1024];
    size_t inlen;
};

static char **keys;
static size_t nkeys;
static uint32_t hist[LC_HIST_US + 1];

/* lc_now - monotonic nanoseconds */
static uint64_t lc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* lc_connect - a blocking connection, or exit */
static int lc_connect(const struct listen_spec *ls)
{
    int fd = -1;

    if (ls->is_unix) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, ls->path, strlen(ls->path));
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            goto fail;
    } else {
        struct addrinfo hints = {0}, *res;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(ls->host, ls->port, &hints, &res) != 0)
            goto fail;
        fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
            goto fail;
        freeaddrinfo(res);
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

/* lc_send - send the next request of a connection */
static void lc_send(struct lc_conn *c, const char *map)
{
    char buf[1200];
    const char *k = keys[c->next++ % nkeys];
    int n = snprintf(buf, sizeof(buf), "%zu:%s %s,", strlen(map) + 1 + strlen(k), map, k);

    c->sent = lc_now();
    if (write(c->fd, buf, (size_t)n) != n) {
        perror("loadclient: write");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    int conns = 1, idle = 0, secs = 5, ch, ep;
    const char *map = "rcpt";
    struct listen_spec ls;
    struct lc_conn *cs;
    struct rlimit rl;
    char err[256], line[1100];
    uint64_t done = 0, errors = 0, start, end, total = 0;
    size_t cap = 0;
    FILE *fp;

    while ((ch = getopt(argc, argv, "c:i:t:m:")) != -1) {
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
        default:
            return 64;
        }
    }
    if (optind + 2 != argc || conns < 1) {
        fprintf(stderr,
                "usage: loadclient [-c CONNS] [-i IDLE] [-t SECONDS] [-m MAP] ADDRESS KEYFILE\n");
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
        (void)lc_connect(&ls); /* held open, never used */
    ep = epoll_create1(0);
    cs = calloc((size_t)conns, sizeof(*cs));
    for (int i = 0; i < conns; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        cs[i].fd = lc_connect(&ls);
        cs[i].next = (size_t)i * 7919;
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    start = lc_now();
    end = start + (uint64_t)secs * 1000000000u;
    for (int i = 0; i < conns; i++)
        lc_send(&cs[i], map);
    for (;;) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 1000);
        uint64_t now = lc_now();

        if (now >= end)
            break;
        for (int i = 0; i < n; i++) {
            struct lc_conn *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
            char *colon, *comma;

            if (r <= 0) {
                fprintf(stderr, "loadclient: server closed a connection\n");
                return 2;
            }
            c->inlen += (size_t)r;
            /* one reply outstanding: complete when the netstring is */
            if ((colon = memchr(c->in, ':', c->inlen)) == NULL)
                continue;
            {
                size_t len = strtoul(c->in, NULL, 10), hdr = (size_t)(colon - c->in) + 1;
                if (c->inlen < hdr + len + 1)
                    continue;
                comma = c->in + hdr + len;
                if (*comma != ',')
                    errors++;
                if (strncmp(c->in + hdr, "TEMP", 4) == 0 || strncmp(c->in + hdr, "PERM", 4) == 0)
                    errors++;
            }
            {
                uint64_t us = (now - c->sent) / 1000;
                hist[us > LC_HIST_US ? LC_HIST_US : us]++;
                total += now - c->sent;
            }
            done++;
            c->inlen = 0;
            lc_send(c, map);
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
               "errors=%llu\n",
               conns, idle, (unsigned long long)done, (double)done / elapsed,
               (unsigned long long)p50, (unsigned long long)p99,
               done ? (double)total / (double)done / 1000.0 : 0.0, (unsigned long long)errors);
    }
    return 0;
}
