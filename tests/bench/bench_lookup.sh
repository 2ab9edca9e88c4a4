#!/bin/bash
# bench_lookup.sh BUILD - lookups/s, latency and CPU per lookup, all in one run, same keys,
# same concurrency (N active connections, each with one request at a time, like Postfix
# processes):
#   - direct LDAP equality searches against slapd, as a Postfix ldap: table does per RCPT
#     (ldapclient: one persistent bound connection per client thread, ldap_search_ext_s,
#     filter with the disabled condition), slapd with equality indexes on the mail attributes;
#   - rcptdir-lookupd's socketmap and the simplest single-threaded C socketmap server over the
#     same LMDB store (baseline_sockmap), 1 and 16 active, and 16 active plus 1000 idle;
#   - rcptdir-lookupd's HTTP GET /v1/recipients/{address} (loadclient -H: HTTP/1.1 keep-alive,
#     one request at a time per connection), 1 and 16 active;
#   - Postfix's own `postmap -q - lmdb:` over the same keys: one process reading keys from
#     stdin and looking each up in a local file - no server, no socket, so not comparable to
#     the rows above, it shows what a local table lookup costs.
# The directory is scripts/gen-ldif 100000 (about 250k addresses), the store is filled from it
# by rcptdir-syncd, the keys are a random sample of its active addresses plus about 10%
# unknown ones. Server CPU per lookup: utime+stime of the server (slapd, lookupd, baseline)
# from /proc/PID/stat during the figure, divided by the lookups done; client CPU likewise from
# /usr/bin/time (the machine's cores are shared by client and server).
# Then paired runs (lookupd and baseline back to back, BENCH_PAIRS), and each server's
# user-space instructions per lookup under callgrind (valgrind; BENCH_CG_SECONDS).
# Prints markdown tables on stdout, progress on stderr. BENCH_SECONDS per figure (5),
# BENCH_ENTRIES (100000), BENCH_KEYS (20000). Stops everything it started on exit.
# PREV_LOOKUPD=PATH: also a previous rcptdir-lookupd binary (e.g. an older commit's build),
# same configuration, same store, same load client: its socketmap rows in the table, paired
# runs of this build's lookupd against it (alternating which goes first, p99 of both), and its
# instructions per lookup under callgrind beside this build's.
# shellcheck disable=SC2154 # tests/lib/lookupd.sh: lookupd_start sets SMPORT_bench, HTTPPORT_bench, PID_bench
set -u
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
# shellcheck disable=SC1091
. "$TOP/tests/lib/rcptdir.sh" # for $T, ports and lookupd_start; its TAP helpers are unused
SECS=${BENCH_SECONDS:-5}
ENTRIES=${BENCH_ENTRIES:-100000}
NKEYS=${BENCH_KEYS:-20000}
HZ=$(getconf CLK_TCK)
FILTER='(&(|(mail=%s)(mailLocalAddress=%s)(mailAlternateAddress=%s))(!(description=disabled)))'

bench_cleanup() {
    "$TOP/scripts/test-slapd" stop "$T/ldap" >/dev/null 2>&1
    lib_cleanup
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM HUP
say() { echo "bench_lookup: $*" >&2; }
die() {
    say "$*"
    for f in "$T"/*.log; do
        [ -s "$f" ] && tail -n 5 "$f" | sed "s|^|bench_lookup: $(basename "$f"): |" >&2
    done
    exit 1
}

# ---- the directory, the store, the keys --------------------------------------------------
say "generating and loading $ENTRIES entries"
"$TOP/scripts/gen-ldif" "$ENTRIES" >"$T/data.ldif" || die "gen-ldif failed"
TEST_SLAPD_MAIL_INDEX=1 "$TOP/scripts/test-slapd" start "$T/ldap" "$T/data.ldif" >/dev/null ||
    die "slapd did not start"
# shellcheck disable=SC1091
. "$T/ldap/env"
printf '%s' "$LDAP_BIND_PW" >"$T/pw"
chmod 600 "$T/pw"
cat >"$T/syncd.conf" <<CONF
[store]
path = $T/store
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $T/pw
base = ou=people,dc=example,dc=org
filter = (objectClass=inetOrgPerson)
address_attrs = mail, mailLocalAddress, mailAlternateAddress
group_filter =
disabled_filter = (description=disabled)
page_size = 1000
[lookupd]
user =
CONF
say "filling the store with rcptdir-syncd"
"$BUILD/rcptdir-syncd" -d -c "$T/syncd.conf" >"$T/syncd.log" 2>&1 || {
    cat "$T/syncd.log" >&2
    die "rcptdir-syncd failed"
}
# the active addresses (entries without description: disabled), as the directory holds them
awk 'BEGIN { RS = "" } /^dn: uid=/ && !/\ndescription: disabled/ {
        n = split($0, l, "\n")
        for (i = 1; i <= n; i++)
            if (l[i] ~ /^(mail|mailLocalAddress|mailAlternateAddress): /) { sub(/^[^ ]* /, "", l[i]); print l[i] }
    }' "$T/data.ldif" >"$T/active"
rm -f "$T/data.ldif"
# NKEYS keys: about 90% a random sample of the active addresses, 10% unknown ones
awk -v n="$NKEYS" 'BEGIN { srand(1) } { a[NR] = $0 } END {
        split("example.org example.com example.net", d, " ")
        for (i = 0; i < n; i++)
            if (rand() < 0.1) printf "nosuch%d@%s\n", i, d[i % 3 + 1]
            else print a[int(rand() * NR) + 1]
    }' "$T/active" >"$T/keys"
nvalid=$(wc -l <"$T/active")
say "$nvalid active addresses, $(wc -l <"$T/keys") keys"

# ---- the servers -------------------------------------------------------------------------
write_conf bench "$T/store" "threads = ${LOOKUPD_THREADS:-2}"
lookupd_start bench || exit 1
bport=$(free_port)
"$BUILD/bench/baseline_sockmap" "inet:127.0.0.1:$bport" "$T/store" >"$T/baseline.log" 2>&1 &
BPID=$!
PIDS+=("$BPID")
wait_until 10 grep -qx ready "$T/baseline.log"
grep -qx ready "$T/baseline.log" || die "baseline_sockmap did not start"
SM_LOOKUPD=inet:127.0.0.1:$SMPORT_bench
PREV=${PREV_LOOKUPD:-}
if [ -n "$PREV" ]; then
    [ -x "$PREV" ] || die "PREV_LOOKUPD=$PREV is not an executable"
    write_conf prev "$T/store" "threads = ${LOOKUPD_THREADS:-2}"
    LOOKUPD=$PREV lookupd_start prev || exit 1
    SM_PREV=inet:127.0.0.1:$SMPORT_prev
fi
SM_BASELINE=inet:127.0.0.1:$bport
HTTP_LOOKUPD=inet:127.0.0.1:$HTTPPORT_bench

# ---- measuring ---------------------------------------------------------------------------
# cpu_ticks PID - utime+stime of PID so far, in clock ticks
cpu_ticks() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    s=${s##*) } # after "pid (comm) ": field 12 is utime, 13 stime
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}
# settle - a pause before each figure, the same for every server: lookupd's second worker
# takes new connections until about a second after the first one was last saturated
# (lookupd/sockmap.h), so a figure that began right after the previous one would measure that
# moment's state, not a server's first connections after a quiet moment. BENCH_SETTLE (2) s.
settle() { sleep "${BENCH_SETTLE:-2}"; }
# field NAME TEXT - the value of NAME=... in TEXT
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }
# row WHAT ACTIVE IDLE SERVERPID - run the client in CMD (which prints a loadclient-format
# line), print a row of the table; sets RATE
RATE=0
row() {
    local what=$1 active=$2 idle=$3 spid=$4 t0 t1 out lookups cu cs rc
    settle
    t0=$(cpu_ticks "$spid")
    out=$(/usr/bin/time -f '%U %S' -o "$T/ctime" "${CMD[@]}") || die "failed: ${CMD[*]}"
    t1=$(cpu_ticks "$spid")
    lookups=$(field lookups "$out")
    RATE=$(field rate "$out")
    [ "${lookups:-0}" -gt 0 ] || die "no lookups: ${CMD[*]} -> $out"
    rc=$(field reconnects "$out")
    if [ "${rc:-0}" -gt 0 ]; then
        what="$what, server closed the connection after $(awk -v r="$rc" -v n="$lookups" 'BEGIN { printf "%.0f%%", 100 * r / n }') of the requests (Connection: close), reconnect included"
    fi
    read -r cu cs <"$T/ctime"
    awk -v w="$what" -v a="$active" -v i="$idle" -v r="$RATE" -v p50="$(field p50_us "$out")" \
        -v p99="$(field p99_us "$out")" -v e="$(field errors "$out")" \
        -v f="$(field found "$out")" -v n="$lookups" -v st=$((t1 - t0)) -v hz="$HZ" \
        -v cu="$cu" -v cs="$cs" 'BEGIN {
        printf "| %s | %s | %s | %d | %d | %d | %d | %.1f%% | %.1f | %.1f |\n",
            w, a, i, r, p50, p99, e, 100 * f / n, st * 1e6 / hz / n, (cu + cs) * 1e6 / n }'
}
# the clients, into CMD, running for $RUNSECS: ldap ACTIVE, sm ADDRESS ACTIVE IDLE, http ACTIVE
CMD=()
RUNSECS=$SECS
ldap() {
    # shellcheck disable=SC2054 # the commas are in the filter
    CMD=("$BUILD/bench/ldapclient" -t "$RUNSECS" -c "$1" -H "$LDAP_URI" -D "$LDAP_BIND_DN"
        -y "$T/pw" -b ou=people,dc=example,dc=org -f "$FILTER" -a mail "$T/keys")
}
sm() { CMD=("$BUILD/bench/loadclient" -t "$RUNSECS" -c "$2" -i "$3" "$1" "$T/keys"); }
http() { CMD=("$BUILD/bench/loadclient" -t "$RUNSECS" -c "$1" -H "$HTTP_LOOKUPD" "$T/keys"); }
ratio() { awk -v a="$2" -v b="$3" -v w="$1" 'BEGIN { printf "| %s | | | %.2fx | | | | | | |\n", w, (b > 0 ? a / b : 0) }'; }

say "warming up"
RUNSECS=1
for w in "ldap 16" "sm $SM_LOOKUPD 16 0" "sm $SM_BASELINE 16 0" "http 16" ${PREV:+"sm $SM_PREV 16 0"}; do
    $w
    "${CMD[@]}" >/dev/null || die "warm-up failed: ${CMD[*]}"
done
RUNSECS=$SECS
declare -A R # lookups/s by figure

L="direct LDAP (slapd, ldap_search_ext_s)"
K="rcptdir-lookupd socketmap"
B="baseline_sockmap (1 thread, LMDB)"
H="rcptdir-lookupd HTTP GET /v1/recipients"
P="previous rcptdir-lookupd socketmap ($PREV)"
printf '| what | active | idle | lookups/s | p50 µs | p99 µs | errors | found | server CPU µs/lookup | client CPU µs/lookup |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for c in 1 16; do
    say "$c active"
    ldap "$c"
    row "$L" "$c" 0 "$SLAPD_PID"
    R[ldap_$c]=$RATE
    sm "$SM_LOOKUPD" "$c" 0
    row "$K" "$c" 0 "$PID_bench"
    R[lk_$c]=$RATE
    sm "$SM_BASELINE" "$c" 0
    row "$B" "$c" 0 "$BPID"
    R[bl_$c]=$RATE
    if [ -n "$PREV" ]; then
        sm "$SM_PREV" "$c" 0
        row "$P" "$c" 0 "$PID_prev"
        R[pv_$c]=$RATE
    fi
done
say "16 active + 1000 idle"
sm "$SM_LOOKUPD" 16 1000
row "$K" 16 1000 "$PID_bench"
R[lk_idle]=$RATE
sm "$SM_BASELINE" 16 1000
row "$B" 16 1000 "$BPID"
R[bl_idle]=$RATE
if [ -n "$PREV" ]; then
    sm "$SM_PREV" 16 1000
    row "$P" 16 1000 "$PID_prev"
    R[pv_idle]=$RATE
fi
for c in 1 16; do
    say "HTTP, $c active"
    http "$c"
    row "$H" "$c" 0 "$PID_bench"
done

# postmap: an LMDB map of the same active addresses, the keys repeated into a batch of about
# BENCH_SECONDS (sized by a first, untimed pass), timed as one process
say "postmap"
awk '{ print $0 "\tOK" }' "$T/active" >"$T/pmap"
postmap lmdb:"$T/pmap" || die "postmap failed"
s0=$(date +%s%N)
postmap -q - lmdb:"$T/pmap" <"$T/keys" >/dev/null || die "postmap -q failed"
s1=$(date +%s%N)
reps=$(awk -v s="$SECS" -v ns=$((s1 - s0)) 'BEGIN { r = int(s * 1e9 / (ns > 0 ? ns : 1) + 0.5); print (r < 1 ? 1 : (r > 5000 ? 5000 : r)) }')
for _ in $(seq "$reps"); do cat "$T/keys"; done >"$T/pmkeys"
n=$(wc -l <"$T/pmkeys")
s0=$(date +%s%N)
/usr/bin/time -f '%U %S' -o "$T/ctime" postmap -q - lmdb:"$T/pmap" <"$T/pmkeys" >"$T/pm.out" ||
    die "postmap -q failed"
s1=$(date +%s%N)
read -r cu cs <"$T/ctime"
awk -v n="$n" -v ns=$((s1 - s0)) -v f="$(wc -l <"$T/pm.out")" -v cu="$cu" -v cs="$cs" 'BEGIN {
    printf "| postmap -q - lmdb: (one process, %d keys from stdin, local file, no server) | 1 | - | %d | - | - | - | %.1f%% | - | %.1f |\n",
        n, n / (ns / 1e9), 100 * f / n, (cu + cs) * 1e6 / n }'

ratio "ratio lookupd / direct LDAP, 16 active" "${R[lk_16]}" "${R[ldap_16]}"
ratio "ratio lookupd / direct LDAP, 1 active" "${R[lk_1]}" "${R[ldap_1]}"
ratio "ratio lookupd / baseline, 1 active" "${R[lk_1]}" "${R[bl_1]}"
ratio "ratio lookupd / baseline, 16 active" "${R[lk_16]}" "${R[bl_16]}"
ratio "ratio lookupd / baseline, 16 active + 1000 idle" "${R[lk_idle]}" "${R[bl_idle]}"
if [ -n "$PREV" ]; then
    ratio "ratio lookupd / previous lookupd, 1 active" "${R[lk_1]}" "${R[pv_1]}"
    ratio "ratio lookupd / previous lookupd, 16 active" "${R[lk_16]}" "${R[pv_16]}"
    ratio "ratio lookupd / previous lookupd, 16 active + 1000 idle" "${R[lk_idle]}" "${R[pv_idle]}"
fi

# ---- paired runs: the machine's speed drifts between figures, so compare in pairs ----------
# BENCH_PAIRS times (10, of BENCH_PAIR_SECONDS = 2 s): lookupd and the baseline back to back (alternating which goes
# first), 16 active, then 16 active + 1000 idle; the median of the per-pair ratios, and
# lookupd's p99 with 1000 idle in every pair.
PAIRS=${BENCH_PAIRS:-10}
RUNSECS=${BENCH_PAIR_SECONDS:-2}
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# pair ORDER IDLE [OTHER] - one pair (ORDER: "lk bl" or "bl lk") at 16 active + IDLE idle,
# lookupd against OTHER (the baseline's address unless given); prints
# "ratio p99_lookupd rate_lookupd rate_other p99_other"
pair() {
    local order=$1 idle=$2 other=${3:-$SM_BASELINE} lk bl who
    for who in $order; do
        settle
        if [ "$who" = lk ]; then
            lk=$("$BUILD/bench/loadclient" -t "$RUNSECS" -c 16 -i "$idle" "$SM_LOOKUPD" "$T/keys")
        else
            bl=$("$BUILD/bench/loadclient" -t "$RUNSECS" -c 16 -i "$idle" "$other" "$T/keys")
        fi
    done
    awk -v a="$(field rate "$lk")" -v b="$(field rate "$bl")" -v p="$(field p99_us "$lk")" \
        -v q="$(field p99_us "$bl")" \
        'BEGIN { printf "%.3f %d %d %d %d\n", (b > 0 ? a / b : 0), p, a, b, q }'
}
ratios16="" ratiosidle="" p99idle=""
for i in $(seq "$PAIRS"); do
    say "pair $i of $PAIRS"
    order="lk bl"
    [ $((i % 2)) -eq 0 ] && order="bl lk"
    read -r r _ a b <<<"$(pair "$order" 0)"
    ratios16="$ratios16 $r"
    echo "$a $b" >>"$T/pairs16"
    read -r r p a b <<<"$(pair "$order" 1000)"
    ratiosidle="$ratiosidle $r"
    p99idle="$p99idle $p"
    echo "$a $b $p" >>"$T/pairsidle"
done
echo
echo "Paired runs ($PAIRS pairs of ${RUNSECS} s, lookupd and baseline back to back):"
echo
echo "| figure | lookupd / baseline, each pair | median ratio | lookupd p99 µs with 1000 idle, each pair | median p99 µs |"
echo "| --- | --- | ---: | --- | ---: |"
echo "| 16 active | $(echo "$ratios16" | sed 's/^ //') | $(echo "$ratios16" | median) | | |"
echo "| 16 active + 1000 idle | $(echo "$ratiosidle" | sed 's/^ //') | $(echo "$ratiosidle" | median) | $(echo "$p99idle" | sed 's/^ //') | $(echo "$p99idle" | median) |"

# the same pairs against the previous binary: this build's lookupd and PREV_LOOKUPD back to
# back, alternating which goes first; each pair's ratio, both p99s with 1000 idle, and the
# load average at the start of the pairs (the machine may be shared). BENCH_PREV_PAIRS pairs
# (BENCH_PAIRS unless given).
if [ -n "$PREV" ]; then
    PAIRS=${BENCH_PREV_PAIRS:-$PAIRS}
    pr16="" pridle="" pk16="" pv16="" pkidle="" pvidle=""
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    for i in $(seq "$PAIRS"); do
        say "pair $i of $PAIRS, against the previous lookupd"
        order="lk bl"
        [ $((i % 2)) -eq 0 ] && order="bl lk"
        read -r r p _ _ q <<<"$(pair "$order" 0 "$SM_PREV")"
        pr16="$pr16 $r" pk16="$pk16 $p" pv16="$pv16 $q"
        read -r r p _ _ q <<<"$(pair "$order" 1000 "$SM_PREV")"
        pridle="$pridle $r" pkidle="$pkidle $p" pvidle="$pvidle $q"
    done
    load1=$(cut -d' ' -f1-3 /proc/loadavg)
    echo
    echo "Paired runs against the previous lookupd ($PREV; $PAIRS pairs of ${RUNSECS} s, back to back; load average $load0 before, $load1 after):"
    echo
    echo "| figure | lookupd / previous, each pair | median ratio | p99 µs this build, each pair | median | p99 µs previous, each pair | median |"
    echo "| --- | --- | ---: | --- | ---: | --- | ---: |"
    for f in 16 idle; do
        if [ $f = 16 ]; then
            set -- "16 active" "$pr16" "$pk16" "$pv16"
        else
            set -- "16 active + 1000 idle" "$pridle" "$pkidle" "$pvidle"
        fi
        echo "| $1 | ${2# } | $(echo "$2" | median) | ${3# } | $(echo "$3" | median) | ${4# } | $(echo "$4" | median) |"
    done
fi

# ---- user-space instructions per lookup: the one figure this machine's noise cannot move ----
# Both servers make the same system calls per lookup (one read, one send, a fraction of an
# epoll_wait), so what differs between them is their own code. callgrind counts it exactly:
# each server runs under valgrind with instrumentation switched on only while the client runs
# (16 active, BENCH_CG_SECONDS = 5 s), and the total is divided by the lookups answered.
# The kernel's share (most of a lookup's CPU) is not counted.
CGSECS=${BENCH_CG_SECONDS:-5}
# cg_count NAME PORT READY-PATTERN LOG COMMAND... - sets CG_IR (instructions) and CG_N
# (lookups); run in this shell, not $(...), so that die and the EXIT trap see its process
CG_IR=0 CG_N=0
cg_count() {
    local name=$1 port=$2 ready=$3 log=$4 vp out
    shift 4
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/cg.$name" "$@" \
        >"$log" 2>&1 &
    vp=$!
    PIDS+=("$vp")
    wait_until 60 grep -q "$ready" "$log"
    grep -q "$ready" "$log" || die "$name did not start under valgrind"
    callgrind_control -i on "$vp" >/dev/null 2>&1 || die "callgrind_control failed"
    out=$("$BUILD/bench/loadclient" -t "$CGSECS" -c 16 -i 0 "inet:127.0.0.1:$port" "$T/keys") ||
        die "loadclient against $name under valgrind failed"
    callgrind_control -i off "$vp" >/dev/null 2>&1
    kill -TERM "$vp"
    wait "$vp" 2>/dev/null
    CG_IR=$(callgrind_annotate "$T/cg.$name" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    CG_N=$(field lookups "$out")
}
if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
    say "instructions per lookup (callgrind)"
    cgp=$(free_port)
    sed -e "s/@SMPORT@/$cgp/" -e "s/@HTTPPORT@/$(free_port)/" -e "s/^threads = .*/threads = 1/" -e "s|$T/bench.sock|$T/cg.sock|" \
        "$T/bench.conf.in" >"$T/cg.conf"
    cg_count lookupd "$cgp" "lookupd: ready" "$T/cg-lookupd.log" \
        "$BUILD/rcptdir-lookupd" -c "$T/cg.conf" -d
    lk_ir=${CG_IR:-0} lk_n=${CG_N:-0}
    cgb=$(free_port)
    cg_count baseline "$cgb" "^ready$" "$T/cg-baseline.log" \
        "$BUILD/bench/baseline_sockmap" "inet:127.0.0.1:$cgb" "$T/store"
    bl_ir=${CG_IR:-0} bl_n=${CG_N:-0}
    if [ -n "$PREV" ]; then
        cgv=$(free_port)
        sed -e "s/@SMPORT@/$cgv/" -e "s/@HTTPPORT@/$(free_port)/" -e "s/^threads = .*/threads = 1/" -e "s|$T/prev.sock|$T/cg-prev.sock|" \
            "$T/prev.conf.in" >"$T/cg-prev.conf"
        cg_count prev "$cgv" "lookupd: ready" "$T/cg-prev.log" "$PREV" -c "$T/cg-prev.conf" -d
        pv_ir=${CG_IR:-0} pv_n=${CG_N:-0}
    fi
    echo
    echo "User-space instructions per lookup (callgrind, 16 active, $CGSECS s, counted while the client ran):"
    echo
    echo "| server | lookups | instructions per lookup |"
    echo "| --- | ---: | ---: |"
    awk -v i="$lk_ir" -v n="$lk_n" 'BEGIN { printf "| rcptdir-lookupd (threads = 1) | %d | %.0f |\n", n, (n > 0 ? i / n : 0) }'
    awk -v i="$bl_ir" -v n="$bl_n" 'BEGIN { printf "| baseline_sockmap | %d | %.0f |\n", n, (n > 0 ? i / n : 0) }'
    if [ -n "$PREV" ]; then
        awk -v i="$pv_ir" -v n="$pv_n" -v w="$PREV" 'BEGIN { printf "| previous rcptdir-lookupd (%s, threads = 1) | %d | %.0f |\n", w, n, (n > 0 ? i / n : 0) }'
        awk -v a="$lk_ir" -v an="$lk_n" -v b="$pv_ir" -v bn="$pv_n" 'BEGIN {
            if (an > 0 && bn > 0 && b > 0) printf "| ratio this build / previous | | %.3f |\n", (a / an) / (b / bn) }'
    fi
    # BENCH_KEEP_CG=DIR: keep the callgrind outputs (cg.lookupd, cg.baseline, cg.prev) for
    # callgrind_annotate; $T is removed on exit
    if [ -n "${BENCH_KEEP_CG:-}" ]; then
        mkdir -p "$BENCH_KEEP_CG"
        for f in "$T"/cg.lookupd "$T"/cg.baseline "$T"/cg.prev; do
            if [ -f "$f" ]; then cp "$f" "$BENCH_KEEP_CG"/; fi
        done
    fi
else
    say "valgrind not installed: no instruction counts"
fi
