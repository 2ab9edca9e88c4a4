#!/bin/bash
# bench_ad - rcptdir-syncd against a real Active Directory (Samba's AD DC, scripts/test-samba-ad)
# holding USERS users (20000; template dc20k, loaded once and cached, 7-9 minutes):
# [ldap] preset = ad, base = the domain root. In the same run, alternating which goes first,
# medians of RUNS:
#   - ldapsearch paging the preset's main search (same base, filter, attributes, page size),
#     and ldapsearch doing all three searches a full sync makes (the group ids, the disabled
#     ids, the main search);
#   - rcptdir-syncd's full sync into an empty store;
#   - incremental = yes: a run with no change, and a run after CHANGES changes made with
#     ldapmodify between runs (a third each: an alias added, a user added, a user deleted).
# Wall times and the DC's CPU time (Samba runs as one process: /proc/PID/stat) for each; the
# DC's CPU is less disturbed by other load on the machine than the wall time.
#
# Both for Samba's default sam.ldb store (tdb) and for its LMDB store (mdb, template dc20k-mdb):
# only mdb has range indexes, so only there is an incremental run's (uSNChanged>=N) search
# an index lookup, as on Windows AD (which indexes uSNChanged); with tdb it reads every object.
#
#   USERS=20000 RUNS=3 CHANGES=100 BACKENDS="tdb mdb" tests/bench/bench_ad.sh [BUILD]
# Prints markdown tables on stdout; progress on stderr. Needs root and samba-ad-dc (says so on
# stdout and exits 0 otherwise).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
USERS=${USERS:-20000}
RUNS=${RUNS:-3}
CHANGES=${CHANGES:-100}
BACKENDS=${BACKENDS:-tdb mdb}
TEMPLATE=dc$((USERS / 1000))k
[ "$USERS" -lt 1000 ] && TEMPLATE=dc$USERS
[ "$USERS" -eq 2000 ] && TEMPLATE=dc1 # the tests' template
work=$(mktemp -d /tmp/rcptdir-bench.XXXXXX)
trap '"$top/scripts/test-samba-ad" stop "$work/ad" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [ "$(id -u)" -ne 0 ] || ! command -v samba >/dev/null; then
    echo "bench_ad skipped: needs root and Samba's AD DC (scripts/deps)"
    exit 0
fi

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'; }
# dc_ticks - the CPU time the DC (samba, single process) has used, in clock ticks
dc_ticks() { awk '{print $14 + $15}' "/proc/$AD_PID/stat"; }
# timed FILE CMD... - run CMD, append "seconds DC-CPU-seconds" to FILE
timed() {
    local out=$1 t0 c0
    shift
    t0=$EPOCHREALTIME
    c0=$(dc_ticks)
    "$@" >/dev/null 2>"$work/err" || {
        echo "bench: command failed: $*: $(tail -3 "$work/err")" >&2
        return 1
    }
    echo "$(secs "$t0" "$EPOCHREALTIME") $(awk -v a="$c0" -v b="$(dc_ticks)" -v hz="$HZ" \
        'BEGIN { printf "%.2f", (b - a) / hz }')" >>"$out"
}
HZ=$(getconf CLK_TCK)
col() { cut -d' ' -f"$1" | median; }
# search FILTER ATTR... - ldapsearch paging the domain as the service account
search() {
    local f=$1
    shift
    ldapsearch -x -LLL -o ldif-wrap=no -H "$AD_URI" -D "$AD_BIND_DN" -y "$work/pw" \
        -b "$AD_BASE" -E pr=1000/noprompt "$f" "$@"
}
three() {
    search "(&$FILTER$GROUPF)" objectGUID && search "(&$FILTER$DISABLEDF)" objectGUID &&
        search "$FILTER" mail proxyAddresses objectGUID
}
conf() { # FILE STORE INCREMENTAL
    cat >"$1" <<CONF
[store]
path = $2
[ldap]
preset = ad
uri = $AD_URI
bind_dn = $AD_BIND_DN
bind_pw_file = $work/pw
base = $AD_BASE
incremental = $3
[sync]
max_delete_ratio = 0.5
[lookupd]
user =
CONF
}
# change FIRST - CHANGES changes with ldapmodify, in one stream: users uFIRST.. get an alias,
# new users bFIRST.. are added, the users after those are deleted (a third each)
change() {
    local i n=$((CHANGES / 3)) f=$1
    {
        for i in $(seq "$f" $((f + CHANGES - 2 * n - 1))); do
            printf 'dn: CN=u%04d,OU=People,%s\nchangetype: modify\nadd: proxyAddresses\n' "$i" "$AD_BASE"
            printf 'proxyAddresses: smtp:u%04d.new@example.test\n\n' "$i"
        done
        for i in $(seq "$f" $((f + n - 1))); do
            printf 'dn: CN=b%d,OU=People,%s\nchangetype: add\nobjectClass: user\n' "$i" "$AD_BASE"
            printf 'sAMAccountName: b%d\nuserAccountControl: 512\nmail: b%d@example.test\n' "$i" "$i"
            printf 'proxyAddresses: SMTP:b%d@example.test\n\n' "$i"
        done
        for i in $(seq $((f + CHANGES)) $((f + CHANGES + n - 1))); do
            printf 'dn: CN=u%04d,OU=People,%s\nchangetype: delete\n\n' "$i" "$AD_BASE"
        done
    } >"$work/ldif"
    ldapmodify -x -H "$AD_URI" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PW" -f "$work/ldif" >/dev/null
}

eff() { "$BUILD/rcptdir-syncd" -n -c "$work/full.conf" 2>/dev/null | sed -n "s/^\[ldap\] $1 = //p"; }

# one BACKEND - the whole measurement against a DC whose sam.ldb is in BACKEND; a table row
one() {
    local backend=$1 t=$TEMPLATE r who order t0
    [ "$backend" = tdb ] || t=$TEMPLATE-$backend
    echo "bench: starting Samba AD ($backend) with $USERS users (template $t; made the first time)" >&2
    "$top/scripts/test-samba-ad" stop "$work/ad" >/dev/null 2>&1 || true
    rm -rf "$work/ad" "$work/store" "$work/istore" "$work"/{ls,three,sy,nc,ch}
    TEST_SAMBA_AD_USERS=$USERS TEST_SAMBA_AD_BACKEND=$backend \
        "$top/scripts/test-samba-ad" start "$work/ad" "$t" >/dev/null
    # shellcheck disable=SC1091
    . "$work/ad/env"
    printf '%s' "$AD_BIND_PW" >"$work/pw"
    chmod 600 "$work/pw"
    conf "$work/full.conf" "$work/store" no
    conf "$work/inc.conf" "$work/istore" yes
    FILTER=$(eff filter)
    GROUPF=$(eff group_filter)
    DISABLEDF=$(eff disabled_filter)

    # warm up: the DC's caches, the first full sync
    search "$FILTER" mail proxyAddresses objectGUID >/dev/null
    "$BUILD/rcptdir-syncd" -d -c "$work/full.conf" >/dev/null 2>&1
    for r in $(seq "$RUNS"); do
        order="ls three sy"
        [ $((r % 2)) -eq 0 ] && order="sy three ls"
        for who in $order; do
            echo "bench: $backend, full, run $r, $who" >&2
            case $who in
            ls) timed "$work/ls" search "$FILTER" mail proxyAddresses objectGUID ;;
            three) timed "$work/three" three ;;
            sy)
                rm -rf "$work/store"
                timed "$work/sy" "$BUILD/rcptdir-syncd" -d -c "$work/full.conf"
                ;;
            esac
        done
    done
    addrs=$("$BUILD/tools/dumpstore" -m "$work/store" | sed -n 's/.*addresses=\([0-9]*\).*/\1/p')
    entries=$("$BUILD/tools/dumpstore" -e "$work/store" | grep -c '^entry' || true)

    echo "bench: $backend, incremental" >&2
    "$BUILD/rcptdir-syncd" -d -c "$work/inc.conf" >/dev/null 2>&1
    for r in $(seq "$RUNS"); do
        timed "$work/nc" "$BUILD/rcptdir-syncd" -d -c "$work/inc.conf"
    done
    for r in $(seq "$RUNS"); do
        echo "bench: $backend, $CHANGES changes, run $r" >&2
        change $((1 + (r - 1) * 2 * CHANGES))
        timed "$work/ch" "$BUILD/rcptdir-syncd" -v -c "$work/inc.conf"
        cp "$work/err" "$work/inc.err"
        grep -o 'ad: changes since USN.*' "$work/inc.err" >&2 || {
            echo "bench: the run after the changes was no incremental run: $(tail -3 "$work/inc.err")" >&2
            exit 1
        }
    done
    ls=$(col 1 <"$work/ls")
    th=$(col 1 <"$work/three")
    sy=$(col 1 <"$work/sy")
    echo "| $USERS | $backend | $entries / $addrs | $ls s | $th s | $sy s | $(ratio "$sy" "$ls") | $(ratio "$sy" "$th") | $(col 2 <"$work/ls") / $(col 2 <"$work/three") / $(col 2 <"$work/sy") s | $(col 1 <"$work/nc") s | $(col 1 <"$work/ch") s |"
    each() { awk '{printf "%s (%s) ", $1, $2}' "$work/$1"; }
    echo "$backend, each run, wall (DC CPU) in s: ldapsearch $(each ls); 3 searches $(each three); syncd $(each sy); no change $(each nc); $CHANGES changes $(each ch)" >>"$work/each"
}

echo "| AD users | Samba's sam.ldb | entries / addresses stored | ldapsearch, main search | ldapsearch, the 3 searches of a full sync | rcptdir-syncd full sync | ratio to the main search | ratio to the 3 searches | DC CPU: main search / 3 searches / syncd | incremental, no change | incremental, $CHANGES changes |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
: >"$work/each"
for b in $BACKENDS; do
    one "$b"
done
echo
sed "s/ *\$//" "$work/each"
echo "Medians of $RUNS runs; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
