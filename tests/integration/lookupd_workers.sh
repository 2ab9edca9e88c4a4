#!/bin/bash
# lookupd_workers.sh - which socketmap worker takes a new connection (lookupd/sockmap.h):
# under a light load worker 0 takes them all; while it uses a whole CPU, worker 1 takes new
# connections too and answers them; when the load is gone, worker 0 alone again. Seen through
# /metrics (rcptdir_sockmap_worker_connections, rcptdir_sockmap_worker_cpu_ratio), with
# idle connections (build/tools/idleconns) and the benchmark's load client as the load.
# Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

LOAD=$BUILD/bench/loadclient
STORE=$T/store
cut -f1 "$TOP/schema/ldap/sample.expected" | grep -v '^#' | grep '@' >"$T/keys"
require "the load client is built ($LOAD)" test -x "$LOAD"
require "mkstore writes a fresh store" "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
write_conf w "$STORE" "threads = 2"
require "lookupd starts with threads = 2" lookupd_start w
SM=inet:127.0.0.1:$SMPORT_w

# metric NAME WORKER - a per-worker gauge from /metrics
metric() {
    curl -s "http://127.0.0.1:$HTTPPORT_w/metrics" |
        sed -n "s/^$1{worker=\"$2\"} //p"
}
# conns WORKER - its open socketmap connections
conns() { metric rcptdir_sockmap_worker_connections "$1"; }
# busy - worker 0 used at least SOCKMAP_SATURATED (75 %) of a CPU over the last second
busy() { awk -v r="$(metric rcptdir_sockmap_worker_cpu_ratio 0)" 'BEGIN { exit !(r >= 0.75) }'; }
# wait_for SECONDS CMD... - poll CMD every half second
wait_for() {
    local tries=$(($1 * 2))
    shift
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.5
    done
    return 1
}
# idle N NAME - hold N idle connections open in the background ($T/NAME.out says "ready N")
idle() {
    "$IDLE" "$1" "$SM" >"$T/$2.out" 2>&1 &
    PIDS+=("$!")
    wait_for 10 grep -q "^ready" "$T/$2.out"
}

# --- a light load: every connection on worker 0 -------------------------------------------
idle 20 light
check_eq "20 idle connections open" "ready 20" "$(grep '^ready' "$T/light.out")"
check_eq "worker 0 holds them all" "20" "$(conns 0)"
check_eq "worker 1 holds none" "0" "$(conns 1)"
check_eq "a lookup is answered" "alice@example.org" "$(postmap -q alice@example.org "socketmap:$SM:rcpt")"

# --- worker 0 saturated: worker 1 joins ---------------------------------------------------
# lookupd runs on CPU 0; the load client, and this script with its curl and awk, on CPU 1.
# So the load needs more than CPU 0 can give, nothing else takes CPU 0 from worker 0, and
# the scheduler cannot put the client and worker 0 on one CPU, where each would get half.
if [ "$(nproc)" -lt 2 ]; then
    ok "# SKIP saturation needs 2 CPUs, this machine has $(nproc)"
else
    all_cpus=$(taskset -p $$ | sed 's/.*: //')
    taskset -a -p -c 0 "$PID_w" >/dev/null
    taskset -p -c 1 $$ >/dev/null
    "$LOAD" -t 12 -c 16 "$SM" "$T/keys" >"$T/load.out" 2>&1 &
    loadpid=$!
    PIDS+=("$loadpid")
    check "worker 0 uses a whole CPU under the load" wait_for 8 busy
    # new connections go to worker 1 as well once it has seen that (it looks once a second)
    n=0
    joined() {
        n=$((n + 1))
        idle 2 "join$n"
        [ "$(conns 1)" -gt 0 ] 2>/dev/null
    }
    check "worker 1 takes new connections while worker 0 is saturated" wait_for 5 joined
    "$LOAD" -t 1 -c 4 "$SM" "$T/keys" >"$T/load2.out" 2>&1
    check "  ... and lookups on new connections are answered without an error" \
        grep -q ' errors=0 ' "$T/load2.out"
    wait "$loadpid"
    check "  ... as are those of the first connections" grep -q ' errors=0 ' "$T/load.out"
    taskset -p "$all_cpus" $$ >/dev/null
fi

# --- the load gone: worker 0 alone takes new connections again ----------------------------
nobusy() { ! busy; }
check "worker 0 is idle again" wait_for 10 nobusy
sleep 2.5 # worker 1 looks once a second, and sees worker 0's figure of the last second
w0=$(conns 0) w1=$(conns 1)
idle 10 after
check_eq "10 more idle connections open" "ready 10" "$(grep '^ready' "$T/after.out")"
check_eq "worker 0 took them" "$((w0 + 10))" "$(conns 0)"
check_eq "worker 1 took none" "$w1" "$(conns 1)"

check "lookupd stops on SIGTERM" lookupd_stop w
done_testing
