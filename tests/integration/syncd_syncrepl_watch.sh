#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_*, SMPORT_* are set by lookupd_start (tests/lib/lookupd.sh)
# syncd_syncrepl_watch.sh -- syncrepl --watch against a real slapd with syncprov (issue 13):
#   - a hung provider: slapd stopped with SIGSTOP (alive for TCP, so keepalive cannot tell)
#     is noticed within [ldap] persist_probe + timeout, /v1/status says the persist
#     connection is down, and after SIGCONT syncd reconnects, resumes from the cookie and a
#     change made then goes live; the store equals a fresh paged sync, key by key;
#   - a mass delete that trickles in one ldapdelete at a time (each persist batch alone far
#     below max_delete_ratio) is held back once the deletes within [sync] delete_window pass
#     it, while an add still goes live; --force applies the rest (the store equals a fresh
#     paged sync); cron runs add their deletes up the same way (exit 65 once past it);
#   - the window as stored: buckets ("v2 END BASE REMOVED ..."); a store from the previous
#     release, whose fixed window "START BASE REMOVED" still counts; a value that is not a
#     window is read as none (logged) and refuses nothing;
#   - --watch from an empty store: after the first (full) refresh, an add and a delete are
#     applied as changes, with no failed run.
# Prints TAP.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

# conf FILE STORE - the syncrepl configuration of this test (persist_probe 2 s, timeout 3 s);
# RATIO and WINDOW ([sync] delete_window), set for the call, override 0.2 and 3600
conf() {
    TIMEOUT=3 SYNC_LINES="delete_window = ${WINDOW:-3600}" sr_conf "$1" "$2" syncrepl \
        "persist_probe = 2"
}

# same DESC - a fresh paged full sync of the directory gives $S, key by key
same() { sr_same "$1" "$S"; }

# status_has ERE - lookupd's /v1/status matches ERE (for wait_until)
status_has() {
    curl -s "http://127.0.0.1:$HTTPPORT_live/v1/status" >"$W/status.json" &&
        grep -Eq -- "$1" "$W/status.json"
}

# metrics_has ERE - lookupd's /metrics has a line matching ERE (for wait_until)
metrics_has() {
    curl -s "http://127.0.0.1:$HTTPPORT_live/metrics" >"$W/metrics" &&
        grep -Eq -- "$1" "$W/metrics"
}

# watch_start - syncd --watch on $W/sr.conf, its log in $W/watch.log (appended)
watch_start() {
    "$SYNCD" -c "$W/sr.conf" -d --watch >>"$W/watch.log" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
}

# watch_stop DESC - SIGTERM; --watch exits 0
watch_stop() {
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$wpid"
    wait "$wpid"
    check_eq "$1: --watch exits 0 on SIGTERM" 0 "$?"
}

if ! command -v mdb_dump >/dev/null || ! command -v mdb_load >/dev/null; then
    skip_all "mdb_dump, mdb_load (lmdb-utils) not installed"
fi

D=$W/ldap
S=$W/sr
TEST_SLAPD_SYNCPROV='' slapd_start "$D" || {
    done_testing
    exit 1
}
secret "$W/pw" "$(envget "$D" LDAP_BIND_PW)"
pid=$(envget "$D" SLAPD_PID)
for i in $(seq 1 20); do sr_user "bulk$i" "bulk$i@example.org"; done | ldap_do "$D" ldapadd
conf "$W/sr.conf" "$S"
run_syncd "$W/sr.conf"
check_rc "first refresh: exit 0" 0
write_conf live "$S"
require "lookupd started" lookupd_start live

# ---------------------------------------------------------------- a hung provider
: >"$W/watch.log"
watch_start
sr_user live1 live1@example.org | ldap_do "$D" ldapadd
check "persist: ldapadd -> lookupd OK within 5 s" \
    wait_until 5 sm_answers "$SMPORT_live" rcpt live1@example.org "OK live1@example.org"
check "persist: status says the persist connection is up" wait_until 5 status_has '"persist": *true'
check "persist: /metrics rcptdir_sync_persist_up 1" metrics_has '^rcptdir_sync_persist_up 1$'
check "persist: /metrics has the last change's time" \
    metrics_has '^rcptdir_sync_last_change_timestamp_seconds [1-9][0-9]*$'
kill -STOP "$pid"
t0=$EPOCHREALTIME
# persist_probe 2 s + timeout 3 s, polled once a second: 7 s; 20 s leaves room for a loaded host
check "hung provider (SIGSTOP): noticed within the probe window" \
    wait_until 20 grep -q "is hung: no answer to a probe" "$W/watch.log"
echo "# hung provider noticed after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
check "hung provider: status says the persist connection is down" \
    wait_until 5 status_has '"persist": *false'
check "hung provider: /metrics rcptdir_sync_persist_up 0" metrics_has '^rcptdir_sync_persist_up 0$'
check "hung provider: syncd still runs" running "$wpid"
kill -CONT "$pid"
sr_user live2 live2@example.org | ldap_do "$D" ldapadd
check "slapd resumed: syncd reconnects, an add made after it is answered OK within 30 s" \
    wait_until 30 sm_answers "$SMPORT_live" rcpt live2@example.org "OK live2@example.org"
check "slapd resumed: status says the persist connection is up again" \
    wait_until 10 status_has '"persist": *true'
check "slapd resumed: nothing refused or held back" bash -c "! grep -Eq 'held back|refused' '$W/watch.log'"
watch_stop "hung provider"
same "hung provider, resumed"
for u in live1 live2; do # the change log: one record per address and net change in a sync
    check_eq "hung provider: $u's add applied once (one change log record)" 1 \
        "$(mdb_dump -p -s log "$S" | grep -c "^ +.*$u@example.org")"
done

# ---------------------------------------------------------------- deletes that trickle in
# max_delete_ratio such that two deletes of one address each pass and the third does not:
# each persist batch alone (one address) stays far below it
n=$("$DUMP" "$S" | grep -vc '^domain	')
RATIO=$(awk -v n="$n" 'BEGIN { printf "%.4f", 2.5 / n }')
echo "# $n addresses; max_delete_ratio $RATIO"
conf "$W/sr.conf" "$S"
watch_start
for i in 1 2; do
    ldap_do "$D" ldapdelete "uid=bulk$i,ou=people,dc=example,dc=org"
    check "window: delete $i (of one address) applied alone" \
        wait_until 10 sm_answers "$SMPORT_live" rcpt "bulk$i@example.org" "NOTFOUND "
done
for i in 3 4 5 6 7 8; do
    ldap_do "$D" ldapdelete "uid=bulk$i,ou=people,dc=example,dc=org"
    [ "$i" = 3 ] && check "window: the third delete passes the ratio within the window: held back" \
        wait_until 15 grep -q "held back" "$W/watch.log"
done
check_grep "window: the refusal names delete_window" "$W/watch.log" "within delete_window"
check "window: status says refused" wait_until 5 status_has '"last_result": *"refused"'
printf 'dn: uid=alice,ou=people,dc=example,dc=org\nchangetype: modify\ndelete: mailLocalAddress\nmailLocalAddress: alice.smith@example.org\n' |
    ldap_do "$D" ldapmodify
check "window: during the hold a modify that removes one alias still applies" \
    wait_until 10 sm_answers "$SMPORT_live" rcpt alice.smith@example.org "NOTFOUND "
sr_user hired hired@example.org | ldap_do "$D" ldapadd
check "window: an add still goes live" \
    wait_until 10 sm_answers "$SMPORT_live" rcpt hired@example.org "OK hired@example.org"
for i in 3 8; do
    check "window: bulk$i's address held (still OK)" \
        sm_answers "$SMPORT_live" rcpt "bulk$i@example.org" "OK bulk$i@example.org"
done
curl -s "http://127.0.0.1:$HTTPPORT_live/metrics" >"$W/metrics"
check_grep "window: the refusals counted in /metrics" "$W/metrics" '^rcptdir_sync_refusals_total [1-9]'
watch_stop "window"
run_syncd "$W/sr.conf"
check_rc "window: a cron run after it is still refused, exit 65" 65
run_syncd "$W/sr.conf" --force
check_rc "window: --force applies the held deletes, exit 0" 0
check "window: --force: bulk8 gone" bash -c "! '$DUMP' '$S' | grep -q '^bulk8@'"
same "window, after --force"

# cron runs: one delete each, the third past the ratio within the window
rcs=()
for i in 9 10 11; do
    ldap_do "$D" ldapdelete "uid=bulk$i,ou=people,dc=example,dc=org"
    run_syncd "$W/sr.conf"
    cp "$ERR" "$W/cron$i.err"
    rcs+=("$RC")
done
check_eq "cron window: exit 0, 0, then 65" "0 0 65" "${rcs[*]}"
check "cron window: the first two deletes applied" \
    bash -c "! '$DUMP' '$S' | grep -Eq '^bulk(9|10)@'"
check_grep "cron window: the third run refused within delete_window" "$W/cron11.err" \
    "within delete_window"
check "cron window: bulk11 held" bash -c "'$DUMP' '$S' | grep -q '^bulk11@'"
run_syncd "$W/sr.conf"
check_rc "cron window: the next run is refused again, exit 65" 65
WINDOW=0 conf "$W/sr0.conf" "$S"
run_syncd "$W/sr0.conf"
check_rc "cron window: delete_window = 0 checks each sync alone, exit 0" 0
same "cron window, delete_window = 0"

# the stored window: buckets, here bulk9's and bulk10's (delete_window = 0 left it alone)
mdb_dump -p -s meta "$S" | grep -A1 '^ delete_window$' | tail -n 1 >"$W/window.txt"
check_grep "stored window: buckets, v2 END BASE REMOVED ..." "$W/window.txt" \
    '^ v2( [0-9]+ [0-9]+ [0-9]+)+$'
# a store from the previous release: its fixed window, 2 removed, opened 100 s ago
sr_set_meta "$S" delete_window "$(($(date +%s) - 100)) $n 2"
ldap_do "$D" ldapdelete "uid=bulk12,ou=people,dc=example,dc=org"
run_syncd "$W/sr.conf"
check_rc "old window: its 2 removals count, a third is refused, exit 65" 65
check_grep "old window: the refusal adds them up" "$ERR" \
    "with this sync's 1, 3 addresses removed within delete_window"
# a value that is not a window: none, logged; the delete goes through
sr_set_meta "$S" delete_window "not a window"
run_syncd "$W/sr.conf"
check_rc "junk window: read as none, the delete applied, exit 0" 0
check_grep "junk window: logged" "$ERR" "delete_window value is not a delete window"
check "junk window: bulk12 gone" bash -c "! '$DUMP' '$S' | grep -q '^bulk12@'"
same "junk window"

# ---------------------------------------------------------------- --watch from an empty store
# the first refresh (no cookie) goes through the full-directory driver; the persist batches
# after it must go through the change driver
conf "$W/sr2.conf" "$W/sr2"
"$SYNCD" -c "$W/sr2.conf" -d --watch >"$W/watch2.log" 2>&1 &
w2=$!
PIDS+=("$w2")
check "empty store, --watch: the first refresh commits" \
    wait_until 30 grep -q "syncrepl: initial refresh" "$W/watch2.log"
sr_user fresh1 fresh1@example.org | ldap_do "$D" ldapadd
check "empty store, --watch: an ldapadd after the first refresh is stored within 10 s" \
    wait_until 10 bash -c "'$DUMP' '$W/sr2' | grep -q '^fresh1@example.org'"
ldap_do "$D" ldapdelete uid=fresh1,ou=people,dc=example,dc=org
check "empty store, --watch: an ldapdelete after it is applied within 10 s" \
    wait_until 10 bash -c "! '$DUMP' '$W/sr2' | grep -q '^fresh1@example.org'"
check "empty store, --watch: no run failed" bash -c "! grep -q 'sync failed' '$W/watch2.log'"
kill -TERM "$w2"
wait "$w2"
check_eq "empty store, --watch: exits 0 on SIGTERM" 0 "$?"
sr_same "empty store, --watch" "$W/sr2"

# every batch's cookie was committed with it: none had to be read again (sr_committed)
check "every --watch batch was committed: none read again" \
    bash -c "! grep -h 'not committed to the store' '$W/watch.log' '$W/watch2.log'"
cat "$W/watch.log" "$W/watch2.log" >>"$W/syncd.log"
done_testing
