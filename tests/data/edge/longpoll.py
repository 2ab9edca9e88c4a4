#!/usr/bin/env python3
"""longpoll - helpers for tests/integration/edge_live.sh.

    longpoll.py load HOST PORT N SINCE WAIT TOKENFILE OUT
        opens N long polls GET /v1/changes?since=SINCE&wait=WAIT at once, from source addresses
        127.0.0.2, 127.0.0.3, ... (15 connections each: the hub allows 16 per address), and
        keeps them open; writes "open N" to OUT once every request is sent, then one line per
        answer as it comes ("STATUS BYTES"), and "done" when all have answered or closed.
    longpoll.py proxy PORTFILE TARGETPORT CUTS SECONDS LOG
        a TCP proxy on a free loopback port (written to PORTFILE) to 127.0.0.1:TARGETPORT that
        closes each of its first CUTS connections SECONDS after it opened (a middlebox that
        cuts held connections), and passes the others through. One line per connection in LOG.
"""
import os
import select
import socket
import sys
import time


def load(host, port, n, since, wait, tokenfile, out):
    token = open(tokenfile).read().strip() if tokenfile != "-" else ""
    req = ("GET /v1/changes?since=%s&wait=%s HTTP/1.1\r\nHost: %s\r\n"
           "Rcptdir-Edge: load-%%d\r\n%sConnection: close\r\n\r\n"
           % (since, wait, host, "Authorization: Bearer %s\r\n" % token if token else ""))
    socks = {}
    for i in range(n):
        s = socket.socket()
        s.bind(("127.0.0.%d" % (2 + i // 15), 0))
        s.connect((host, port))
        s.sendall((req % (i // 15)).encode())
        socks[s.fileno()] = [s, b""]
    with open(out, "w") as f:
        f.write("open %d\n" % n)
        f.flush()
        poll = select.poll()
        for fd in socks:
            poll.register(fd, select.POLLIN)
        while socks:
            for fd, _ in poll.poll(1000):
                s, buf = socks[fd]
                data = s.recv(65536)
                if data:
                    socks[fd][1] = buf + data
                    continue
                poll.unregister(fd)
                s.close()
                del socks[fd]
                head, _, body = buf.partition(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/") else "cut"
                f.write("%s %d %s\n" % (status, len(body), body[:8].decode("latin-1")))
                f.flush()
        f.write("done\n")


def proxy(portfile, target, cuts, seconds, log):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    pairs = {}  # fd -> (peer socket, cut deadline or None, partner fd)
    conns = 0
    logf = open(log, "a")
    while True:
        rl = [ls] + [p[0] for p in pairs.values()]
        r, _, _ = select.select(rl, [], [], 0.1)
        now = time.monotonic()
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                u = socket.create_connection(("127.0.0.1", target))
                conns += 1
                cut = now + seconds if conns <= cuts else None
                pairs[c.fileno()] = (c, cut, u.fileno())
                pairs[u.fileno()] = (u, cut, c.fileno())
                logf.write("conn %d %s\n" % (conns, "cut" if cut else "pass"))
                logf.flush()
                continue
            if s.fileno() not in pairs:
                continue
            other = pairs[pairs[s.fileno()][2]][0]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    other.sendall(data)
                    continue
                except OSError:
                    pass
            for x in (s, other):
                pairs.pop(x.fileno(), None)
                x.close()
        for fd, (s, cut, _) in list(pairs.items()):
            if cut is not None and now >= cut and fd in pairs:
                other = pairs[pairs[fd][2]][0]
                for x in (s, other):
                    pairs.pop(x.fileno(), None)
                    x.close()
                logf.write("cut\n")
                logf.flush()


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "load":
        load(a[2], int(a[3]), int(a[4]), a[5], a[6], a[7], a[8])
    elif a[1] == "proxy":
        proxy(a[2], int(a[3]), int(a[4]), float(a[5]), a[6])
