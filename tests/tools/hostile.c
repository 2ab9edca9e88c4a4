/*
 * hostile - a client that misbehaves on purpose, for tests/integration/hostile*.sh.
 *
 *   hostile [-f SRC] [-s TEXT] [-d SECONDS] [-r BYTES] [-t BYTES] N inet:HOST:PORT|unix:PATH
 *
 * Opens N connections (from source address SRC with -f, e.g. 127.0.0.2, so one machine can
 * be several clients on loopback), sends TEXT on each (-s; \r and \n are unescaped), then
 * never reads: with -r the receive buffer is made BYTES small first, so a streamed answer
 * stalls at once. With -d it drips one more byte of a header line ("X: ") on each
 * connection every SECONDS (slowloris). With -t it reads BYTES a second from each (a
 * trickle: the connection is never idle, the answer never ends). Prints "ready K" (K
 * connected), then "closed K"
 * whenever the number closed by the server changes, until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/listen.h"
#include "tests/tools/toolconn.h"

/* hostile_unescape - \r and \n in place */
static size_t hostile_unescape(char *s)
{
    size_t n = 0;

    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\\' && s[i + 1] == 'r') {
            s[n++] = '\r';
            i++;
        } else if (s[i] == '\\' && s[i + 1] == 'n') {
            s[n++] = '\n';
            i++;
        } else {
            s[n++] = s[i];
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *src = NULL, drip[] = "X-Slow: ";
    char *text = NULL, err[256];
    size_t textlen = 0, dripped = 0, share;
    int n, ch, rcvbuf = 0, trickle = 0, ok = 0, closed = 0, last = -1;
    long drip_s = 0;
    struct listen_spec ls;
    struct pollfd *p;
    time_t next;

    while ((ch = getopt(argc, argv, "f:s:d:r:t:")) != -1) {
        switch (ch) {
        case 'f':
            src = optarg;
            break;
        case 's':
            text = optarg;
            textlen = hostile_unescape(text);
            break;
        case 'd':
            drip_s = atol(optarg);
            break;
        case 'r':
            rcvbuf = atoi(optarg);
            break;
        case 't':
            trickle = atoi(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: hostile [-f SRC] [-s TEXT] [-d S] [-r BYTES] [-t BYTES] N ADDRESS\n");
            return 64;
        }
    }
    if (argc - optind != 2 || (n = atoi(argv[optind])) <= 0) {
        fprintf(stderr,
                "usage: hostile [-f SRC] [-s TEXT] [-d S] [-r BYTES] [-t BYTES] N ADDRESS\n");
        return 64;
    }
    if (listen_parse(argv[optind + 1], &ls, err, sizeof(err)) < 0) {
        fprintf(stderr, "hostile: %s\n", err);
        return 64;
    }
    tool_nofile(n);
    p = calloc((size_t)n, sizeof(*p));
    for (int i = 0; i < n; i++) {
        p[i].fd = tool_connect(&ls, src, rcvbuf);
        p[i].events = 0; /* never read: only errors and hang-ups are reported */
        if (p[i].fd >= 0) {
            ok++;
            if (textlen > 0 && send(p[i].fd, text, textlen, MSG_NOSIGNAL) < 0) {
                close(p[i].fd);
                p[i].fd = -1;
                ok--;
            }
        }
    }
    printf("ready %d\n", ok);
    fflush(stdout);
    share = trickle / 2 > 0 ? (size_t)trickle / 2 : 1;
    if (share > 4096)
        share = 4096;
    next = time(NULL) + drip_s;
    for (;;) {
        int r = poll(p, (nfds_t)n, 500);
        if (r < 0 && errno != EINTR)
            return 2;
        for (int i = 0; i < n; i++) {
            char b[4096];
            ssize_t got;
            if (p[i].fd < 0)
                continue;
            /* closed by the server: a peek finds the end (or an error) without reading data;
             * a trickle reads its share of the second (two loops a second) */
            if (trickle > 0)
                got = recv(p[i].fd, b, share, MSG_DONTWAIT);
            else
                got = recv(p[i].fd, b, 1, MSG_PEEK | MSG_DONTWAIT);
            if (got == 0 ||
                (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close(p[i].fd);
                p[i].fd = -1;
                closed++;
            }
        }
        if (drip_s > 0 && time(NULL) >= next) {
            share = trickle / 2 > 0 ? (size_t)trickle / 2 : 1;
            if (share > 4096)
                share = 4096;
            next = time(NULL) + drip_s;
            for (int i = 0; i < n; i++)
                if (p[i].fd >= 0)
                    send(p[i].fd, &drip[dripped % (sizeof(drip) - 1)], 1, MSG_NOSIGNAL);
            dripped++;
        }
        if (closed != last) {
            printf("closed %d\n", closed);
            fflush(stdout);
            last = closed;
        }
    }
}
