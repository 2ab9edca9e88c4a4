#!/bin/bash
# bench_policy.sh BUILD - the policy service against the socketmap in one run: requests/s and
# latency of rcptdir-lookupd's policy listener (loadclient -P: Postfix-shaped requests of 22
# attributes at RCPT time, every unknown counted by the harvest defence, never penalised) and
# of its socketmap access map (the same lookup, the answer Postfix's check_recipient_access
# gets), 1 and 16 active connections, each with one request at a time like Postfix's smtpd
# processes. Pairs (socketmap, then policy) are repeated BENCH_PAIRS times (3); the table
# shows each figure's median and the ratio of the medians. Then the memory of the harvest
# table: lookupd's resident size before and after BENCH_SPRAY (20000) clients of their own
# /64 sent one unknown each; and each server's user-space instructions per request under
# callgrind (valgrind), which the machine's load does not change.
# The store: BENCH_ADDRS (200000) generated addresses written by mkstore; keys: 90 % of them
# valid, 10 % unknown. BENCH_SECONDS per figure (5). Prints markdown on stdout, progress on
# stderr.
# shellcheck disable=SC2154 # lib.sh's lookupd_start sets SMPORT_bench, HTTPPORT_bench, PID_bench
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
# shellcheck disable=SC1091
. "$TOP/tests/data/lookupd/lib.sh" # for $T, ports and lookupd_start; its TAP helpers are unused
SECS=${BENCH_SECONDS:-5}
PAIRS=${BENCH_PAIRS:-3}
NADDR=${BENCH_ADDRS:-200000}
SPRAY=${BENCH_SPRAY:-20000}
say() { echo "bench_policy: $*" >&2; }
die() {
    say "$*"
    exit 1
}

say "a store of $NADDR addresses"
awk -v n="$NADDR" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@example.org\tuser\tactive\tuser%d@example.org\n", i, i }' \
    >"$T/addrs"
"$MKSTORE" "$T/store" "$T/addrs" || die "mkstore failed"
awk -v n="$NADDR" 'BEGIN { srand(1); for (i = 0; i < 20000; i++)
        if (rand() < 0.1) printf "nosuch%d@example.org\n", i; else printf "user%d@example.org\n", int(rand() * n) }' \
    >"$T/keys"
pport=$(free_port)
write_conf bench "$T/store" "policy_listen = inet:127.0.0.1:$pport" \
    "harvest_threshold = 1000000" "harvest_prefix_threshold = 1000000" "harvest_exempt ="
lookupd_start bench || exit 1
SM=inet:127.0.0.1:$SMPORT_bench
POL=inet:127.0.0.1:$pport

# field NAME TEXT - the value of NAME=... in TEXT
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }
# median - of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# cpu_ticks - utime+stime of lookupd so far, in clock ticks
cpu_ticks() {
    local s
    s=$(cat "/proc/$PID_bench/stat")
    s=${s##*) } # after "pid (comm) ": field 12 is utime, 13 stime
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
HZ=$(getconf CLK_TCK)
# run NAME CONNS ARGS... - one figure; appends rate, p50, p99 and lookupd's CPU µs per
# request to $T/NAME-CONNS
run() {
    local name=$1 c=$2 out t0 t1
    shift 2
    sleep 1
    t0=$(cpu_ticks)
    out=$("$BUILD/bench/loadclient" -t "$SECS" -c "$c" "$@" "$T/keys") || die "loadclient $*"
    t1=$(cpu_ticks)
    [ "$(field errors "$out")" = 0 ] || die "errors: $out"
    echo "$(field rate "$out") $(field p50_us "$out") $(field p99_us "$out")" \
        "$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field lookups "$out")" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')" \
        >>"$T/$name-$c"
}

say "warming up"
"$BUILD/bench/loadclient" -t 1 -c 16 -m access "$SM" "$T/keys" >/dev/null || die "warm-up"
"$BUILD/bench/loadclient" -t 1 -c 16 -P "$POL" "$T/keys" >/dev/null || die "warm-up"
for p in $(seq "$PAIRS"); do
    for c in 1 16; do
        say "pair $p, $c active"
        run sm "$c" -m access "$SM"
        run pol "$c" -P "$POL"
    done
done

printf '| what | active | requests/s | p50 µs | p99 µs | server CPU µs/request |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
for c in 1 16; do
    for name in sm pol; do
        what="rcptdir-lookupd socketmap, access map"
        [ "$name" = pol ] && what="rcptdir-lookupd policy service (22 attributes)"
        printf '| %s | %d | %.0f | %.0f | %.0f | %.1f |\n' "$what" "$c" \
            "$(cut -d' ' -f1 "$T/$name-$c" | median)" "$(cut -d' ' -f2 "$T/$name-$c" | median)" \
            "$(cut -d' ' -f3 "$T/$name-$c" | median)" "$(cut -d' ' -f4 "$T/$name-$c" | median)"
    done
    awk -v a="$(cut -d' ' -f1 "$T/pol-$c" | median)" -v b="$(cut -d' ' -f1 "$T/sm-$c" | median)" \
        -v c="$c" 'BEGIN { printf "| policy / socketmap | %d | %.2fx | | | |\n", c, a / b }'
done

# cg NAME LOADCLIENT-ARGS... - lookupd (threads = 1) under callgrind, counting only while the
# client runs (16 active, BENCH_CG_SECONDS = 3 s); prints user-space instructions per request
CGSECS=${BENCH_CG_SECONDS:-3}
cg() {
    local name=$1 vp out ir n
    shift
    sed -e "s/@SMPORT@/$cgsm/" -e "s/@HTTPPORT@/$(free_port)/" -e "s/$pport/$cgpol/" \
        -e "s|$T/bench.sock|$T/cg.sock|" "$T/bench.conf.in" >"$T/cg.conf"
    echo "threads = 1" >>"$T/cg.conf"
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/cg.$name" \
        "$BUILD/rcptdir-lookupd" -c "$T/cg.conf" -d >"$T/cg-$name.log" 2>&1 &
    vp=$!
    PIDS+=("$vp")
    for _ in $(seq 300); do grep -q "lookupd: ready" "$T/cg-$name.log" && break; sleep 0.1; done
    grep -q "lookupd: ready" "$T/cg-$name.log" || die "lookupd did not start under valgrind"
    callgrind_control -i on "$vp" >/dev/null 2>&1 || die "callgrind_control failed"
    out=$("$BUILD/bench/loadclient" -t "$CGSECS" -c 16 "$@" "$T/keys") || die "loadclient $*"
    callgrind_control -i off "$vp" >/dev/null 2>&1
    kill -TERM "$vp"
    wait "$vp" 2>/dev/null
    ir=$(callgrind_annotate "$T/cg.$name" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    n=$(field lookups "$out")
    awk -v i="${ir:-0}" -v n="${n:-0}" 'BEGIN { printf "%.0f", (n > 0 ? i / n : 0) }'
}
if command -v callgrind_control >/dev/null; then
    say "instructions per request (callgrind)"
    cgsm=$(free_port)
    cgpol=$(free_port)
    sm_ir=$(cg sm -m access "inet:127.0.0.1:$cgsm")
    pol_ir=$(cg pol -P "inet:127.0.0.1:$cgpol")
    echo
    echo "User-space instructions per request (callgrind, threads = 1, 16 active, $CGSECS s):"
    echo "socketmap access map $sm_ir, policy service $pol_ir."
fi

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID_bench/status"; }
tracked() { curl -s "http://127.0.0.1:$HTTPPORT_bench/v1/harvest" | sed -n 's/.*"tracked":\([0-9]*\).*/\1/p'; }
before=$(rss)
t0=$(tracked)
"$(command -v python3)" "$TOP/tests/data/policy/policy_client.py" "$pport" spray '2001:db8:%x::1' \
    "$SPRAY" nosuch@example.org >/dev/null || die "spray failed"
after=$(rss)
t1=$(tracked)
echo
awk -v b="$before" -v a="$after" -v t0="$t0" -v t1="$t1" -v s="$SPRAY" 'BEGIN {
    printf "Harvest table: %d clients of their own /64 sent one unknown each: %d entries more (address and /64; %d in all), resident size %d kB -> %d kB, %.0f bytes per entry.\n",
        s, t1 - t0, t1, b, a, (a - b) * 1024 / (t1 - t0) }'
lookupd_stop bench
