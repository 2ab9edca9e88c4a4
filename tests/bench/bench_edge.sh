#!/bin/bash
# shellcheck disable=SC2154 # HTTP_hub, HTTP_edge are set by lookupd() through printf -v
# bench_edge - edge replication: a hub store of about 1M addresses (scripts/gen-ldif, synced
# from LDIF), served by the hub's rcptdir-lookupd; in the same run, medians of RUNS:
#   - snapshot: a new edge's rcptdir-syncd pulling /v1/snapshot and applying it, against
#     curl fetching the same snapshot to /dev/null (transfer alone) and mdb_copy of the hub's
#     store (the "copy the file" alternative, local disk, no network);
#   - delta: 1000 changed entries; the time from the hub's commit to the edge's lookupd
#     answering the new state over HTTP (the edge's one-shot sync pulls /v1/changes), bytes.
#
#   BENCH_EDGE_ENTRIES=400000 RUNS=3 tests/bench/bench_edge.sh [BUILD]
# Prints a markdown table on stdout; progress on stderr.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
ENTRIES=${BENCH_EDGE_ENTRIES:-400000}
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/rcptdir-bench-edge.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
free_port() { "$top/scripts/free-port"; }
# lookupd NAME STORE - start a lookupd on free ports; sets HTTP_NAME
lookupd() {
    local sp hp
    sp=$(free_port)
    hp=$(free_port)
    printf '[store]\npath = %s\n[lookupd]\nuser =\nsocketmap_listen = inet:127.0.0.1:%s\nhttp_listen = 127.0.0.1:%s\n' \
        "$2" "$sp" "$hp" >"$work/$1.lk.conf"
    "$BUILD/rcptdir-lookupd" -c "$work/$1.lk.conf" -d >"$work/$1.lk.log" 2>&1 &
    pids+=($!)
    printf -v "HTTP_$1" '%s' "$hp"
    for _ in $(seq 100); do
        grep -q "lookupd: ready" "$work/$1.lk.log" && return 0
        sleep 0.05
    done
    echo "bench: lookupd $1 did not start" >&2
    cat "$work/$1.lk.log" >&2
    return 1
}

echo "bench: generating $ENTRIES entries" >&2
"$top/scripts/gen-ldif" "$ENTRIES" >"$work/data.ldif"
cat >"$work/hub.conf" <<CONF
[store]
path = $work/hub
[ldif]
path = $work/data.ldif
filter = (objectClass=inetOrgPerson)
address_attrs = mail, mailLocalAddress, mailAlternateAddress
group_filter =
disabled_filter = (description=disabled)
[lookupd]
user =
CONF
echo "bench: hub sync" >&2
"$BUILD/rcptdir-syncd" -d -c "$work/hub.conf" 2>"$work/hub.log"
lookupd hub "$work/hub"
hub=http://127.0.0.1:$HTTP_hub
cat >"$work/edge.conf" <<CONF
[store]
path = $work/edge
[upstream]
url = $hub
[lookupd]
user =
CONF
addrs=$("$BUILD/tools/dumpstore" -m "$work/hub" | sed -n 's/.*addresses=\([0-9]*\).*/\1/p')
hubsize=$(du -k "$work/hub/data.mdb" | cut -f1)

for r in $(seq "$RUNS"); do
    echo "bench: snapshot, run $r" >&2
    rm -rf "$work/edge" "$work/copy"
    t0=$(now)
    "$BUILD/rcptdir-syncd" -d -c "$work/edge.conf" 2>"$work/edge.log"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }" >>"$work/snap"
    sed -n 's/.*records, \([0-9]*\) bytes.*/\1/p' "$work/edge.log" >>"$work/snapbytes"
    sed -n 's/.* bytes, \([0-9]*\) on the wire.*/\1/p' "$work/edge.log" >>"$work/snapwire"
    curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$hub/v1/snapshot" >>"$work/curl"
    curl -s --compressed -o /dev/null -w '%{time_total} %{size_download}\n' \
        "$hub/v1/snapshot" >>"$work/curlgz"
    mkdir "$work/copy"
    t0=$(now)
    mdb_copy "$work/hub" "$work/copy"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }" >>"$work/copytime"
done

lookupd edge "$work/edge"
edge=http://127.0.0.1:$HTTP_edge
for r in $(seq "$RUNS"); do
    echo "bench: delta of 1000 entries, run $r" >&2
    # 1000 entries get a new primary address: 1000 removed, 1000 added
    awk -v r="$r" '/^mail: user[0-9]+@/ && n < 1000 { sub(/@/, "r" r "@"); n++ } { print }' \
        "$work/data.ldif" >"$work/data.new" && mv "$work/data.new" "$work/data.ldif"
    probe=$(awk -v r="$r" '/^mail: user[0-9]+r/ && index($0, "r" r "@") { print $2; exit }' "$work/data.ldif")
    "$BUILD/rcptdir-syncd" -d -c "$work/hub.conf" 2>"$work/hub.log" # the hub's commit
    t0=$(now)
    "$BUILD/rcptdir-syncd" -d -c "$work/edge.conf" 2>"$work/edge.log"
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$edge/v1/recipients/$probe")" = 200 ]; do
        sleep 0.001
    done
    t1=$(now)
    awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }" >>"$work/delta"
    sed -n 's/.*upstream changes.*records, \([0-9]*\) bytes.*/\1/p' "$work/edge.log" >>"$work/deltabytes"
    sed -n 's/.*upstream changes.* bytes, \([0-9]*\) on the wire.*/\1/p' "$work/edge.log" >>"$work/deltawire"
    grep -q "upstream changes" "$work/edge.log" || echo "bench: the delta was not a change feed" >&2
done

snap=$(median <"$work/snap")
sb=$(median <"$work/snapbytes")
sw=$(median <"$work/snapwire")
ct=$(cut -d' ' -f1 "$work/curl" | median)
cgz=$(cut -d' ' -f1 "$work/curlgz" | median)
cp=$(median <"$work/copytime")
dl=$(median <"$work/delta")
db=$(median <"$work/deltabytes")
dw=$(median <"$work/deltawire")
echo "| addresses | snapshot: edge pull + apply | feed bytes (on the wire) | curl alone: identity / gzip | mdb_copy of the hub store (size) | 1000-entry delta: hub commit to edge answer | delta bytes (on the wire) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk -v a="$addrs" -v s="$snap" -v sb="$sb" -v sw="$sw" -v dw="$dw" -v ct="$ct" -v cgz="$cgz" -v cp="$cp" \
    -v hs="$hubsize" -v dl="$dl" -v db="$db" 'BEGIN {
    printf "| %d | %.2f s | %.1f MB (%.1f MB) | %.2f s / %.2f s | %.2f s (%.0f MB) | %.3f s | %.0f kB (%.0f kB) |\n",
        a, s, sb / 1e6, sw / 1e6, ct, cgz, cp, hs / 1024, dl, db / 1000, dw / 1000 }'
