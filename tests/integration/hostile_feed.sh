#!/bin/bash
# hostile_feed.sh - issue 14, point 1: stalled snapshot downloads must not stop syncs.
# 135 GET /v1/snapshot from 9 loopback addresses that never read (a store of 150,000
# addresses, so every stream stalls) while rcptdir-syncd runs: the sync succeeds, lookups
# over -q, socketmap and HTTP still answer, a stream past feed_streams gets 503 with
# Retry-After, and a stalled stream is cut after http_timeout (its connection is gone), as is
# one whose client reads a trickle (200 bytes a second).
# Before the fix each stream held an LMDB reader slot (126 by default): syncd exited 74
# (MDB_READERS_FULL) and -q 75. Prints TAP.
. "$(dirname "$0")/../data/lookupd/lib.sh"
. "$(dirname "$0")/../data/lookupd/hostile.sh"

STORE=$T/store
{
    cat "$TOP/schema/ldap/sample.expected"
    awk 'BEGIN { for (i = 1; i <= 150000; i++) printf "bulk%06d@example.org\tuser\tactive\tbulk%06d@example.org\n", i, i }'
} >"$T/big.txt"
require "a store of 150,037 addresses (mkstore)" "$MKSTORE" "$STORE" "$T/big.txt"
write_conf s "$STORE"
require "lookupd starts" lookupd_start s
HP=$HTTPPORT_s
GET='GET /v1/snapshot HTTP/1.1\r\nHost: hub\r\n\r\n'

for i in 2 3 4 5 6 7 8 9 10; do
    hostile_run "stall-$i" -r 2048 -f "127.0.0.$i" -s "$GET" 15 "inet:127.0.0.1:$HP"
done
check_eq "135 stalled snapshot GETs connected (9 addresses x 15)" 9 "$(hostile_ready 9 'stall-*')"
sleep 1 # let lookupd take the requests and start the streams
echo "# HTTP connections held: $(conns "$HP")"

cat >"$T/sync.conf" <<CONF
[store]
path = $STORE
[ldif]
path = $TOP/schema/ldap/sample.ldif
disabled_filter = (description=disabled)
[lookupd]
user =
CONF
timeout 60 "$SYNCD" -c "$T/sync.conf" -d --force >"$T/sync.out" 2>&1
rc=$?
check_eq "rcptdir-syncd succeeds while the snapshots stall (exit 0)" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   syncd: /' "$T/sync.out" | tail -5
"$LOOKUPD" -c "$T/s.conf" -q alice@example.org >"$T/q.out" 2>&1
check_eq "rcptdir-lookupd -q answers (exit 0)" 0 "$?"
check_eq "socketmap answers" "OK alice@example.org" \
    "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_s" | sm_replies | head -1)"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/v1/recipients/alice@example.org")
check_eq "HTTP /v1/recipients answers 200" 200 "$code"
code=$(curl -s -o /dev/null -D "$T/h503" -w '%{http_code}' "http://127.0.0.1:$HP/v1/snapshot")
check_eq "one more snapshot: 503 (feed_streams, default 16, all taken)" 503 "$code"
check "  ... with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/h503"
check "the refusals are logged, but rate limited" \
    test "$(grep -c 'feed streams\|streams already running' "$T/s.log")" -le 11
hostile_stop
for _ in $(seq 100); do [ "$(conns "$HP")" = 0 ] && break; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/v1/snapshot")
check_eq "after the stalled clients go, a snapshot streams again (200)" 200 "$code"
lookupd_stop s
check_eq "lookupd stops cleanly" 0 "$?"

# a stream whose client stops reading is cut after http_timeout (3 s here)
write_conf c "$STORE" "http_timeout = 3"
require "lookupd starts with http_timeout = 3" lookupd_start c
hostile_run cut -r 2048 -f 127.0.0.11 -s "$GET" 5 "inet:127.0.0.1:$HTTPPORT_c"
for _ in $(seq 50); do [ "$(conns "$HTTPPORT_c")" -ge 5 ] && break; sleep 0.1; done
check_eq "5 stalled streams open" 5 "$(conns "$HTTPPORT_c")"
for _ in $(seq 150); do [ "$(conns "$HTTPPORT_c")" = 0 ] && break; sleep 0.1; done
check_eq "  ... all cut within 15 s (http_timeout = 3)" 0 "$(conns "$HTTPPORT_c")"
hostile_stop
# a client that reads 200 bytes a second: a 150,000-address snapshot would take hours and hold
# its read transaction all the while. It is cut: by MHD's inactivity timeout when the kernel
# wakes the sender too seldom (a large send buffer, as on loopback), else by the sweeper
# (http.c), since the stream hands on no chunk within http_timeout
hostile_run trickle -r 2048 -t 200 -f 127.0.0.12 -s "$GET" 5 "inet:127.0.0.1:$HTTPPORT_c"
for _ in $(seq 50); do [ "$(conns "$HTTPPORT_c")" -ge 5 ] && break; sleep 0.1; done
check_eq "5 trickling streams open" 5 "$(conns "$HTTPPORT_c")"
for _ in $(seq 200); do [ "$(conns "$HTTPPORT_c")" = 0 ] && break; sleep 0.1; done
check_eq "  ... all cut within 20 s: no chunk taken within http_timeout" 0 "$(conns "$HTTPPORT_c")"
hostile_stop
lookupd_stop c
check_eq "lookupd stops cleanly" 0 "$?"
done_testing
