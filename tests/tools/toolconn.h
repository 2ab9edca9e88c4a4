/*
 * toolconn - one client connection for the test tools (idleconns, hostile): a unix: or
 * inet: listener spec (common/listen.h), optionally from a given IPv4 source address and
 * with a small receive buffer. Header-only: each tool is one program built from one .c.
 */
#ifndef RCPTDIR_TOOLCONN_H
#define RCPTDIR_TOOLCONN_H

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/listen.h"

/* tool_connect - one connection (from src, an IPv4 address, unless NULL; a receive buffer
 * of rcvbuf bytes unless 0), or -1 */
static inline int tool_connect(const struct listen_spec *ls, const char *src, int rcvbuf)
{
    struct addrinfo hints, *res;
    int fd;

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
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(ls->host, ls->port, &hints, &res) != 0)
        return -1;
    if ((fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol)) < 0) {
        freeaddrinfo(res);
        return -1;
    }
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (src != NULL) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, src, &sin.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
    }
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* tool_nofile - room for n connections and a few more descriptors, as far as allowed */
static inline void tool_nofile(int n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 16 ? rl.rlim_max : (rlim_t)n + 16;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#endif
