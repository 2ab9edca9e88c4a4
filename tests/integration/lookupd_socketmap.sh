#!/bin/bash
# lookupd_socketmap.sh - rcptdir-lookupd's socketmap server against Postfix's own client
# (postmap -q), raw malformed input, idle connections, freshness after a real sync,
# staleness and a store that appears after start-up. The store is filled by the real
# rcptdir-syncd from a throwaway slapd loaded with schema/ldap/sample.ldif (issue 4, "Tests");
# build/tools/mkstore writes only what a sync cannot produce: a stale and a never-synced
# store. Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

STORE=$T/store
require "slapd with schema/ldap/sample.ldif starts" slapd_up
check "rcptdir-syncd fills the store from slapd" sync_store "$STORE"
check "  ... generation 1: 37 addresses, 3 domains" synced "1: +37 ~0 -0 = 37 addresses, 3 domains"
write_conf a "$STORE"

check_eq "-n prints configuration OK" "configuration OK" "$("$LOOKUPD" -c "$T/a.conf" -n 2>&1)"
check "lookupd starts" lookupd_start a
SM=inet:127.0.0.1:$SMPORT_a
UX=unix:$T/a.sock

# --- golden sets through Postfix's client, batch over TCP and over the Unix socket ------------
for map in rcpt access domain; do
    got=$(postmap -q - "socketmap:$SM:$map" <"$DATA/$map.in" 2>&1)
    check_eq "postmap -q - socketmap:inet:...:$map matches $map.ref" "$(cat "$DATA/$map.ref")" "$got"
    got=$(postmap -q - "socketmap:$UX:$map" <"$DATA/$map.in" 2>&1)
    check_eq "postmap -q - socketmap:unix:...:$map matches $map.ref" "$(cat "$DATA/$map.ref")" "$got"
    # every request in one write: several requests in one read, exact reply texts
    got=$(netstrings "$map" <"$DATA/$map.in" | "$RAW" -w "$SM" | sm_replies)
    want=$(cut -f2 "$DATA/$map.raw.ref"; echo "[closed]")
    check_eq "$map: pipelined requests answered in order, exact replies" "$want" "$got"
done

# --- single keys with postmap -q KEY --------------------------------------------------------
check_eq "postmap -q valid" "alice@example.org" "$(postmap -q 'Alice+Tag@Example.ORG' "socketmap:$SM:rcpt")"
postmap -q nobody@example.org "socketmap:$SM:rcpt" >"$T/out" 2>&1
check_eq "postmap -q unknown: exit 1, no output" "1:" "$?:$(cat "$T/out")"
check_eq "postmap -q access unknown" "550 5.1.1 User unknown" "$(postmap -q nobody@example.org "socketmap:$SM:access")"
check_eq "postmap -q access disabled" "550 5.2.1 Mailbox disabled" "$(postmap -q dave@example.com "socketmap:$SM:access")"
postmap -q x@foreign.test "socketmap:$SM:access" >"$T/out" 2>&1
check_eq "postmap -q access foreign: NOTFOUND" "1:" "$?:$(cat "$T/out")"

# --- framing -----------------------------------------------------------------------------------
check_eq "request split over many reads" "OK alice@example.org" \
    "$(printf '22:rcpt alice@example.org,' | "$RAW" -b -t 1 "$SM" | sm_replies | head -1)"
check_eq "half-close: answer, then close (Exim readsocket)" "$(printf 'OK alice@example.org\n[closed]')" \
    "$(printf '22:rcpt alice@example.org,' | "$RAW" -w "$SM" | sm_replies)"
check_eq "connection stays open without EOF" "$(printf 'OK alice@example.org\n[open]')" \
    "$(printf '22:rcpt alice@example.org,' | "$RAW" -t 1 "$SM" | sm_replies)"
check_eq "key with CR LF: NOTFOUND" "NOTFOUND " \
    "$(printf '15:rcpt a\r\nb@x.org,' | "$RAW" -w "$SM" | sm_replies | head -1)"
check_eq "key with NUL: NOTFOUND" "NOTFOUND " \
    "$(printf '23:rcpt alice\0@example.org,' | "$RAW" -w "$SM" | sm_replies | head -1)"

# --- malformed input: PERM and close, while another client keeps being answered -------------
exec 3<>"/dev/tcp/127.0.0.1/$SMPORT_a"
exec 4<>"/dev/tcp/127.0.0.1/$SMPORT_a"
printf '9999:rcpt slow' >&4 # a hostile client that never finishes its request
check_eq "persistent client answered" "OK alice@example.org" "$(sm_query 3 rcpt alice@example.org)"
while IFS='|' read -r desc bytes want; do
    got=$(printf "$bytes" | "$RAW" -t 3 "$SM" | sm_replies | tr '\n' '|')
    check_eq "malformed ($desc): $want and close" "$want|[closed]|" "$got"
    check_eq "  ... other client still answered" "OK bob@example.org" "$(sm_query 3 rcpt bob@example.org)"
done <<'CASES'
non-digit length|x:rcpt a,|PERM netstring length is not a number
overflowing length|99999999999999999999999:rcpt a,|PERM request too long
missing comma|22:rcpt alice@example.org;|PERM netstring length and data disagree
length mismatch|5:rcpt alice@example.org,|PERM netstring length and data disagree
no colon|22;rcpt alice@example.org,|PERM netstring length not followed by a colon
empty netstring|0:,|PERM empty request
100 MB claim|100000000:rcpt |PERM request too long
unknown map|11:nomap a@b.c,|PERM unknown map name
no map name|9:alice@x.y,|PERM malformed request: no space after the map name
CASES
got=$(printf '22:rcpt alice@example.org,5:rcpt' | "$RAW" -w "$SM" | sm_replies | tr '\n' '|')
check_eq "truncated by EOF: answers, then PERM" "OK alice@example.org|PERM netstring truncated by end of input|[closed]|" "$got"
big=$(head -c 20000 /dev/zero | tr '\0' a)
check_eq "request over 10000 bytes: PERM" "PERM request too long" \
    "$(printf '20005:rcpt %s,' "$big" | "$RAW" "$SM" | sm_replies | head -1)"
long=$(head -c 2000 /dev/zero | tr '\0' a)@example.org
check_eq "over-long key within the limit: NOTFOUND" "NOTFOUND " \
    "$(echo "$long" | netstrings rcpt | "$RAW" -w "$SM" | sm_replies | head -1)"
check_eq "hostile half-request did not block the server" "OK alice@example.org" "$(sm_query 3 rcpt alice@example.org)"
exec 4>&-

# --- 1000 idle connections -------------------------------------------------------------------
"$IDLE" 1000 "$SM" >"$T/idle.out" 2>&1 &
idlepid=$!
PIDS+=("$idlepid")
wait_until 30 file_has "$T/idle.out" '^ready'
check_eq "1000 idle connections open" "ready 1000" "$(grep '^ready' "$T/idle.out")"
start=$(date +%s%N)
got=$(postmap -q - "socketmap:$SM:rcpt" <"$DATA/rcpt.in" 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "lookups answered with 1000 idle connections open ($ms ms)" "$(cat "$DATA/rcpt.ref")" "$got"
check_eq "persistent client answered with 1000 idle connections" "OK alice@example.org" "$(sm_query 3 rcpt alice@example.org)"
open=$(curl -s "http://127.0.0.1:$HTTPPORT_a/metrics" | sed -n 's/^rcptdir_connections_open{listener="socketmap"} //p')
check "metrics count the open connections ($open >= 1000)" test "${open:-0}" -ge 1000
kill "$idlepid"; wait "$idlepid" 2>/dev/null

# --- a real sync while lookupd runs: a new user is answered, a deleted one is gone -----------
newdn=uid=newuser,ou=people,dc=example,dc=org
postmap -q newuser@example.org "socketmap:$SM:rcpt" >"$T/out" 2>&1
check_eq "before: newuser@example.org not found (exit 1, no output)" "1:" "$?:$(cat "$T/out")"
ldap_root ldapadd -f "$DATA/add-newuser.ldif"
check_eq "ldapadd (rootdn) adds $newdn" "0" "$?"
check "syncd picks up the new user" sync_store "$STORE"
check "  ... generation 2: +1, 38 addresses" synced "2: +1 ~0 -0 = 38 addresses"
check_eq "postmap -q newuser@example.org answers without restarting lookupd" "newuser@example.org" \
    "$(postmap -q newuser@example.org "socketmap:$SM:rcpt" 2>&1)"
check_eq "  ... with +tag and in upper case" "newuser@example.org" \
    "$(postmap -q NewUser+x@EXAMPLE.org "socketmap:$SM:rcpt" 2>&1)"
check_eq "  ... on a connection open since before the sync" "OK newuser@example.org" "$(sm_query 3 rcpt newuser@example.org)"
check_eq "  ... access map: DUNNO" "DUNNO" "$(postmap -q newuser@example.org "socketmap:$SM:access" 2>&1)"
check "  ... same lookupd process" kill -0 "$PID_a"
ldap_root ldapdelete "$newdn"
check_eq "ldapdelete (rootdn) removes $newdn" "0" "$?"
check "syncd removes the user (1 of 38 addresses, within max_delete_ratio)" sync_store "$STORE"
check "  ... generation 3: -1, 37 addresses" synced "3: +0 ~0 -1 = 37 addresses"
postmap -q newuser@example.org "socketmap:$SM:rcpt" >"$T/out" 2>&1
check_eq "postmap -q newuser@example.org: NOTFOUND again (exit 1, no output)" "1:" "$?:$(cat "$T/out")"
check_eq "  ... on the open connection too" "NOTFOUND " "$(sm_query 3 rcpt newuser@example.org)"
check_eq "  ... access map: 550 5.1.1" "550 5.1.1 User unknown" "$(postmap -q newuser@example.org "socketmap:$SM:access" 2>&1)"
check_eq "golden rcpt set unchanged after add and delete" "$(cat "$DATA/rcpt.ref")" \
    "$(postmap -q - "socketmap:$SM:rcpt" <"$DATA/rcpt.in" 2>&1)"

# --- staleness -------------------------------------------------------------------------------
# mkstore: a sync always leaves a fresh store, so only mkstore can write one last synced
# 200000 s ago (same addresses, backdated last_success)
"$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "stale: unknown gets TEMP" "TEMP store stale" "$(sm_query 3 rcpt nobody@example.org)"
check_eq "stale: known still OK" "OK alice@example.org" "$(sm_query 3 rcpt alice@example.org)"
check_eq "stale: access unknown gets TEMP" "TEMP store stale" "$(sm_query 3 access nobody@example.org)"
check_eq "stale: disabled stays 550 5.2.1" "OK 550 5.2.1 Mailbox disabled" "$(sm_query 3 access dave@example.com)"
check_eq "stale: foreign stays NOTFOUND" "NOTFOUND " "$(sm_query 3 access x@foreign.test)"
check_eq "stale: domain map still answers" "OK example.org" "$(sm_query 3 domain example.org)"
postmap -q nobody@example.org "socketmap:$SM:rcpt" >"$T/out" 2>&1
rc=$?
check "stale: postmap reports a query error, not 'not found'" grep -q "query error" "$T/out"
check "a real sync makes the store fresh again" sync_store "$STORE"
check_eq "fresh again: unknown is NOTFOUND" "NOTFOUND " "$(sm_query 3 rcpt nobody@example.org)"
check_eq "fresh again: known OK" "OK alice@example.org" "$(sm_query 3 rcpt alice@example.org)"
# mkstore: syncd never writes a store that was never synced successfully
"$MKSTORE" --never "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "never synced: even a known address gets TEMP" "TEMP store never synced" "$(sm_query 3 rcpt alice@example.org)"
check_eq "never synced: domain map TEMP" "TEMP store never synced" "$(sm_query 3 domain example.org)"
exec 3>&-

# --- no store at start-up: TEMP, then the store appears: OK without restart ----------------
write_conf b "$T/later"
check "lookupd starts without a store" lookupd_start b
check_eq "no store: TEMP never synced" "TEMP store never synced" \
    "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_b" | sm_replies | head -1)"
check "first sync by syncd creates the store" sync_store "$T/later"
wait_until 30 sm_answers "$SMPORT_b" rcpt alice@example.org "OK alice@example.org"
check_eq "store created later: OK without restart" "OK alice@example.org" \
    "$(sm_ask "$SMPORT_b" rcpt alice@example.org)"
lookupd_stop b
check_eq "SIGTERM: clean exit 0" "0" "$?"
check "log says stopped" grep -q "lookupd: stopped" "$T/b.log"

# --- admin query ------------------------------------------------------------------------------
check "a real sync repairs the never-synced store" sync_store "$STORE"
out=$("$LOOKUPD" -c "$T/a.conf" -q Alice+x@Example.org)
check_eq "-q valid: exit 0" "0" "$?"
check "-q prints the JSON" grep -q '"result":"valid"' <<<"$out"
"$LOOKUPD" -c "$T/a.conf" -q nobody@example.org >/dev/null
check_eq "-q unknown: exit 1" "1" "$?"
"$LOOKUPD" -c "$T/a.conf" -q dave@example.com >/dev/null
check_eq "-q disabled: exit 1" "1" "$?"
# mkstore: stale (see above)
"$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
"$LOOKUPD" -c "$T/a.conf" -q nobody@example.org >/dev/null
check_eq "-q stale unknown: exit 75" "75" "$?"

# --- privileges, pid file ---------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    chmod -R a+rwX "$STORE"
    write_conf c "$STORE" "user = nobody" "pid_file = $T/c.pid"
    check "lookupd starts as root with user = nobody" lookupd_start c
    uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$PID_c/status")
    nuid=$(id -u nobody)
    check_eq "dropped to nobody (real, effective, saved, fs uid)" "$nuid$nuid$nuid$nuid" "$uid"
    check_eq "pid file written" "$PID_c" "$(cat "$T/c.pid" 2>/dev/null)"
    check_eq "answers after dropping privileges" "OK alice@example.org" \
        "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_c" | sm_replies | head -1)"
    lookupd_stop c
    check_eq "stops cleanly" "0" "$?"
else
    skip "privilege drop and pid file" "not root or no user nobody"
fi

# --- SIGHUP reopens the log ----------------------------------------------------------------------
# Without -d lookupd logs to syslog. It runs (as nobody) in a private mount namespace whose
# /dev/log is a socket of ours (tests/lib/syslog.sh). That socket is moved away and a new one
# takes its place, as when the syslog daemon restarts: lookupd's lines keep going to the old
# one until SIGHUP, and after it to the new one.
# bad_request PORT - a malformed request, which lookupd answers with PERM and logs
bad_request() {
    printf 'x:rcpt a,' | "$RAW" -t 3 "inet:127.0.0.1:$1" >/dev/null 2>&1
}
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
    skip "SIGHUP reopens the log" "not root or no user nobody"
elif ! syslog_ns_start; then
    skip "SIGHUP reopens the log" "no private mount namespace here (unshare -m)"
else
    require "a syslog socket at the namespace's /dev/log" syslog_sink old
    write_conf s "$STORE" "user = nobody"
    # s_ready PID - lookupd PID logged that it is ready, or has exited
    s_ready() { file_has "$T/old.syslog" "rcptdir-lookupd\\[$1\\]: .*lookupd: ready" || gone "$1"; }
    for _ in 1 2 3 4 5; do # other ports when one was taken meanwhile
        sp=$(free_port)
        sed -e "s/@SMPORT@/$sp/" -e "s/@HTTPPORT@/$(free_port)/" "$T/s.conf.in" >"$T/s.conf"
        in_syslog_ns "$LOOKUPD" -c "$T/s.conf" >"$T/s.log" 2>&1 &
        spid=$!
        PIDS+=("$spid")
        wait_until 30 s_ready "$spid"
        running "$spid" || ! file_has "$T/old.syslog" "rcptdir-lookupd\\[$spid\\]: .*in use" || continue
        break
    done
    check "lookupd without -d logs \"ready\" to syslog" \
        file_has "$T/old.syslog" "rcptdir-lookupd\\[$spid\\]: .*lookupd: ready"
    check_eq "  ... it runs as nobody" "$(id -u nobody)" "$(awk '/^Uid:/ { print $3 }' "/proc/$spid/status")"
    syslog_move_away
    require "a new syslog socket in place of the old one" syslog_sink new
    bad_request "$sp"
    check "after the move, before SIGHUP: lookupd still logs to the old socket" \
        wait_until 10 file_has "$T/old.syslog" 'sockmap: '
    kill -HUP "$spid"
    check "SIGHUP: \"log reopened\" arrives at the new socket" \
        wait_until 10 file_has "$T/new.syslog" 'lookupd: SIGHUP, log reopened'
    check "  ... and not at the old one" test -z "$(grep 'SIGHUP' "$T/old.syslog")"
    bad_request "$sp"
    check "  ... later lines too" wait_until 10 file_has "$T/new.syslog" 'sockmap: '
    check_eq "  ... lookupd still answers" "OK alice@example.org" \
        "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$sp" | sm_replies | head -1)"
    kill -TERM "$spid"
    wait_exit 30 "$spid"
    check_eq "  ... SIGTERM: exit 0" 0 "$?"
    check "  ... \"stopped\" at the new socket" file_has "$T/new.syslog" 'lookupd: stopped'
fi

# --- idle timeout (the smallest allowed, 11 s, just above Postfix's own 10 s) ---------------
write_conf d "$STORE" "idle_timeout = 11"
check "lookupd starts with idle_timeout = 11" lookupd_start d
t0=$(tap_now_us)
"$IDLE" 5 "inet:127.0.0.1:$SMPORT_d" >"$T/idle-d.out" 2>&1 &
idlepid=$!
PIDS+=("$idlepid")
check "5 idle connections open" wait_until 30 file_has "$T/idle-d.out" '^ready 5$'
check_eq "  ... and not in the way" "OK alice@example.org" "$(sm_ask "$SMPORT_d" rcpt alice@example.org)"
check "idle connections closed after idle_timeout" wait_until 60 file_has "$T/idle-d.out" '^closed 5$'
secs=$((($(tap_now_us) - t0) / 1000000))
check "  ... not before it: after $secs s (idle_timeout = 11)" test "$secs" -ge 10
kill "$idlepid"; wait "$idlepid" 2>/dev/null
lookupd_stop d
check_eq "lookupd d: SIGTERM exit 0" "0" "$?"

lookupd_stop a
check_eq "lookupd a: SIGTERM exit 0" "0" "$?"
done_testing
