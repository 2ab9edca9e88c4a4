#!/bin/bash
# shellcheck disable=SC2154 # SMPORT_w, HTTPPORT_w are set by lookupd_start (tests/lib/lookupd.sh)
# lookupd_workers.sh - with threads = 2, under a light load every new socketmap connection
# lands on worker 0 (lookupd/sockmap.h) and is answered; each worker reports its connections
# and CPU in /metrics. Idle connections from build/tools/idleconns. The other half, worker 1
# joining while worker 0 uses a whole CPU, needs a quiet machine: tests/bench/bench_workers.sh
# (make bench). Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

STORE=$T/store
require "mkstore writes a fresh store" "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
write_conf w "$STORE" "threads = 2"
require "lookupd starts with threads = 2" lookupd_start w
SM=inet:127.0.0.1:$SMPORT_w

# metric NAME WORKER - a per-worker gauge from /metrics
metric() {
    curl -s "http://127.0.0.1:$HTTPPORT_w/metrics" | sed -n "s/^$1{worker=\"$2\"} //p"
}
# conns WORKER - its open socketmap connections
conns() { metric rcptdir_sockmap_worker_connections "$1"; }

check_match "worker 0 reports its CPU share" '^[0-9.]+$' "$(metric rcptdir_sockmap_worker_cpu_ratio 0)"
check_match "worker 1 reports its CPU share" '^[0-9.]+$' "$(metric rcptdir_sockmap_worker_cpu_ratio 1)"
"$IDLE" 20 "$SM" >"$T/light.out" 2>&1 &
PIDS+=("$!")
wait_until 30 file_has "$T/light.out" '^ready'
check_eq "20 idle connections open" "ready 20" "$(grep '^ready' "$T/light.out")"
check_eq "worker 0 holds them all" "20" "$(conns 0)"
check_eq "worker 1 holds none" "0" "$(conns 1)"
check_eq "a lookup on a new connection is answered" "alice@example.org" \
    "$(postmap -q alice@example.org "socketmap:$SM:rcpt")"
check_eq "  ... and one on the Unix socket" "OK alice@example.org" \
    "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "unix:$T/w.sock" | sm_replies | head -1)"
check "lookupd stops on SIGTERM" lookupd_stop w
done_testing
