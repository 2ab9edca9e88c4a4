/*
 * idleconns - hold many idle connections open to a server, for tests and benchmarks.
 *
 *   idleconns N inet:HOST:PORT|unix:PATH
 *
 * Opens N connections, prints "ready K" (K = how many connected) on stdout, then sends
 * nothing and sleeps until killed. Every second it checks them and prints "closed K" when
 * the count closed by the server changes.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/listen.h"

/* idle_connect - one connection, or -1 */
static int idle_connect(const struct listen_spec *ls)
{
    int fd = -1;

    if (ls->is_unix) {
        struct sockaddr_un sa;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, ls->path, strlen(ls->path));
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 &&
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(fd);
            fd = -1;
        }
        return fd;
    } else {
        struct addrinfo hints, *res;

        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(ls->host, ls->port, &hints, &res) != 0)
            return -1;
        if ((fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol)) >= 0 &&
            connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct listen_spec ls;
    struct pollfd *p;
    struct rlimit rl;
    char err[256];
    int n, ok = 0, closed = 0, last = -1;

    if (argc != 3 || (n = atoi(argv[1])) <= 0) {
        fprintf(stderr, "usage: idleconns N ADDRESS\n");
        return 64;
    }
    if (listen_parse(argv[2], &ls, err, sizeof(err)) < 0) {
        fprintf(stderr, "idleconns: %s\n", err);
        return 64;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 16 ? rl.rlim_max : (rlim_t)n + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    p = calloc((size_t)n, sizeof(*p));
    for (int i = 0; i < n; i++) {
        p[i].fd = idle_connect(&ls);
        p[i].events = POLLIN;
        if (p[i].fd >= 0)
            ok++;
    }
    printf("ready %d\n", ok);
    fflush(stdout);
    for (;;) {
        int r = poll(p, (nfds_t)n, 1000);
        if (r < 0 && errno != EINTR)
            return 2;
        for (int i = 0; r > 0 && i < n; i++) {
            if (p[i].fd >= 0 && p[i].revents != 0) {
                char b[256];
                if (read(p[i].fd, b, sizeof(b)) <= 0) {
                    close(p[i].fd);
                    p[i].fd = -1;
                    closed++;
                }
            }
        }
        if (closed != last) {
            printf("closed %d\n", closed);
            fflush(stdout);
            last = closed;
        }
    }
}
