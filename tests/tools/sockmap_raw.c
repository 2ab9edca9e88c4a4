/*
 * sockmap_raw - send raw bytes to a socketmap server and show what comes back, for tests
 * that need malformed requests (Postfix's own client only sends well-formed ones).
 *
 *   sockmap_raw [-b] [-w] [-t SECONDS] inet:HOST:PORT|unix:PATH < BYTES
 *
 * Sends stdin (-b: one byte at a time, 2 ms apart, so a request is split over many
 * reads), half-closes after it (-w), then prints every byte received until the server
 * closes (then "\n[closed]\n") or SECONDS (default 5) pass without it ("\n[open]\n").
 * Exit 0, or 2 on a connection error.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/listen.h"

/* raw_connect - connect to a listener spec, or -1 */
int raw_connect(const char *spec);
int raw_connect(const char *spec)
{
    struct listen_spec ls;
    char err[256];
    int fd = -1;

    if (listen_parse(spec, &ls, err, sizeof(err)) < 0) {
        fprintf(stderr, "sockmap_raw: %s\n", err);
        exit(64);
    }
    if (ls.is_unix) {
        struct sockaddr_un sa;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, ls.path, strlen(ls.path));
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return -1;
        return fd;
    }
    {
        struct addrinfo hints, *res, *ai;

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(ls.host, ls.port, &hints, &res) != 0)
            return -1;
        for (ai = res; ai != NULL; ai = ai->ai_next) {
            if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
                continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                break;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
    }
    return fd;
}

int main(int argc, char **argv)
{
    int bytewise = 0, halfclose = 0, timeout = 5, ch, fd;
    char buf[65536];
    size_t n;
    ssize_t r;

    while ((ch = getopt(argc, argv, "bwt:")) != -1) {
        switch (ch) {
        case 'b':
            bytewise = 1;
            break;
        case 'w':
            halfclose = 1;
            break;
        case 't':
            timeout = atoi(optarg);
            break;
        default:
            return 64;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: sockmap_raw [-b] [-w] [-t SECONDS] ADDRESS < BYTES\n");
        return 64;
    }
    if ((fd = raw_connect(argv[optind])) < 0) {
        fprintf(stderr, "sockmap_raw: %s: %s\n", argv[optind], strerror(errno));
        return 2;
    }
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        for (size_t off = 0; off < n;) {
            size_t chunk = bytewise ? 1 : n - off;
            r = send(fd, buf + off, chunk, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                /* the server may close early (a PERM); go on to read its answer */
                goto sent;
            }
            off += (size_t)r;
            if (bytewise) {
                struct timespec ts = {0, 2000000};
                nanosleep(&ts, NULL);
            }
        }
    }
sent:
    if (halfclose)
        shutdown(fd, SHUT_WR);
    {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
            struct pollfd p = {fd, POLLIN, 0};
            long left;

            clock_gettime(CLOCK_MONOTONIC, &now);
            left = timeout * 1000L -
                   ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L);
            if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                printf("\n[open]\n");
                break;
            }
            r = read(fd, buf, sizeof(buf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                printf("\n[closed]\n");
                break;
            }
            fwrite(buf, 1, (size_t)r, stdout);
            fflush(stdout);
        }
    }
    close(fd);
    return 0;
}
