#!/bin/bash
# hostile_http.sh - issue 14, points 2, 4 and 5 on the HTTP side: a slowloris from 5
# loopback addresses (60 slow requests each) while /v1/status still answers a sixth; a
# request dripped one byte a second is cut by the whole-request deadline
# (http_request_timeout, 10 s) although it is never inactive; unknown-address answers are
# rate limited per client (429 with Retry-After) while another client is not; lookupd
# refuses to listen off loopback with a route that has no token unless allow_open = yes.
# Before the fix 4 addresses took all 256 slots (64 each), the 30 s timeout counted
# inactivity only, and /v1/recipients answered ~4,600 guesses a second. Prints TAP.
. "$(dirname "$0")/../data/lookupd/lib.sh"
. "$(dirname "$0")/../data/lookupd/hostile.sh"

STORE=$T/store
require "a store of the sample directory (mkstore)" "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"

# --- off loopback without tokens: refused, with the key that allows it ----------------------
printf '[store]\npath = %s\n[lookupd]\nhttp_listen = 0.0.0.0:8642\nuser =\n' "$STORE" >"$T/open.conf"
out=$("$LOOKUPD" -c "$T/open.conf" -n 2>&1)
check_eq "http_listen = 0.0.0.0 without tokens: -n exits 78" 78 "$?"
check "  ... the error names allow_open and the token files" \
    grep -q "http_token_file and feed_token_file are empty.*allow_open = yes" <<<"$out"
echo "$out" | sed 's/^/#   /'
printf 'allow_open = yes\n' >>"$T/open.conf"
check_eq "  ... allow_open = yes: configuration OK" "configuration OK" "$("$LOOKUPD" -c "$T/open.conf" -n 2>&1)"

write_conf h "$STORE"
require "lookupd starts" lookupd_start h
HP=$HTTPPORT_h
URL=http://127.0.0.1:$HP

# --- slowloris: 5 addresses x 60 requests that never finish -----------------------------------
for i in 2 3 4 5 6; do
    hostile_run "slow-$i" -f "127.0.0.$i" -s 'GET /v1/status HTTP/1.1\r\nHost: x\r\n' -d 1 60 \
        "inet:127.0.0.1:$HP"
done
check_eq "5 slow clients connected" 5 "$(hostile_ready 5 'slow-*')"
sleep 1
echo "# connections lookupd holds: $(conns "$HP")"
code=$(curl -s -m 5 -o "$T/status" -w '%{http_code}' "$URL/v1/status")
check_eq "/v1/status answers a sixth address during the slowloris" 200 "$code"
check "  ... at most 16 connections kept from one address (per-client limit)" \
    test "$(conns "$HP" 127.0.0.2)" -le 16
hostile_stop
check "MHD's messages about it are rate limited (at most 11 'http:' lines)" \
    test "$(grep -c 'warning: http:' "$T/h.log")" -le 11

# --- one byte a second: never inactive, but cut by the whole-request deadline ------------------
hostile_run drip -f 127.0.0.7 -s 'GET /v1/status HTTP/1.1\r\n' -d 1 1 "inet:127.0.0.1:$HP"
hostile_ready 1 drip >/dev/null
for _ in $(seq 200); do grep -qx 'closed 1' "$T/drip.out" && break; sleep 0.1; done
check "a request dripped one byte a second is cut within 20 s (http_request_timeout 10)" \
    grep -qx 'closed 1' "$T/drip.out"
hostile_stop
check "  ... logged" grep -q "no whole request within 10 s" "$T/h.log"

# --- harvesting: unknown answers per client are rate limited ---------------------------------
urls=()
for i in $(seq 100); do urls+=("$URL/v1/recipients/guess$i@example.org"); done
# bodies, and after each its code and Retry-After on a line of their own
curl -s -w '\n%{http_code} %header{retry-after}\n' "${urls[@]}" >"$T/guess.codes"
ok200=$(grep -c '^200 $' "$T/guess.codes")
n429=$(grep -c '^429 ' "$T/guess.codes")
echo "# 100 guesses on one connection: $ok200 answered, $n429 refused with 429"
check "100 guesses at once: at most 80 answered (http_unknown_rate 20/s, burst 40)" test "$ok200" -le 80
check "  ... the rest 429 (at least 20)" test "$n429" -ge 20 -a $((ok200 + n429)) -eq 100
check_eq "  ... each with Retry-After" "$n429" "$(grep -c '^429 [0-9]' "$T/guess.codes")"
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.8 "$URL/v1/recipients/nobody@example.org")
check_eq "another client still gets its unknown answer (200)" 200 "$code"
lookupd_stop h
check_eq "lookupd stops cleanly" 0 "$?"
done_testing
