/*
 * baseline_sockmap - the simplest socketmap server over an LMDB map, as a benchmark
 * baseline: one thread, epoll, non-blocking, one exact mdb_get per request on the store's
 * "addr" database (no normalization, no delimiter, no catch-all, no staleness).
 *
 *   baseline_sockmap inet:HOST:PORT STORE_DIR
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listen.h"
#include "common/netstring.h"
#include "schema/store.h"

struct bl_conn {
    int fd;
    char in[2048];
    size_t inlen;
};

int main(int argc, char **argv)
{
    struct listen_spec ls;
    struct store *st;
    MDB_txn *txn;
    char err[256];
    int lfd, ep, rc;
    struct epoll_event ev = {.events = EPOLLIN};

    if (argc != 3 || listen_parse(argv[1], &ls, err, sizeof(err)) < 0) {
        fprintf(stderr, "usage: baseline_sockmap inet:HOST:PORT STORE_DIR\n");
        return 64;
    }
    if ((rc = store_open(&st, argv[2], STORE_RDONLY, 0)) != 0) {
        fprintf(stderr, "baseline_sockmap: %s\n", store_strerror(rc));
        return 1;
    }
    if ((lfd = listen_open(&ls, 1024, err, sizeof(err))) < 0) {
        fprintf(stderr, "baseline_sockmap: %s\n", err);
        return 1;
    }
    mdb_txn_begin(store_env(st), NULL, MDB_RDONLY, &txn);
    mdb_txn_reset(txn);
    ep = epoll_create1(0);
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct epoll_event evs[128];
        int n = epoll_wait(ep, evs, 128, -1);

        for (int i = 0; i < n; i++) {
            struct bl_conn *c = evs[i].data.ptr;
            const char *payload;
            size_t plen, used, pos = 0;
            char out[4096];
            size_t outlen = 0;
            ssize_t r;

            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (fd >= 0) {
                    c = calloc(1, sizeof(*c));
                    c->fd = fd;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                close(c->fd);
                free(c);
                continue;
            }
            c->inlen += (size_t)r;
            while (ns_decode(c->in + pos, c->inlen - pos, 1000, &payload, &plen, &used) == NS_OK) {
                const char *sp = memchr(payload, ' ', plen);
                MDB_val k, v;
                struct rcpt rec;
                char text[600];
                int tl;

                pos += used;
                if (sp == NULL)
                    continue;
                k.mv_data = (void *)(uintptr_t)(sp + 1);
                k.mv_size = plen - (size_t)(sp + 1 - payload);
                mdb_txn_renew(txn);
                if (mdb_get(txn, store_dbi(st, STORE_ADDR), &k, &v) == 0 &&
                    rcpt_decode(&rec, v.mv_data, v.mv_size) == 0)
                    tl = snprintf(text, sizeof(text), "OK %.*s", (int)rec.primary_len, rec.primary);
                else
                    tl = snprintf(text, sizeof(text), "NOTFOUND ");
                mdb_txn_reset(txn);
                outlen += ns_encode(out + outlen, sizeof(out) - outlen, text, (size_t)tl);
            }
            memmove(c->in, c->in + pos, c->inlen - pos);
            c->inlen -= pos;
            if (outlen > 0 && write(c->fd, out, outlen) < 0) {
                close(c->fd);
                free(c);
            }
        }
    }
}
