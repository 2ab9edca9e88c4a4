# policy_client.py - talk the Postfix policy delegation protocol to rcptdir-lookupd, as
# tests/integration/mta_policy.sh needs it. PORT is a TCP port on 127.0.0.1, or the path of a
# Unix socket. Requests are shaped like Postfix 3.7's at RCPT
# time (about 30 attributes). Prints one line per answer.
#
#   policy_client.py PORT ask CLIENT RCPT...     one connection; prints each action
#   policy_client.py PORT spray FORMAT N RCPT    N requests from clients FORMAT % i (i = 1..N, FORMAT
#                                                holds a %x) on one connection; prints how many
#                                                answers of each kind
#   policy_client.py PORT bad KIND               a malformed request (noempty, big, many, binary);
#                                                prints the reply, then "closed" or "open"
#   policy_client.py PORT state STATE RCPT       one request at another protocol_state
#   policy_client.py PORT conns N                N connections at once, then a request on each;
#                                                prints how many were answered and how many closed
import socket
import sys

TIMEOUT = 20


def request(client, rcpt, state="RCPT"):
    attrs = [
        ("request", "smtpd_access_policy"), ("protocol_state", state),
        ("protocol_name", "ESMTP"), ("helo_name", "client.rcptdir.test"), ("queue_id", ""),
        ("sender", "sender@foreign.test"), ("recipient", rcpt), ("recipient_count", "0"),
        ("client_address", client), ("client_name", "unknown"),
        ("reverse_client_name", "unknown"), ("instance", "1a2b.5f00c0de.1.0"),
        ("sasl_method", ""), ("sasl_username", ""), ("sasl_sender", ""), ("size", "0"),
        ("ccert_subject", ""), ("ccert_issuer", ""), ("ccert_fingerprint", ""),
        ("encryption_protocol", ""), ("encryption_cipher", ""), ("encryption_keysize", "0"),
        ("etrn_domain", ""), ("stress", ""), ("client_port", "40000"),
        ("server_address", "127.0.0.1"), ("server_port", "25"),
        ("compatibility_level", "3.6"), ("mail_version", "3.7.11"),
    ]
    return "".join("%s=%s\n" % a for a in attrs).encode() + b"\n"


def connect(port):
    if isinstance(port, str):  # a Unix socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(port)
        return s
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def reply(s):
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def closed(s):
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def main():
    port, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    port = port if port.startswith("/") else int(port)
    s = connect(port)
    if cmd == "ask":
        for rcpt in args[1:]:
            s.sendall(request(args[0], rcpt))
            print(reply(s))
    elif cmd == "conns":
        socks = [s] + [connect(port) for _ in range(int(args[0]) - 1)]
        answered = closed_n = 0
        for c in socks:
            try:
                c.sendall(request("192.0.2.1", "alice@example.org"))
                r = reply(c)
            except OSError:
                r = ""
            if r.startswith("action="):
                answered += 1
            else:
                closed_n += 1
        print("answered=%d closed=%d" % (answered, closed_n))
        for c in socks[1:]:
            c.close()
    elif cmd == "state":
        s.sendall(request("192.0.2.1", args[1], state=args[0]))
        print(reply(s))
    elif cmd == "spray":
        kinds = {}
        for i in range(int(args[1])):
            s.sendall(request(args[0] % (i + 1), args[2]))
            r = reply(s)
            k = r.split(" ")[0]
            kinds[k] = kinds.get(k, 0) + 1
        print(" ".join("%s=%d" % kv for kv in sorted(kinds.items())))
    elif cmd == "bad":
        kind = args[0]
        if kind == "noempty":  # attributes, then the client half-closes: no empty line
            s.sendall(request("192.0.2.1", "alice@example.org")[:-1])
            s.shutdown(socket.SHUT_WR)
        elif kind == "big":  # a 100 kB attribute
            s.sendall(b"request=smtpd_access_policy\nccert_subject=" + b"x" * 102400 + b"\n\n")
        elif kind == "many":  # 10,000 attributes
            s.sendall(b"request=smtpd_access_policy\n" + b"x=1\n" * 10000 + b"\n")
        elif kind == "binary":
            s.sendall(b"\x00\x01\x02\xff\xfe binary \x80\n\n")
        print(reply(s))
        print("closed" if closed(s) else "open")
    s.close()


if __name__ == "__main__":
    main()
