#!/bin/bash
# bench_live - how fast a hub commit reaches an edge (issue 15), real processes on loopback:
# a hub (rcptdir-syncd from an LDIF export of 1000 users, rcptdir-lookupd) and one edge
# (rcptdir-syncd --watch, rcptdir-lookupd). For each of CHANGES commits (one user added), the
# time from the hub's syncd exiting (committed) to the edge's lookupd answering the new
# address as valid over HTTP (polled every 2 ms); p50 and p99, for the long poll
# ([upstream] wait = 30) and for today's interval polling ([sync] interval = 1, wait = 0).
# Then the hub's CPU and memory while WAITERS long polls wait (tests/data/edge/longpoll.py):
# CPU seconds over 10 s (/proc/PID/stat) and VmRSS, against the same idle hub without them.
#
#   CHANGES=200 INTERVAL_CHANGES=40 WAITERS=1000 tests/bench/bench_live.sh [BUILD]
# Prints a markdown table on stdout; progress on stderr.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
CHANGES=${CHANGES:-200}
ICHANGES=${INTERVAL_CHANGES:-40}
WAITERS=${WAITERS:-1000}
work=$(mktemp -d /tmp/rcptdir-bench-live.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n 4096 2>/dev/null || true

free_port() { "$top/scripts/free-port"; }
now_ms() { local t=$EPOCHREALTIME; echo "${t/./}" | cut -c1-13; }
users() {
    local i
    for ((i = 1; i <= $1; i++)); do
        printf 'dn: uid=u%s,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: u%s\ncn: u\nsn: u\nmail: u%s@example.org\n\n' "$i" "$i" "$i"
    done
}
# lookupd NAME STORE - start one on free ports; sets HTTP_NAME, PID_NAME
lookupd() {
    local hp
    hp=$(free_port)
    printf '[store]\npath = %s\n[lookupd]\nuser =\nsocketmap_listen = inet:127.0.0.1:%s\nhttp_listen = 127.0.0.1:%s\n' \
        "$2" "$(free_port)" "$hp" >"$work/$1.conf"
    "$BUILD/rcptdir-lookupd" -c "$work/$1.conf" -d 2>"$work/$1.log" &
    pids+=($!)
    printf -v "PID_$1" '%s' $!
    printf -v "HTTP_$1" '%s' "$hp"
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$hp/v1/status" && return 0; sleep 0.05; done
    return 1
}
commit() { users "$1" >"$work/hub.ldif"; "$BUILD/rcptdir-syncd" -c "$work/hubsync.conf" 2>/dev/null; }
valid() { curl -s "http://127.0.0.1:$1/v1/recipients/$2" | grep -q '"result":"valid"'; }

# run NAME N WAIT INTERVAL - an edge following the hub; one latency in ms per line in NAME.ms
run() {
    local name=$1 n=$2 base i t0 pid
    rm -rf "$work/$name"
    printf '[store]\npath = %s\n[sync]\ninterval = %s\n[lookupd]\nuser =\n[upstream]\nurl = http://127.0.0.1:%s\nwait = %s\nname = %s\n' \
        "$work/$name" "$4" "$HTTP_hub" "$3" "$name" >"$work/$name.sync.conf"
    "$BUILD/rcptdir-syncd" -c "$work/$name.sync.conf" --watch 2>/dev/null &
    pid=$!
    pids+=("$pid")
    until [ -e "$work/$name/data.mdb" ] && lookupd "$name" "$work/$name" 2>/dev/null; do sleep 0.1; done
    local port_var="HTTP_$name"
    base=$users
    until valid "${!port_var}" "u$base@example.org"; do sleep 0.05; done
    : >"$work/$name.ms"
    for ((i = 1; i <= n; i++)); do
        users=$((users + 1))
        commit "$users"
        t0=$(now_ms)
        until valid "${!port_var}" "u$users@example.org"; do sleep 0.002; done
        echo $(($(now_ms) - t0)) >>"$work/$name.ms"
        sleep 0.0$((RANDOM % 10)) # commits at uneven moments
    done
    kill "$pid"
    local lk="PID_$name"
    kill "${!lk}"
    echo "$name: done" >&2
}
pct() { sort -n "$1" | awk -v p="$2" '{v[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; print v[i]}'; }

printf '[store]\npath = %s\n[ldif]\npath = %s\n[lookupd]\nuser =\n' "$work/hub" "$work/hub.ldif" >"$work/hubsync.conf"
users=1000
commit "$users"
lookupd hub "$work/hub"
echo "long poll: $CHANGES commits" >&2
run lp "$CHANGES" 30 300
echo "interval polling (1 s): $ICHANGES commits" >&2
run iv "$ICHANGES" 0 1

# hub CPU and memory with WAITERS long polls waiting
cpu() { awk '{print $14 + $15}' "/proc/$PID_hub/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID_hub/status"; }
c0=$(cpu); sleep 10; c1=$(cpu)
idle_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", (b - a) / 100 / 10 * 100}')
idle_rss=$(rss)
python3 "$top/tests/data/edge/longpoll.py" load 127.0.0.1 "$HTTP_hub" "$WAITERS" "$users" 60 - "$work/load.out" &
pids+=($!)
for _ in $(seq 200); do
    curl -s "http://127.0.0.1:$HTTP_hub/metrics" | awk -v n="$WAITERS" '/^rcptdir_feed_waiting / { exit !($2 >= n) }' && break
    sleep 0.1
done
c0=$(cpu); sleep 10; c1=$(cpu)
wait_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", (b - a) / 100 / 10 * 100}')
wait_rss=$(rss)
t0=$(now_ms)
commit $((users + 1))
until grep -q '^done' "$work/load.out"; do sleep 0.01; done
fan=$(($(now_ms) - t0))

echo "| hub commit -> edge lookupd answers | commits | p50 ms | p99 ms | max ms |"
echo "| --- | --- | --- | --- | --- |"
echo "| long poll (wait = 30) | $CHANGES | $(pct "$work/lp.ms" 50) | $(pct "$work/lp.ms" 99) | $(pct "$work/lp.ms" 100) |"
echo "| interval polling (interval = 1 s) | $ICHANGES | $(pct "$work/iv.ms" 50) | $(pct "$work/iv.ms" 99) | $(pct "$work/iv.ms" 100) |"
echo
echo "| hub (rcptdir-lookupd) | CPU over 10 s | RSS |"
echo "| --- | --- | --- |"
echo "| idle, no waiters | ${idle_cpu} % | $((idle_rss / 1024)) MB |"
echo "| $WAITERS long polls waiting | ${wait_cpu} % | $((wait_rss / 1024)) MB |"
echo
echo "One commit answering all $WAITERS waiters (until the last got its feed): $fan ms."
