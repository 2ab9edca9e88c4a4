#!/bin/bash
# shellcheck disable=SC2154 # SMPORT_w, HTTPPORT_w, PID_w are set by lookupd_start (tests/lib/lookupd.sh)
# bench_workers.sh BUILD - which socketmap worker takes a new connection (lookupd/sockmap.h):
# under a light load worker 0 takes them all; while it uses a whole CPU, worker 1 takes new
# connections too and answers them; when the load is gone, worker 0 alone again. Seen through
# /metrics (rcptdir_sockmap_worker_connections, rcptdir_sockmap_worker_cpu_ratio), with idle
# connections (build/tools/idleconns) and the load client (build/bench/loadclient) as the load.
# lookupd runs on CPU 0, the load client and this script on CPU 1 (taskset), so the load needs
# more than CPU 0 can give. It needs a quiet machine with 2 CPUs: on a busy one worker 0 may
# never get a whole CPU, which is why this is a benchmark and not in the correctness suite
# (tests/integration/lookupd_workers.sh checks the light-load half there).
# Prints a markdown table on stdout (what the design says, what was seen); progress on stderr.
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
# shellcheck source=tests/lib/rcptdir.sh
. "$TOP/tests/lib/rcptdir.sh" # for $T, lookupd_start, wait_until; its TAP output is unused
LOAD=$BUILD/bench/loadclient
STORE=$T/store
say() { echo "bench_workers: $*" >&2; }

# metric NAME WORKER - a per-worker gauge from /metrics
metric() {
    curl -s "http://127.0.0.1:$HTTPPORT_w/metrics" | sed -n "s/^$1{worker=\"$2\"} //p"
}
# conns WORKER - its open socketmap connections
conns() { metric rcptdir_sockmap_worker_connections "$1"; }
# busy - worker 0 used at least SOCKMAP_SATURATED (75 %) of a CPU over the last second
busy() { awk -v r="$(metric rcptdir_sockmap_worker_cpu_ratio 0)" 'BEGIN { exit !(r >= 0.75) }'; }
nobusy() { ! busy; }
# idle N NAME - hold N idle connections open in the background ($T/NAME.out says "ready N")
idle() {
    "$IDLE" "$1" "$SM" >"$T/$2.out" 2>&1 &
    PIDS+=("$!")
    wait_until 10 file_has "$T/$2.out" '^ready'
}
# row WHAT WANT GOT - one line of the table
row() {
    local seen=no
    [ "$2" = "$3" ] && seen=yes
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$seen"
}

[ -x "$LOAD" ] || { say "no $LOAD: make bench builds it"; exit 1; }
[ "$(nproc)" -ge 2 ] || { say "needs 2 CPUs, this machine has $(nproc)"; exit 0; }
cut -f1 "$TOP/schema/ldap/sample.expected" | grep -v '^#' | grep '@' >"$T/keys"
"$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected" || exit 1
write_conf w "$STORE" "threads = 2"
lookupd_start w || exit 1
SM=inet:127.0.0.1:$SMPORT_w

echo "| step | design | seen | as designed |"
echo "| --- | --- | --- | --- |"
say "light load"
idle 20 light
row "20 idle connections: worker 0 / worker 1" "20 / 0" "$(conns 0) / $(conns 1)"

say "worker 0 saturated"
all_cpus=$(taskset -p $$ | sed 's/.*: //')
taskset -a -p -c 0 "$PID_w" >/dev/null
taskset -p -c 1 $$ >/dev/null
"$LOAD" -t 12 -c 16 "$SM" "$T/keys" >"$T/load.out" 2>&1 &
loadpid=$!
PIDS+=("$loadpid")
if wait_until 8 busy; then saturated=yes; else saturated=no; fi
row "16 busy connections: worker 0 uses >= 75 % of a CPU" yes "$saturated"
# new connections go to worker 1 as well once it has seen that (it looks once a second)
n=0
joined() {
    n=$((n + 1))
    idle 2 "join$n"
    [ "$(conns 1)" -gt 0 ] 2>/dev/null
}
if wait_until 5 joined; then took=yes; else took=no; fi
row "new connections while worker 0 is saturated: worker 1 takes some" yes "$took"
"$LOAD" -t 1 -c 4 "$SM" "$T/keys" >"$T/load2.out" 2>&1
row "lookups on those connections: errors" 0 "$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' "$T/load2.out")"
wait "$loadpid"
row "lookups of the first 16 connections: errors" 0 "$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' "$T/load.out")"
taskset -p "$all_cpus" $$ >/dev/null

say "load gone"
if wait_until 10 nobusy; then quiet=yes; else quiet=no; fi
row "load gone: worker 0 under 75 % again" yes "$quiet"
# worker 1 looks once a second, and sees worker 0's figure of the last second: wait until it
# has looked at least twice since
sleep 2.5
w0=$(conns 0) w1=$(conns 1)
idle 10 after
row "10 more idle connections: worker 0 / worker 1 take" "10 / 0" \
    "$(($(conns 0) - w0)) / $(($(conns 1) - w1))"
lookupd_stop w
