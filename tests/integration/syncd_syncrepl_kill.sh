#!/bin/bash
# syncd_syncrepl_kill.sh -- slapd killed (SIGKILL) in the middle of a syncrepl refresh
# (issue 13): a store synced from a small directory is pointed at a provider of 20000 more
# entries with no cookie, so its cron run does a full refresh; slapd is killed once syncd has
# read the first part of it (its bytes read, /proc/PID/io, past a threshold: the kill lands
# after entries arrived and before the end). The run exits 75 and the store is byte for byte
# what it was: nothing from that refresh was committed. Then slapd is started again and the
# next run completes: the store equals a fresh paged sync. Prints TAP.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

N=${SR_KILL_ENTRIES:-20000}

# rchar PID - bytes the process has read so far (0 when gone); no fork, for a tight loop
rchar() {
    local k v n=0
    while read -r k v; do
        [ "$k" = rchar: ] && n=$v
    done <"/proc/$1/io" 2>/dev/null
    echo "$n"
}

if ! command -v mdb_load >/dev/null; then
    skip_all "mdb_load (lmdb-utils) not installed"
fi

# the store: a full sync of the sample directory, then its cookie dropped (a full refresh next)
D=$W/small
slapd_start "$D" || {
    done_testing
    exit 1
}
secret "$W/pw" "$(envget "$D" LDAP_BIND_PW)"
sr_conf "$W/sr.conf" "$W/sr" syncrepl
run_syncd "$W/sr.conf"
check_rc "the small directory: exit 0" 0
"$TOP/scripts/test-slapd" stop "$D" >/dev/null
printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n sync_cookie\n \nDATA=END\n' |
    mdb_load -s meta "$W/sr"
dump "$W/sr" "$W/before"

# the big directory: the sample and N more entries
awk -v n="$N" 'BEGIN {
    for (i = 1; i <= n; i++)
        printf "dn: uid=big%d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n" \
            "objectClass: inetLocalMailRecipient\nuid: big%d\ncn: big%d\nsn: big\n" \
            "mail: big%d@example.org\nmailLocalAddress: b%d@example.com\n\n", i, i, i, i, i
}' >"$W/big.ldif"
D=$W/big
slapd_start "$D" "$TOP/schema/ldap/sample.ldif" "$W/big.ldif" || {
    done_testing
    exit 1
}
sr_conf "$W/sr.conf" "$W/sr" syncrepl
pid=$(envget "$D" SLAPD_PID)

"$SYNCD" -c "$W/sr.conf" -d >"$W/kill.out" 2>"$W/kill.err" &
spid=$! # syncd itself (not under timeout: its reads are counted per process)
PIDS+=("$spid")
base=$(rchar "$spid")
# past 400 kB read (about a tenth of the refresh): the first entries are in, most are not
until [ "$(($(rchar "$spid") - base))" -gt 400000 ] || ! running "$spid"; do sleep 0.01; done
got=$(($(rchar "$spid") - base))
kill -KILL "$pid"
wait_exit 60 "$spid"
RC=$?
ERR=$W/kill.err
cat "$ERR" >>"$W/syncd.log"
echo "# syncd had read $got bytes when slapd was killed"
check "the kill landed mid-refresh (syncd had read entries)" test "$got" -gt 400000
check_rc "slapd killed mid-refresh: exit 75" 75
grep 'sync failed' "$ERR" | sed 's/^/# /'
check_grep "slapd killed mid-refresh: the reason" "$ERR" "sync failed, store unchanged: .*(Can't contact|refresh at)"
dump "$W/sr" "$W/after"
check_same "slapd killed mid-refresh: the store is unchanged, nothing committed" \
    "$W/before" "$W/after"

"$TOP/scripts/test-slapd" start "$D" >/dev/null
sr_conf "$W/sr.conf" "$W/sr" syncrepl # the port may have changed
run_syncd "$W/sr.conf"
check_rc "slapd started again: the full refresh completes, exit 0" 0
check_grep "slapd started again: a full refresh" "$ERR" "initial refresh"
sr_same "slapd started again" "$W/sr"

done_testing
