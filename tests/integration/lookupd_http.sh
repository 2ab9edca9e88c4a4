#!/bin/bash
# lookupd_http.sh - rcptdir-lookupd's HTTP routes with curl: /v1/recipients (200, 400, 401,
# 503), /v1/status (200, 503), /metrics, 404, 405, bad percent-encoding, a huge URL.
# The store is filled by the real rcptdir-syncd from a throwaway slapd loaded with
# schema/ldap/sample.ldif (issue 4, "Tests"); build/tools/mkstore writes only what a sync
# cannot produce: a stale and a never-synced store. Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

STORE=$T/store
require "slapd with schema/ldap/sample.ldif starts" slapd_up
check "rcptdir-syncd fills the store from slapd" sync_store "$STORE"
check "  ... generation 1: 37 addresses, 3 domains" synced "1: +37 ~0 -0 = 37 addresses, 3 domains"
printf 's3cret-token\n' >"$T/token"
chmod 600 "$T/token"
write_conf h "$STORE" "http_token_file = $T/token"
check "lookupd starts with a bearer token" lookupd_start h
URL=http://127.0.0.1:$HTTPPORT_h
AUTH=(-H "Authorization: Bearer s3cret-token")

# get PATH [curl options] - prints "STATUS BODY"
get() {
    local path=$1
    shift
    curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "$URL$path" >"$T/code"
    echo "$(cat "$T/code") $(cat "$T/body")"
}

# --- /v1/recipients ----------------------------------------------------------------------------
check_eq "valid: 200 and the JSON of design.md" \
    '200 {"address":"Alice+x@Example.org","generation":1,"key":"alice+x@example.org","kind":"user","primary":"alice@example.org","result":"valid"}' \
    "$(get /v1/recipients/Alice+x@Example.org "${AUTH[@]}")"
check "valid: Content-Type application/json" grep -qi '^Content-Type: application/json' "$T/headers"
check_eq "percent-encoded @: decoded" \
    '200 {"address":"alice@example.org","generation":1,"key":"alice@example.org","kind":"user","primary":"alice@example.org","result":"valid"}' \
    "$(get /v1/recipients/alice%40example.org "${AUTH[@]}")"
check_eq "group" \
    '200 {"address":"sales@example.com","generation":1,"key":"sales@example.com","kind":"group","primary":"sales@example.com","result":"valid"}' \
    "$(get /v1/recipients/sales@example.com "${AUTH[@]}")"
check_eq "catch-all" \
    '200 {"address":"who@example.net","generation":1,"key":"who@example.net","kind":"user","primary":"who@example.net","result":"valid"}' \
    "$(get /v1/recipients/who@example.net "${AUTH[@]}")"
check_eq "disabled: 200" \
    '200 {"address":"dave@example.com","generation":1,"key":"dave@example.com","kind":"user","primary":"dave@example.com","result":"disabled"}' \
    "$(get /v1/recipients/dave@example.com "${AUTH[@]}")"
check_eq "unknown: 200" \
    '200 {"address":"nobody@example.org","generation":1,"key":"nobody@example.org","kind":null,"primary":null,"result":"unknown"}' \
    "$(get /v1/recipients/nobody@example.org "${AUTH[@]}")"
check_eq "foreign: 200" \
    '200 {"address":"x@foreign.test","generation":1,"key":"x@foreign.test","kind":null,"primary":null,"result":"foreign"}' \
    "$(get /v1/recipients/x@foreign.test "${AUTH[@]}")"
check_eq "%2F is part of the address" \
    '200 {"address":"a/b@example.org","generation":1,"key":"a/b@example.org","kind":null,"primary":null,"result":"unknown"}' \
    "$(get /v1/recipients/a%2Fb@example.org "${AUTH[@]}")"
r=$(get /v1/recipients/not-an-address "${AUTH[@]}")
check_eq "malformed address: 400" "400" "${r%% *}"
check_eq "malformed address: JSON result invalid, error, detail" "invalid|malformed address|true" \
    "$(jq -r '[.result, .error, (.detail | length > 0)] | join("|")' "$T/body")"
for bad in 'a%zz@example.org' 'a%4' 'ali%00ce@example.org' 'a%0D%0Ab@example.org'; do
    r=$(get "/v1/recipients/$bad" "${AUTH[@]}")
    check_eq "bad encoding or control character ($bad): 400" "400" "${r%% *}"
done
check_eq "empty address: 400" '400 {"error":"missing address"}' "$(get /v1/recipients/ "${AUTH[@]}")"
huge=$(head -c 100000 /dev/zero | tr '\0' a)
r=$(get "/v1/recipients/$huge@example.org" "${AUTH[@]}")
check_eq "100 kB URL: 414" "414" "${r%% *}"
r=$(get "/v1/recipients/$(head -c 3000 /dev/zero | tr '\0' a)@example.org" "${AUTH[@]}")
check_eq "3 kB address: 400" "400" "${r%% *}"
check_eq "still answering after the huge URL" "200" "$(get /v1/recipients/alice@example.org "${AUTH[@]}" | cut -d' ' -f1)"

# --- bearer token ------------------------------------------------------------------------------
check_eq "no token: 401" '401 {"error":"bearer token required"}' "$(get /v1/recipients/alice@example.org)"
check "401 carries WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
check_eq "wrong token: 401" "401" "$(get /v1/recipients/alice@example.org -H 'Authorization: Bearer s3cret-tokeN' | cut -d' ' -f1)"
check_eq "token prefix only: 401" "401" "$(get /v1/recipients/alice@example.org -H 'Authorization: Bearer s3cret' | cut -d' ' -f1)"
check_eq "basic auth: 401" "401" "$(get /v1/recipients/alice@example.org -u a:b | cut -d' ' -f1)"

# --- other routes, methods -----------------------------------------------------------------------
check_eq "unknown route: 404 JSON" '404 {"error":"not found"}' "$(get /v1/nothing)"
check_eq "/v1/recipients without a slash: 404" "404" "$(get /v1/recipients | cut -d' ' -f1)"
check_eq "POST: 405" '405 {"error":"method not allowed"}' "$(get /v1/status -X POST -d x=1)"
check "405 carries Allow" grep -qi '^Allow: GET, HEAD' "$T/headers"
check_eq "DELETE: 405" "405" "$(get /v1/recipients/alice@example.org -X DELETE "${AUTH[@]}" | cut -d' ' -f1)"
check_eq "HEAD: 200" "200" "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/v1/status")"

# --- /v1/status ----------------------------------------------------------------------------------
r=$(get /v1/status)
check_eq "status healthy: 200" "200" "${r%% *}"
for f in '"generation":1' '"stale":false' '"status":"ok"' '"last_result":"ok"' '"last_error":""' \
    "\"source\":\"$LDAP_URI dc=example,dc=org\"" '"version":"' '"counts":{"addresses":37,' '"domains":3' '"age":' \
    '"last_success":' '"last_attempt":' '"max_age":86400'; do
    check "status has $f" grep -qF "$f" "$T/body"
done

# --- /metrics ------------------------------------------------------------------------------------
for i in 1 2 3; do get /v1/recipients/nobody@example.org "${AUTH[@]}" >/dev/null; done
get /metrics >"$T/metrics.txt"
check "metrics: 200" grep -q '^200 ' "$T/metrics.txt"
check "metrics: Content-Type text/plain; version=0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/headers"
check "metrics: http unknown lookups counted" grep -q '^rcptdir_lookups_total{map="http",result="unknown"} [1-9]' "$T/body"
for name in 'rcptdir_lookups_total{map="rcpt",result="valid"}' 'rcptdir_lookup_duration_seconds_bucket{le="+Inf"}' \
    rcptdir_lookup_duration_seconds_sum rcptdir_lookup_duration_seconds_count 'rcptdir_store_generation 1' \
    rcptdir_store_age_seconds 'rcptdir_connections_open{listener="socketmap"}' \
    'rcptdir_connections_open{listener="http"}' 'rcptdir_store_stale 0' rcptdir_sockmap_perm_total \
    '# TYPE rcptdir_lookup_duration_seconds histogram'; do
    check "metrics: $name" grep -qF "$name" "$T/body"
done
# every sample line parses as NAME{LABELS} VALUE, every family has a TYPE before its samples
bad=$(grep -v '^#' "$T/body" | grep -Evc '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInf]+$')
check_eq "metrics: every sample line well-formed" "0" "$bad"

# --- stale, never synced, no store ---------------------------------------------------------------
# mkstore: a sync always leaves a fresh store, so only mkstore can write one last synced
# 200000 s ago (same addresses, next generation, backdated last_success)
"$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "stale unknown: 503 tempfail" \
    '503 {"address":"nobody@example.org","generation":2,"key":"nobody@example.org","kind":null,"primary":null,"reason":"store stale","result":"tempfail"}' \
    "$(get /v1/recipients/nobody@example.org "${AUTH[@]}")"
check_eq "stale valid: 200" "200" "$(get /v1/recipients/alice@example.org "${AUTH[@]}" | cut -d' ' -f1)"
check_eq "stale disabled: 200" "200" "$(get /v1/recipients/dave@example.com "${AUTH[@]}" | cut -d' ' -f1)"
check_eq "stale foreign: 200" "200" "$(get /v1/recipients/x@foreign.test "${AUTH[@]}" | cut -d' ' -f1)"
r=$(get /v1/status)
check_eq "status stale: 503" "503" "${r%% *}"
check "status stale: stale true" grep -qF '"stale":true' "$T/body"
check "metrics: stale 1" grep -q '^rcptdir_store_stale 1' <<<"$(curl -s "$URL/metrics")"
# mkstore: syncd never writes a store that was never synced successfully
"$MKSTORE" --never "$STORE" "$TOP/schema/ldap/sample.expected"
r=$(get /v1/status)
check_eq "status never synced: 503" "503" "${r%% *}"
check "status never synced: says so" grep -qF '"status":"never synced"' "$T/body"
check_eq "never synced: valid address 503" "503" "$(get /v1/recipients/alice@example.org "${AUTH[@]}" | cut -d' ' -f1)"

write_conf n "$T/nostore"
check "lookupd starts without a store" lookupd_start n
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$HTTPPORT_n/v1/status")
check_eq "no store: status 503" "503" "${r##* }"
check "no store: status never synced" grep -qF '"status":"never synced"' <<<"$r"
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$HTTPPORT_n/v1/recipients/alice@example.org")
check_eq "no store: lookup 503 never synced" \
    '{"address":"alice@example.org","generation":0,"key":"alice@example.org","kind":null,"primary":null,"reason":"store never synced","result":"tempfail"} 503' "$r"
check "first sync by syncd creates the store" sync_store "$T/nostore"
# status_is CODE - /v1/status of lookupd n answers CODE
status_is() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_n/v1/status")" = "$1" ]
}
wait_until 30 status_is 200
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$HTTPPORT_n/v1/status")
check_eq "store appears: status 200 without restart" "200" "${r##* }"
# keep-alive: two lookups in one curl run share one TCP connection
r=$(curl -sv "$URL/v1/recipients/alice@example.org" "$URL/v1/recipients/bob@example.com" 2>&1)
check "HTTP/1.1 keep-alive: the second request reuses the connection" \
    grep -q "Re-using existing connection" <<<"$r"
lookupd_stop n
check_eq "lookupd n: SIGTERM exit 0" "0" "$?"
lookupd_stop h
check_eq "lookupd h: SIGTERM exit 0" "0" "$?"
done_testing
