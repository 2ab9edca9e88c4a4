/*
 * listen - parse listener specifications and open listening sockets.
 *
 *   inet:HOST:PORT     TCP; HOST is an IPv4 address, a name, or [IPv6]
 *   unix:/PATH         Unix-domain stream socket (an existing socket file is replaced)
 *   HOST:PORT          same as inet:HOST:PORT
 *
 * listen_parse() only parses; listen_open() binds and returns a non-blocking socket.
 * Errors are returned as text in the caller's buffer.
 */
#ifndef RCPTDIR_LISTEN_H
#define RCPTDIR_LISTEN_H

#include <stddef.h>

#define LISTEN_HOST_MAX 256
#define LISTEN_PATH_MAX 108

struct listen_spec {
    int is_unix;
    char host[LISTEN_HOST_MAX];
    char port[8];
    char path[LISTEN_PATH_MAX];
};

int listen_parse(const char *spec, struct listen_spec *out, char *err, size_t errlen);

/* listen_check - a cfg_key check: 0 when spec parses */
int listen_check(const char *spec, char *err, size_t errlen);

/* listen_open - bind and listen (backlog); returns the fd or -1 with a message in err */
int listen_open(const struct listen_spec *ls, int backlog, char *err, size_t errlen);

/* listen_format - "inet:HOST:PORT" or "unix:PATH" into buf */
void listen_format(const struct listen_spec *ls, char *buf, size_t len);

#endif
