#!/usr/bin/env python3
"""fakehub - a misbehaving upstream for tests/integration/edge_feed.sh.

    fakehub.py PORTFILE LOG [--changes STATUS[:FILE]] [--snapshot STATUS[:FILE]]
               [--drip SECONDS] [--tls CERT:KEY] [--blackhole yes]

Listens on a free loopback port (written to PORTFILE once listening) and answers
GET /v1/changes?... and GET /v1/snapshot with the given status and the bytes of FILE (or a
JSON error without a file; a 3xx names another place in Location). --drip sends the body
one byte per SECONDS. --tls serves HTTPS with that certificate chain and key. --blackhole
listens but never accepts, its queue full, so a connect hangs until the client gives up
(a hub that does not answer SYNs). Every request
line is appended to LOG, so a test can tell which routes an edge used. Stops on SIGTERM.
"""
import http.server
import os
import select
import socket
import ssl
import sys
import time


def parse(argv):
    opts = {"changes": (404, None), "snapshot": (404, None), "drip": 0.0, "tls": None,
            "blackhole": False}
    i = 0
    while i < len(argv):
        name, val = argv[i].lstrip("-"), argv[i + 1]
        if name == "drip":
            opts["drip"] = float(val)
        elif name == "tls":
            opts["tls"] = val.split(":", 1)
        elif name == "blackhole":
            opts["blackhole"] = val == "yes"
        else:
            status, _, path = val.partition(":")
            opts[name] = (int(status), path or None)
        i += 2
    return opts


def write_port(portfile, port):
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)


def blackhole(portfile):
    """listen with a full accept queue: the kernel drops further SYNs, connects hang"""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(srv.getsockname())
        except BlockingIOError:
            pass
        fill.append(c)
    # the queue is full once the handshake that fits (backlog 0: one) has completed
    select.select([], fill, [], 10)
    write_port(portfile, srv.getsockname()[1])
    while True:
        time.sleep(60)


def main():
    portfile, log = sys.argv[1], sys.argv[2]
    opts = parse(sys.argv[3:])
    if opts["blackhole"]:
        blackhole(portfile)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            with open(log, "a") as f:
                f.write(self.path + "\n")
            route = "changes" if self.path.startswith("/v1/changes") else "snapshot"
            if not self.path.startswith(("/v1/changes", "/v1/snapshot")):
                route = None
            status, path = opts[route] if route else (404, None)
            if path:
                with open(path, "rb") as f:
                    body = f.read()
                ctype = "application/octet-stream"
            else:
                body = b'{"error": "fakehub: status %d"}' % status
                ctype = "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
            try:
                if opts["drip"] > 0:
                    for b in body:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(opts["drip"])
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # clients that hang up early are what the tests are about

    srv = Server(("127.0.0.1", 0), Handler)
    if opts["tls"]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts["tls"][0], opts["tls"][1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    write_port(portfile, srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
