#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_*, SMPORT_*, PID_* are set by lookupd_start (tests/lib/lookupd.sh)
# edge_live.sh - edges follow the hub live (issue 15), real processes on loopback: a hub
# (rcptdir-syncd from an LDIF export, rcptdir-lookupd serving the feed with a token) and edges
# running rcptdir-syncd --watch with [sync] interval = 300, so only the long poll
# (GET /v1/changes?wait=) can bring a change within the deadlines below. A hub commit reaches an
# edge and a chained edge (hub -> edge -> edge); the hub's /v1/status lists its edges with their
# generations and flags one that stopped; the hub restarted while edges wait; a proxy that cuts
# held connections; 1000 waiting connections (tests/data/edge/longpoll.py) while socketmap and
# HTTP lookups go on; the waiters' own bound. Prints TAP. Needs curl, jq, python3, postfix.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

LP=$TOP/tests/data/edge/longpoll.py
printf 'feed-secret-%s\n' "$RANDOM$RANDOM" >"$T/feed.token"
chmod 600 "$T/feed.token"

# ldif N - an LDIF export with the users u1..uN @example.org
ldif() {
    local i
    for ((i = 1; i <= $1; i++)); do
        printf 'dn: uid=u%s,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: u%s\ncn: u%s\n' \
            "$i" "$i" "$i"
        printf 'sn: u\nmail: u%s@example.org\n\n' "$i"
    done
}
# hub_commit N - the hub's syncd commits the export with N users (a new generation)
hub_commit() {
    ldif "$1" >"$T/hub.ldif"
    timeout 60 "$SYNCD" -c "$T/hubsync.conf" -d 2>>"$T/hubsync.log"
}
# edge_start NAME URL [[upstream] lines] - an edge's syncd --watch into $T/NAME (pid in EPID_NAME)
edge_start() {
    local name=$1 url=$2 pid
    shift 2
    {
        printf '[store]\npath = %s\n[sync]\ninterval = 300\n[lookupd]\nuser =\n' "$T/$name"
        printf '[upstream]\nurl = %s\ntimeout = 5\nname = %s\n' "$url" "$name"
        printf 'token_file = %s\n' "$T/feed.token"
        for l in "$@"; do echo "$l"; done
    } >"$T/$name.sync.conf"
    "$SYNCD" -c "$T/$name.sync.conf" -d --watch 2>>"$T/$name.sync.log" &
    pid=$!
    PIDS+=("$pid")
    printf -v "EPID_$name" '%s' "$pid"
}
# gen_of STORE - the generation in a store's meta (0: none yet)
gen_of() {
    "$DUMP" -m "$1" 2>/dev/null | sed -n 's/^meta.*generation=\([0-9]*\).*/\1/p'
}
# at_gen STORE G - the store is at generation G
at_gen() { [ "$(gen_of "$1")" = "$2" ]; }
# answers_ok PORT ADDRESS - the lookupd on HTTP port PORT answers ADDRESS as valid
answers_ok() {
    curl -s "http://127.0.0.1:$1/v1/recipients/$2" | jq -e '.result == "valid"' >/dev/null
}
# edge_field NAME FIELD - FIELD of edge NAME in the hub's /v1/status edges list
edge_field() {
    curl -s "$HUBURL/v1/status" | jq -r --arg n "$1" ".edges[] | select(.name == \$n) | .$2"
}
# edge_is NAME FIELD VALUE - the hub's edges list says so
edge_is() { [ "$(edge_field "$1" "$2")" = "$3" ]; }
# records STORE - a digest of the address and domain records, byte for byte
records() {
    { mdb_dump -s addr "$1" && mdb_dump -s domain "$1"; } | sha256sum | cut -c1-16
}

# --- the hub ----------------------------------------------------------------------------------
printf '[store]\npath = %s\n[ldif]\npath = %s\n[lookupd]\nuser =\n' "$T/hub" "$T/hub.ldif" \
    >"$T/hubsync.conf"
require "hub: syncd commits generation 1 (20 users)" hub_commit 20
write_conf h "$T/hub" "feed_token_file = $T/feed.token" "edge_stale_after = 3"
require "hub: lookupd starts" lookupd_start h
HUBURL=http://127.0.0.1:$HTTPPORT_h
AUTH=(-H "Authorization: Bearer $(cat "$T/feed.token")")

# --- the long poll itself ---------------------------------------------------------------------
check_eq "wait=x: 400" 400 \
    "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$HUBURL/v1/changes?since=1&wait=x")"
t0=$(tap_now_us)
code=$(curl -s -o "$T/empty.bin" -w '%{http_code}' --max-time 10 "${AUTH[@]}" "$HUBURL/v1/changes?since=1&wait=1")
t1=$(tap_now_us)
check_eq "wait=1 with nothing new: 200 after the wait" 200 "$code"
check "  ... held about a second ($(((t1 - t0) / 1000)) ms), not answered at once" \
    test $((t1 - t0)) -ge 900000
check "  ... the same empty feed as without wait" cmp "$T/empty.bin" \
    <(curl -s "${AUTH[@]}" "$HUBURL/v1/changes?since=1")
curl -s -o "$T/held.bin" -w '%{http_code}' --max-time 20 "${AUTH[@]}" \
    "$HUBURL/v1/changes?since=1&wait=15" >"$T/held.code" &
HELD=$!
wait_until 5 sh -c "curl -s '$HUBURL/metrics' | grep -q '^rcptdir_feed_waiting 1\$'"
check "a held poll counts as waiting in /metrics (rcptdir_feed_waiting 1)" \
    sh -c "curl -s '$HUBURL/metrics' | grep -q '^rcptdir_feed_waiting 1\$'"
t0=$(tap_now_us)
hub_commit 21
wait_exit 10 "$HELD"
t1=$(tap_now_us)
check_eq "a commit answers the held poll: 200" 200 "$(cat "$T/held.code")"
check "  ... within 2 s of the commit ($(((t1 - t0) / 1000)) ms), not after its 15 s" \
    test $((t1 - t0)) -lt 2000000
"$BUILD/tools/feeddump" -k "$T/feed.token" <"$T/held.bin" >"$T/held.txt" 2>&1
check "  ... with the change (feeddump: header C 1 2, u21 added)" \
    sh -c "grep -q '^header C 1 2' '$T/held.txt' && grep -q 'u21@example.org' '$T/held.txt'"

check_eq "wait=S with the hub past since: answered at once, 200" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${AUTH[@]}" "$HUBURL/v1/changes?since=1&wait=30")"

# --- edges in --watch, and a chain --------------------------------------------------------------
edge_start edge_a "$HUBURL"
edge_start edge_c "$HUBURL" "wait = 2" # its held poll ends soon after it stops
check "edge_a takes the snapshot (generation 2)" wait_until 20 at_gen "$T/edge_a" 2
check "edge_c takes the snapshot (generation 2)" wait_until 20 at_gen "$T/edge_c" 2
write_conf a "$T/edge_a" "feed_token_file = $T/feed.token"
require "edge_a: lookupd starts" lookupd_start a
edge_start edge_b "http://127.0.0.1:$HTTPPORT_a"
check "edge_b (chained on edge_a) takes edge_a's snapshot" wait_until 20 at_gen "$T/edge_b" 2
write_conf b "$T/edge_b"
require "edge_b: lookupd starts" lookupd_start b
check "the hub lists edge_a and edge_c (not edge_b: it pulls from edge_a)" \
    test "$(curl -s "$HUBURL/v1/status" | jq -c '[.edges[].name | select(startswith("edge"))]')" = '["edge_a","edge_c"]'
edge_is_on_a() { curl -s "http://127.0.0.1:$HTTPPORT_a/v1/status" | jq -e '.edges[] | select(.name == "edge_b")' >/dev/null; }
check "edge_a lists edge_b" edge_is_on_a
# wait until both edges wait at the hub, so the next commit is a live one
wait_until 10 sh -c "curl -s '$HUBURL/metrics' | grep -q '^rcptdir_feed_waiting [2-9]'"
t0=$(tap_now_us)
hub_commit 22
check "a hub commit reaches edge_a's lookupd (interval 300: only the long poll can)" \
    wait_until 5 answers_ok "$HTTPPORT_a" u22@example.org
t1=$(tap_now_us)
check "  ... and the chained edge_b's lookupd" wait_until 5 answers_ok "$HTTPPORT_b" u22@example.org
t2=$(tap_now_us)
echo "# hub commit -> edge_a answers: $(((t1 - t0) / 1000)) ms, -> edge_b: $(((t2 - t0) / 1000)) ms"
check "  ... socketmap too (postmap -q u22@example.org on edge_b)" \
    test "$(postmap -q u22@example.org "socketmap:inet:127.0.0.1:$SMPORT_b:rcpt")" = u22@example.org
check "the hub's edges list: edge_a at generation 3" wait_until 5 edge_is edge_a generation 3
check "  ... edge_c at generation 3, lag 0" wait_until 5 edge_is edge_c lag_generations 0
check "  ... address 127.0.0.1, not stale" test "$(edge_field edge_a address)/$(edge_field edge_a stale)" = 127.0.0.1/false
check "/metrics: a lag gauge per edge" \
    sh -c "curl -s '$HUBURL/metrics' | grep -q '^rcptdir_edge_lag_generations{edge=\"edge_c\"} 0\$'"
kill "$EPID_edge_c"
wait "$EPID_edge_c"
hub_commit 23
check "edge_c stopped: the hub flags it stale after edge_stale_after (3 s)" \
    wait_until 15 edge_is edge_c stale true
check "  ... lag 1 generation, in /metrics too" \
    sh -c "[ \"\$(curl -s '$HUBURL/v1/status' | jq -r '.edges[] | select(.name == \"edge_c\") | .lag_generations')\" = 1 ] && curl -s '$HUBURL/metrics' | grep -q '^rcptdir_edge_stale{edge=\"edge_c\"} 1\$'"
check "  ... edge_a is not stale" wait_until 5 edge_is edge_a stale false
check "edge_a and edge_b have generation 4" wait_until 5 at_gen "$T/edge_b" 4

# --- the hub restarted while edges wait --------------------------------------------------------
wait_until 10 sh -c "curl -s '$HUBURL/metrics' | grep -q '^rcptdir_feed_waiting [1-9]'"
lookupd_stop h
hub_commit 24
"$LOOKUPD" -c "$T/h.conf" -d >>"$T/h.log" 2>&1 &
PID_h=$!
PIDS+=("$PID_h")
check "hub restarted on its port" wait_until 10 port_open "$HTTPPORT_h"
check "edge_a reconnects and gets the commit made while the hub was down" \
    wait_until 30 answers_ok "$HTTPPORT_a" u24@example.org
check "  ... and edge_b" wait_until 10 answers_ok "$HTTPPORT_b" u24@example.org
check "  ... nothing lost: edge_b's records = the hub's, byte for byte" \
    wait_until 5 sh -c "[ \"\$(cd / && { mdb_dump -s addr '$T/edge_b' && mdb_dump -s domain '$T/edge_b'; } | sha256sum)\" = \"\$({ mdb_dump -s addr '$T/hub' && mdb_dump -s domain '$T/hub'; } | sha256sum)\" ]"
check "  ... edge_a logged the failure and backed off" grep -q "next attempt in" "$T/edge_a.sync.log"

# --- a proxy that cuts held connections ---------------------------------------------------------
python3 "$LP" proxy "$T/proxy.port" "$HTTPPORT_h" 3 1 "$T/proxy.log" &
PIDS+=($!)
wait_until 5 test -s "$T/proxy.port"
edge_start edge_d "http://127.0.0.1:$(cat "$T/proxy.port")" "wait = 20"
check "edge_d behind the cutting proxy still takes the snapshot" wait_until 20 at_gen "$T/edge_d" 5
check "  ... its held polls were cut (twice at least)" wait_until 30 sh -c "[ \$(grep -c '^cut' '$T/proxy.log') -ge 2 ]"
check "  ... and it logged that and backed off" wait_until 5 grep -q "next attempt in" "$T/edge_d.sync.log"
hub_commit 25
check "  ... and a later commit still reaches it" wait_until 30 at_gen "$T/edge_d" 6
check "  ... its records = the hub's" test "$(records "$T/edge_d")" = "$(records "$T/hub")"

# --- 1000 waiting connections while lookups go on -----------------------------------------------
ulimit -n 4096 2>/dev/null
python3 "$LP" load 127.0.0.1 "$HTTPPORT_h" 1000 6 50 "$T/feed.token" "$T/load.out" &
LOAD=$!
PIDS+=("$LOAD")
check "1000 long polls wait at the hub (rcptdir_feed_waiting >= 1000)" \
    wait_until 30 sh -c "curl -s '$HUBURL/metrics' | awk '/^rcptdir_feed_waiting / { exit !(\$2 >= 1000) }'"
printf 'u%s@example.org\n' 1 2 3 25 >"$T/q.in"
check_eq "  ... socketmap lookups answer (postmap, 4 users)" "$(printf 'u%s@example.org\tu%s@example.org\n' 1 1 2 2 3 3 25 25)" \
    "$(postmap -q - "socketmap:inet:127.0.0.1:$SMPORT_h:rcpt" <"$T/q.in")"
check "  ... HTTP lookups answer (valid)" answers_ok "$HTTPPORT_h" u25@example.org
check_eq "  ... an unknown address: unknown" unknown \
    "$(curl -s "$HUBURL/v1/recipients/nobody@example.org" | jq -r .result)"
check_eq "  ... /v1/status: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$HUBURL/v1/status")"
snapshot_ok() { curl -s "${AUTH[@]}" "$HUBURL/v1/snapshot" | "$BUILD/tools/feeddump" -k "$T/feed.token" >/dev/null; }
check "  ... a snapshot still streams (a reader slot)" snapshot_ok
check "  ... the hub's syncd still commits (a reader slot for it)" hub_commit 26
check "the commit answers all 1000 waiters" wait_until 30 grep -q '^done' "$T/load.out"
check_eq "  ... each with 200 and a feed" 1000 "$(grep -c '^200 [0-9]* RCPTFEED' "$T/load.out")"
check "the edges table stayed bounded (load-0..load-66 named; edges_max 256)" \
    test "$(curl -s "$HUBURL/v1/status" | jq '.edges | length')" -le 256

# --- the waiters' own bound ---------------------------------------------------------------------
write_conf w "$T/hub" "feed_waiters = 2"
require "a second lookupd on the hub's store, feed_waiters = 2" lookupd_start w
for i in 1 2; do
    curl -s -o /dev/null --max-time 20 "http://127.0.0.1:$HTTPPORT_w/v1/changes?since=7&wait=10" &
    PIDS+=($!)
done
wait_until 5 sh -c "curl -s 'http://127.0.0.1:$HTTPPORT_w/metrics' | grep -q '^rcptdir_feed_waiting 2\$'"
check_eq "a third long poll: 503 (feed_waiters)" 503 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTPPORT_w/v1/changes?since=7&wait=10")"
check_eq "  ... a plain poll still answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTPPORT_w/v1/changes?since=7")"

done_testing
