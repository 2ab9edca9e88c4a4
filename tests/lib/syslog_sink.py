# syslog_sink.py SOCKET OUT - a syslog daemon for tests (tests/lib/syslog.sh): binds a
# datagram socket at SOCKET, mode 666 (as /dev/log is: a daemon logs after dropping its
# privileges), then creates OUT and appends every message to it as one line. Runs until
# killed.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(sock.recv(65536).rstrip(b"\n") + b"\n")
