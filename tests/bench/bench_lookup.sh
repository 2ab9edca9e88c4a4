#!/bin/bash
# bench_lookup.sh BUILD - socketmap lookups/s and latency: rcptdir-lookupd against the
# simplest single-threaded C socketmap server over the same LMDB store (baseline_sockmap),
# with 1 and 16 active connections (one request at a time each, like Postfix processes) and
# 16 active plus 1000 idle. Same keys, same store, same run. BENCH_SECONDS per figure (5).
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
. "$TOP/tests/data/lookupd/lib.sh" # for $T, ports and lookupd_start; its TAP helpers are unused
SECS=${BENCH_SECONDS:-5}
N=${BENCH_ADDRESSES:-100000}

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@example.org\tuser\tactive\tuser%d@example.org\n", i, i }' >"$T/dir.txt"
"$MKSTORE" "$T/store" "$T/dir.txt" || exit 1
awk -v n="$N" 'BEGIN { srand(1); for (i = 0; i < 20000; i++) printf "user%d@example.org\n", int(rand() * n) }' >"$T/keys"

write_conf bench "$T/store" "threads = 2"
lookupd_start bench || exit 1
bport=$(free_port)
"$BUILD/bench/baseline_sockmap" "inet:127.0.0.1:$bport" "$T/store" >"$T/baseline.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 50); do grep -q ready "$T/baseline.log" && break; sleep 0.1; done

run() {
    "$BUILD/bench/loadclient" -t "$SECS" "$@" "$T/keys"
}
printf '| server | active | idle | lookups/s | p50 µs | p99 µs | errors |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for spec in "1 0" "16 0" "16 1000"; do
    set -- $spec
    for srv in lookupd baseline; do
        if [ "$srv" = lookupd ]; then addr=inet:127.0.0.1:$SMPORT_bench; else addr=inet:127.0.0.1:$bport; fi
        out=$(run -c "$1" -i "$2" "$addr")
        rate=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$out")
        p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$out")
        p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$out")
        errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$srv" "$1" "$2" "$rate" "$p50" "$p99" "$errs"
    done
done
