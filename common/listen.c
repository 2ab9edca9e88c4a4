/*
 * listen - listener specifications and sockets; see listen.h.
 */
#include "common/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/str.h"

int listen_parse(const char *spec, struct listen_spec *out, char *err, size_t errlen)
{
    const char *hp = spec, *colon;
    char *end;
    long port;

    memset(out, 0, sizeof(*out));
    if (strncmp(spec, "unix:", 5) == 0) {
        const char *path = spec + 5;
        if (path[0] != '/') {
            snprintf(err, errlen, "'%.64s': a unix socket needs an absolute path", spec);
            return -1;
        }
        if (strlen(path) >= LISTEN_PATH_MAX) {
            snprintf(err, errlen, "'%.64s': socket path too long", spec);
            return -1;
        }
        out->is_unix = 1;
        str_copy(out->path, path, sizeof(out->path));
        return 0;
    }
    if (strncmp(spec, "inet:", 5) == 0)
        hp = spec + 5;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (close == NULL || close == hp + 1 || close[1] != ':') {
            snprintf(err, errlen, "'%.64s': expected [IPv6]:PORT", spec);
            return -1;
        }
        if ((size_t)(close - hp - 1) >= LISTEN_HOST_MAX) {
            snprintf(err, errlen, "'%.64s': host too long", spec);
            return -1;
        }
        memcpy(out->host, hp + 1, (size_t)(close - hp - 1));
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (colon == NULL || colon == hp) {
            snprintf(err, errlen, "'%.64s': expected inet:HOST:PORT or unix:/PATH", spec);
            return -1;
        }
        if ((size_t)(colon - hp) >= LISTEN_HOST_MAX || memchr(hp, ':', (size_t)(colon - hp))) {
            snprintf(err, errlen, "'%.64s': bad host (write IPv6 as [addr])", spec);
            return -1;
        }
        memcpy(out->host, hp, (size_t)(colon - hp));
    }
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
        snprintf(err, errlen, "'%.64s': port must be 1..65535", spec);
        return -1;
    }
    snprintf(out->port, sizeof(out->port), "%ld", port);
    return 0;
}

int listen_check(const char *spec, char *err, size_t errlen)
{
    struct listen_spec ls;

    return listen_parse(spec, &ls, err, errlen);
}

void listen_format(const struct listen_spec *ls, char *buf, size_t len)
{
    if (ls->is_unix)
        snprintf(buf, len, "unix:%s", ls->path);
    else if (strchr(ls->host, ':') != NULL)
        snprintf(buf, len, "inet:[%s]:%s", ls->host, ls->port);
    else
        snprintf(buf, len, "inet:%s:%s", ls->host, ls->port);
}

int listen_is_loopback(const struct listen_spec *ls)
{
    if (ls->is_unix)
        return 1;
    return strncmp(ls->host, "127.", 4) == 0 || strcmp(ls->host, "::1") == 0 ||
           strcasecmp(ls->host, "localhost") == 0;
}

/* listen_own_unix - give the socket file its owner without following a link; 0 or -1 */
static int listen_own_unix(const struct listen_spec *ls, char *err, size_t errlen)
{
    struct stat st;
    int pfd = open(ls->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (pfd < 0 || fstat(pfd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "unix:%s: not the socket just bound: %s", ls->path,
                 pfd < 0 ? strerror(errno) : "replaced");
        if (pfd >= 0)
            close(pfd);
        return -1;
    }
    if (ls->owner_set && fchownat(pfd, "", (uid_t)ls->uid, (gid_t)ls->gid, AT_EMPTY_PATH) < 0) {
        snprintf(err, errlen, "unix:%s: chown %ld:%ld: %s", ls->path, ls->uid, ls->gid,
                 strerror(errno));
        close(pfd);
        return -1;
    }
    close(pfd);
    return 0;
}

/* listen_open_unix - replace a stale socket file, bind (with its mode), own, listen */
static int listen_open_unix(const struct listen_spec *ls, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t old;
    int fd, rc;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    str_copy(sun.sun_path, ls->path, sizeof(sun.sun_path));
    if (lstat(ls->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket", ls->path);
            return -1;
        }
        unlink(ls->path);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask(~(ls->mode ? ls->mode : LISTEN_UNIX_MODE) & 0777);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0 || listen(fd, backlog) < 0) {
        snprintf(err, errlen, "bind/listen unix:%s: %s", ls->path, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen_own_unix(ls, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int listen_open(const struct listen_spec *ls, int backlog, char *err, size_t errlen)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, on = 1, rc;

    if (ls->is_unix)
        return listen_open_unix(ls, backlog, err, errlen);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(ls->host[0] ? ls->host : NULL, ls->port, &hints, &res)) != 0) {
        snprintf(err, errlen, "%s:%s: %s", ls->host, ls->port, gai_strerror(rc));
        return -1;
    }
    snprintf(err, errlen, "%s:%s: no usable address", ls->host, ls->port);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        snprintf(err, errlen, "bind %s:%s: %s", ls->host, ls->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}
