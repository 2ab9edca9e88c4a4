#!/bin/bash
# bench_syncd - full sync from slapd: rcptdir-syncd vs ldapsearch alone vs the classic cron
# pipeline (ldapsearch | awk | postmap lmdb:), same directory, same run, medians of RUNS.
#
#   BENCH_SIZES="100000 1000000" RUNS=3 tests/bench/bench_syncd.sh [BUILD]
# Prints a markdown table on stdout; progress on stderr.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
SIZES=${BENCH_SIZES:-100000 1000000}
RUNS=${RUNS:-3}
work=$(mktemp -d /tmp/rcptdir-bench.XXXXXX)
# postmap reads an empty main.cf of our own, not /etc/postfix's (which scripts/deps leaves
# absent: Postfix is only a client here)
mkdir -p "$work/postfix" && : >"$work/postfix/main.cf"
export MAIL_CONFIG=$work/postfix
trap '"$top/scripts/test-slapd" stop "$work/ldap" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# peak_anon CMD... - run CMD, print the peak of its anonymous memory (RssAnon, kB) sampled
# every 20 ms: the heap and stacks, without the store's pages that LMDB maps from the file
peak_anon() {
    local peak=0 cur
    "$@" >/dev/null 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        cur=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || true
        [ -n "$cur" ] && [ "$cur" -gt "$peak" ] && peak=$cur
        sleep 0.02
    done
    wait "$pid" || echo "bench: $* failed" >&2
    echo "$peak"
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# timed FILE CMD... - run CMD under /usr/bin/time, append "seconds maxrss_kb" to FILE
timed() {
    local out=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
        echo "bench: command failed: $*" >&2
        cat "$work/err" >&2
        return 1
    }
    cat "$work/t" >>"$out"
}

echo "| entries | addresses | ldapsearch alone | rcptdir-syncd full | ratio to ldapsearch | cron pipeline | pipeline / syncd | syncd peak RSS (incl. mapped store) | syncd peak heap (first / re-sync) | no-change re-sync |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
    echo "bench: generating and loading $n entries" >&2
    "$top/scripts/gen-ldif" "$n" >"$work/data.ldif"
    "$top/scripts/test-slapd" stop "$work/ldap" >/dev/null 2>&1 || true
    rm -rf "$work/ldap"
    "$top/scripts/test-slapd" start "$work/ldap" "$work/data.ldif" >/dev/null
    rm -f "$work/data.ldif"
    # shellcheck disable=SC1091
    . "$work/ldap/env"
    printf '%s' "$LDAP_BIND_PW" >"$work/pw"
    chmod 600 "$work/pw"
    cat >"$work/c.conf" <<CONF
[store]
path = $work/store
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $work/pw
base = ou=people,dc=example,dc=org
filter = (objectClass=inetOrgPerson)
address_attrs = mail, mailLocalAddress, mailAlternateAddress
group_filter =
disabled_filter = (description=disabled)
page_size = 1000
[lookupd]
user =
CONF
    rm -f "$work"/{ls,sy,re,pp,anon,anon_re}
    for r in $(seq "$RUNS"); do
        echo "bench: $n entries, run $r" >&2
        timed "$work/ls" ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_BIND_DN" \
            -y "$work/pw" -b ou=people,dc=example,dc=org -E pr=1000/noprompt \
            '(objectClass=inetOrgPerson)' mail mailLocalAddress mailAlternateAddress description
        rm -rf "$work/store"
        timed "$work/sy" "$top/$BUILD/rcptdir-syncd" -d -c "$work/c.conf"
        timed "$work/re" "$top/$BUILD/rcptdir-syncd" -d -c "$work/c.conf"
        rm -rf "$work/store"
        peak_anon "$top/$BUILD/rcptdir-syncd" -d -c "$work/c.conf" >>"$work/anon"
        peak_anon "$top/$BUILD/rcptdir-syncd" -d -c "$work/c.conf" >>"$work/anon_re"
        rm -f "$work/map" "$work/map.lmdb"
        timed "$work/pp" sh -c "ldapsearch -x -LLL -o ldif-wrap=no -H '$LDAP_URI' -D '$LDAP_BIND_DN' \
            -y '$work/pw' -b ou=people,dc=example,dc=org -E pr=1000/noprompt \
            '(&(objectClass=inetOrgPerson)(!(description=disabled)))' mail mailLocalAddress mailAlternateAddress |
            awk '/^(mail|mailLocalAddress|mailAlternateAddress): / {print tolower(\$2), \"OK\"}' >'$work/map' &&
            postmap lmdb:'$work/map'"
    done
    addrs=$("$top/$BUILD/tools/dumpstore" -m "$work/store" | sed -n 's/.*addresses=\([0-9]*\).*/\1/p')
    ls=$(cut -d' ' -f1 "$work/ls" | median)
    sy=$(cut -d' ' -f1 "$work/sy" | median)
    rss=$(cut -d' ' -f2 "$work/sy" | median)
    re=$(cut -d' ' -f1 "$work/re" | median)
    pp=$(cut -d' ' -f1 "$work/pp" | median)
    anon=$(median <"$work/anon")
    anon_re=$(median <"$work/anon_re")
    awk -v n="$n" -v a="$addrs" -v ls="$ls" -v sy="$sy" -v pp="$pp" -v rss="$rss" -v re="$re" \
        -v an="$anon" -v ar="$anon_re" 'BEGIN {
        printf "| %d | %d | %.2f s | %.2f s | %.2fx | %.2f s | %.2fx | %.0f MB | %.0f / %.0f MB | %.2f s |\n",
            n, a, ls, sy, sy / ls, pp, pp / sy, rss / 1024, an / 1024, ar / 1024, re }'
done
