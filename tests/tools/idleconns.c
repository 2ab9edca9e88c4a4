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
#include "tests/tools/toolconn.h"

int main(int argc, char **argv)
{
    struct listen_spec ls;
    struct pollfd *p;
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
    tool_nofile(n);
    p = calloc((size_t)n, sizeof(*p));
    for (int i = 0; i < n; i++) {
        p[i].fd = tool_connect(&ls, NULL, 0);
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
