#!/bin/bash
# bench_syncd - full sync from slapd: rcptdir-syncd vs ldapsearch alone vs the classic cron
# pipeline (ldapsearch | awk | postmap lmdb:), same directory, same run, medians of RUNS.
#
#   BENCH_SIZES="100000 1000000" RUNS=3 tests/bench/bench_syncd.sh [BUILD]
# Prints a markdown table on stdout; progress on stderr.
# PREV_SYNCD=PATH: also a previous rcptdir-syncd binary (e.g. an older commit's build) into a
# store of its own, in the same runs, alternating which goes first: full sync, no-change
# re-sync and peak heap of both, medians and ratios in a second table; and, with valgrind,
# each one's user-space instructions for one full sync and one re-sync (callgrind, whole
# process; BENCH_CG=0 skips it).
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
    sed "s|^path = .*|path = $work/pstore|" "$work/c.conf" >"$work/p.conf"
    rm -f "$work"/{ls,sy,re,pp,anon,anon_re} "$work"/{new,old}_{sy,re,anon,anon_re}
    for r in $(seq "$RUNS"); do
        if [ -n "${PREV_SYNCD:-}" ]; then
            order="new old"
            [ $((r % 2)) -eq 0 ] && order="old new"
            for who in $order; do
                echo "bench: $n entries, run $r, $who syncd" >&2
                if [ "$who" = new ]; then
                    bin=$top/$BUILD/rcptdir-syncd st=$work/store cf=$work/c.conf
                else
                    bin=$PREV_SYNCD st=$work/pstore cf=$work/p.conf
                fi
                rm -rf "$st"
                timed "$work/${who}_sy" "$bin" -d -c "$cf"
                timed "$work/${who}_re" "$bin" -d -c "$cf"
                rm -rf "$st"
                peak_anon "$bin" -d -c "$cf" >>"$work/${who}_anon"
                peak_anon "$bin" -d -c "$cf" >>"$work/${who}_anon_re"
            done
        fi
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
    if [ -n "${PREV_SYNCD:-}" ]; then
        for who in new old; do
            for f in sy re; do cut -d' ' -f1 "$work/${who}_$f" | tr '\n' ' ' >"$work/${who}_${f}_list"; done
        done
        {
            echo
            echo "This build's rcptdir-syncd against $PREV_SYNCD, $n entries, $RUNS runs each alternating which goes first (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end):"
            echo
            echo "| figure | this build: each run | median | previous: each run | median | ratio of medians (this / previous) |"
            echo "| --- | --- | ---: | --- | ---: | ---: |"
            for f in sy re rss anon anon_re; do
                case $f in
                sy) what="full sync (s)" src=sy col=1 div=1 ;;
                re) what="no-change re-sync (s)" src=re col=1 div=1 ;;
                rss) what="peak RSS incl. mapped store, full sync (MB)" src=sy col=2 div=1024 ;;
                anon) what="peak heap (RssAnon), full sync (MB)" src=anon col=1 div=1024 ;;
                anon_re) what="peak heap (RssAnon), re-sync (MB)" src=anon_re col=1 div=1024 ;;
                esac
                a=$(cut -d' ' -f"$col" "$work/new_$src" | awk -v d="$div" '{ printf "%.2f ", $1 / d }')
                b=$(cut -d' ' -f"$col" "$work/old_$src" | awk -v d="$div" '{ printf "%.2f ", $1 / d }')
                a=${a% } b=${b% }
                am=$(echo "$a" | tr ' ' '\n' | sed '/^$/d' | median)
                bm=$(echo "$b" | tr ' ' '\n' | sed '/^$/d' | median)
                awk -v w="$what" -v a="$a" -v b="$b" -v am="$am" -v bm="$bm" 'BEGIN {
                    printf "| %s | %s | %.2f | %s | %.2f | %.3f |\n", w, a, am, b, bm, (bm > 0 ? am / bm : 0) }'
            done
        } >>"$work/prev_table"
        if [ "${BENCH_CG:-1}" != 0 ] && command -v valgrind >/dev/null; then
            for who in new old; do
                if [ "$who" = new ]; then
                    bin=$top/$BUILD/rcptdir-syncd st=$work/store cf=$work/c.conf
                else
                    bin=$PREV_SYNCD st=$work/pstore cf=$work/p.conf
                fi
                rm -rf "$st"
                for f in full re; do
                    echo "bench: $n entries, $who syncd under callgrind ($f)" >&2
                    valgrind --tool=callgrind --callgrind-out-file="$work/cg.$who.$f" "$bin" -d -c "$cf" \
                        >/dev/null 2>&1 || echo "bench: $bin under valgrind failed" >&2
                    callgrind_annotate "$work/cg.$who.$f" 2>/dev/null |
                        awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' >"$work/ir.$who.$f"
                done
            done
            [ -n "${BENCH_KEEP_CG:-}" ] && mkdir -p "$BENCH_KEEP_CG" && cp "$work"/cg.new.* "$work"/cg.old.* "$BENCH_KEEP_CG"/
            {
                echo
                echo "User-space instructions of one run (callgrind, the whole process; the kernel's share not counted), $n entries:"
                echo
                echo "| run | this build | previous | ratio |"
                echo "| --- | ---: | ---: | ---: |"
                for f in full re; do
                    awk -v w="$f" -v a="$(cat "$work/ir.new.$f")" -v b="$(cat "$work/ir.old.$f")" 'BEGIN {
                        printf "| %s | %.0f | %.0f | %.3f |\n", (w == "full" ? "full sync" : "no-change re-sync"), a, b, (b > 0 ? a / b : 0) }'
                done
            } >>"$work/prev_table"
        fi
    fi
done
if [ -s "$work/prev_table" ]; then cat "$work/prev_table"; fi
