#!/bin/bash
# hostile_sockmap.sh - issue 14, points 3 and 5 on the socketmap side: 10,000 held
# connections from 20 loopback addresses while Postfix's postmap still gets answers (idle
# connections are evicted at max_connections), at most max_per_peer connections from one
# address and from one user on the Unix socket, the Unix socket not world-writable, and a
# pipelining flood of bad keys that leaves the log bounded (log_limited). Before the fix
# lookupd kept 4,096 connections and reset every new client, the socket was mode 0666 and
# every bad key was a log line. Prints TAP.
. "$(dirname "$0")/../data/lookupd/lib.sh"
. "$(dirname "$0")/../data/lookupd/hostile.sh"

STORE=$T/store
require "a store of the sample directory (mkstore)" "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
write_conf a "$STORE"
require "lookupd starts" lookupd_start a
SM=inet:127.0.0.1:$SMPORT_a

check_eq "unix socket: mode 0660, not world-writable" 660 "$(stat -c %a "$T/a.sock")"
if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null; then
    write_conf g "$STORE" "socket_group = nogroup" "socket_mode = 0640"
    if lookupd_start g; then
        check_eq "socket_group = nogroup, socket_mode = 0640: the socket's group and mode" \
            "nogroup 640" "$(stat -c '%G %a' "$T/g.sock")"
        lookupd_stop g
    else
        not_ok "lookupd starts with socket_group and socket_mode"
    fi
else
    ok "# SKIP not root or no group nogroup: socket_group not tried"
fi

# --- 10,000 held connections from 20 addresses (each within max_per_peer) ----------------
flood_t0=$SECONDS
for i in $(seq 2 21); do
    hostile_run "held-$i" -f "127.0.0.$i" 500 "$SM"
done
check_eq "20 clients x 500 connections made" 20 "$(hostile_ready 20 'held-*')"
sleep 1
echo "# connections lookupd holds: $(conns "$SMPORT_a")"
check_eq "postmap -q still answers while 10,000 connections are held" "alice@example.org" \
    "$(timeout 20 postmap -q alice@example.org "socketmap:$SM:rcpt" 2>&1)"
check_eq "  ... and again" "bob@example.org" \
    "$(timeout 20 postmap -q bob@example.org "socketmap:$SM:rcpt" 2>&1)"
check "idle connections were evicted at max_connections, logged" \
    grep -q "closing the connection idle longest" "$T/a.log"
# log_limited lets 10 lines through per 60 s window (and a race one more): thousands of
# evictions must come to at most 10 per window the flood touched, however long it took here
evictlines=$(grep -c "max_connections (4096) reached" "$T/a.log")
evictmax=$((10 * ((SECONDS - flood_t0) / 60 + 2) + 1))
echo "# eviction lines: $evictlines in $((SECONDS - flood_t0)) s (at most $evictmax)"
check "  ... rate limited: at most 10 lines per minute" test "$evictlines" -le "$evictmax"
hostile_stop
lookupd_stop a
check_eq "lookupd stops cleanly" 0 "$?"

# --- max_per_peer (default 1024): one address, one user --------------------------------------
write_conf b "$STORE"
require "lookupd starts" lookupd_start b
hostile_run peer -f 127.0.0.30 1100 "inet:127.0.0.1:$SMPORT_b"
hostile_ready 1 peer >/dev/null
for _ in $(seq 50); do [ "$(conns "$SMPORT_b" 127.0.0.30)" -le 1024 ] && break; sleep 0.1; done
check_eq "1100 connections from one address: 1024 kept (max_per_peer)" 1024 "$(conns "$SMPORT_b" 127.0.0.30)"
check_eq "  ... another address still answered" "alice@example.org" \
    "$(timeout 20 postmap -q alice@example.org "socketmap:inet:127.0.0.1:$SMPORT_b:rcpt" 2>&1)"
check "  ... the refusal names the address" grep -q "127.0.0.30 already has max_per_peer (1024)" "$T/b.log"
hostile_stop
hostile_run upeer 1100 "unix:$T/b.sock"
hostile_ready 1 upeer >/dev/null
for _ in $(seq 50); do grep -qx "closed 76" "$T/upeer.out" && break; sleep 0.1; done
check "1100 connections from one user on the unix socket: 76 closed, 1024 kept (SO_PEERCRED)" \
    grep -qx "closed 76" "$T/upeer.out"
hostile_stop

# --- a pipelining flood of bad keys: answered, the log stays bounded ------------------------
before=$(wc -l <"$T/b.log")
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "8:rcpt a\rb," }' >"$T/flood"
"$RAW" -w -t 20 "inet:127.0.0.1:$SMPORT_b" <"$T/flood" >"$T/flood.out"
check_eq "200,000 bad keys on one connection: each answered" 200000 "$(grep -o 'NOTFOUND' "$T/flood.out" | wc -l)"
after=$(wc -l <"$T/b.log")
check "  ... at most 12 log lines for them (log_limited)" test $((after - before)) -le 12
echo "# log lines written during the flood: $((after - before))"
check_eq "lookupd still answers" "alice@example.org" \
    "$(timeout 20 postmap -q alice@example.org "socketmap:inet:127.0.0.1:$SMPORT_b:rcpt" 2>&1)"
lookupd_stop b
check_eq "lookupd stops cleanly" 0 "$?"
done_testing
