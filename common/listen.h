/*
 * listen - parse listener specifications and open listening sockets.
 *
 *   inet:HOST:PORT     TCP; HOST is an IPv4 address, a name, or [IPv6]
 *   unix:/PATH         Unix-domain stream socket (an existing socket file is replaced)
 *   HOST:PORT          same as inet:HOST:PORT
 *
 * listen_is_loopback() says whether a TCP listener is reachable from this host only.
 * listen_parse() only parses; listen_open() binds and returns a non-blocking socket.
 * Errors are returned as text in the caller's buffer.
 */
#ifndef RCPTDIR_LISTEN_H
#define RCPTDIR_LISTEN_H

#include <stddef.h>

#define LISTEN_HOST_MAX 256
#define LISTEN_PATH_MAX 108

#define LISTEN_UNIX_MODE 0660 /* a unix socket's permissions unless mode says otherwise */

struct listen_spec {
    int is_unix;
    char host[LISTEN_HOST_MAX];
    char port[8];
    char path[LISTEN_PATH_MAX];
    /* unix sockets, set by the caller after listen_parse(): */
    unsigned mode; /* permissions (0: LISTEN_UNIX_MODE) */
    int owner_set; /* give the socket to uid:gid (-1 in one of them: leave it) */
    long uid, gid;
};

int listen_parse(const char *spec, struct listen_spec *out, char *err, size_t errlen);

/* listen_check - a cfg_key check: 0 when spec parses */
int listen_check(const char *spec, char *err, size_t errlen);

/*
 * listen_open - bind and listen (backlog); returns the fd or -1 with a message in err.
 * A unix socket is created with its mode (under a umask, so it is never wider for a moment)
 * and given to its owner through a descriptor of the path opened without following a
 * symbolic link (O_PATH | O_NOFOLLOW): a link planted in its place is refused, not followed.
 * Sets the process's umask for a moment: call it before threads start.
 */
int listen_open(const struct listen_spec *ls, int backlog, char *err, size_t errlen);

/* listen_is_loopback - 1 for unix sockets and 127.0.0.0/8, ::1, localhost; else 0 */
int listen_is_loopback(const struct listen_spec *ls);

/* listen_format - "inet:HOST:PORT" or "unix:PATH" into buf */
void listen_format(const struct listen_spec *ls, char *buf, size_t len);

#endif
