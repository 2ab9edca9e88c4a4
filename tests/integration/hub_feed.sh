#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_h, _b, _f are set by lookupd_start (tests/lib/lookupd.sh)
# hub_feed.sh - the hub half of edge replication (issue 5, "Hub"): rcptdir-lookupd's
# /v1/snapshot and /v1/changes with curl, decoded by build/tools/feeddump. The store is
# filled by the real rcptdir-syncd from a throwaway slapd (schema/ldap/sample.ldif); the
# snapshot must hold exactly what build/tools/dumpstore shows; ETag / If-None-Match; a change
# feed after an ldapadd + re-sync; empty feed, 400, 410; the feed token; a flipped byte;
# gzip content coding (Accept-Encoding negotiation, Vary, per-representation ETags).
# Prints TAP. Needs slapd, ldap-utils, curl, gzip (`make tests` first).
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

FEEDDUMP=$BUILD/tools/feeddump
DUMPSTORE=$BUILD/tools/dumpstore
STORE=$T/store
require "slapd with schema/ldap/sample.ldif starts" slapd_up
check "rcptdir-syncd fills the store from slapd" sync_store "$STORE"
check "  ... generation 1: 37 addresses, 3 domains" synced "1: +37 ~0 -0 = 37 addresses, 3 domains"
write_conf h "$STORE"
check "lookupd starts (no feed token)" lookupd_start h
URL=http://127.0.0.1:$HTTPPORT_h

# fetch PATH OUT [curl options] - body into OUT, headers into $T/headers; prints the status
fetch() {
    local path=$1 out=$2
    shift 2
    curl -s -o "$out" -D "$T/headers" -w '%{http_code}' "$@" "$URL$path"
}
# header NAME - the value of a response header in $T/headers
header() {
    grep -i "^$1:" "$T/headers" | head -1 | sed -e 's/^[^:]*: *//' -e 's/\r$//'
}
# decode FEED OUT - feeddump FEED into OUT (stderr into OUT.err)
decode() {
    "$FEEDDUMP" <"$1" >"$2" 2>"$2.err"
}

# --- /v1/snapshot --------------------------------------------------------------------------------
check_eq "snapshot: 200" 200 "$(fetch /v1/snapshot "$T/snap1.bin")"
check_eq "snapshot: ETag \"g1\"" '"g1"' "$(header ETag)"
check_eq "snapshot: Content-Type application/octet-stream" application/octet-stream \
    "$(header Content-Type)"
check_eq "snapshot without Accept-Encoding: no Content-Encoding, Vary: Accept-Encoding" \
    "/Accept-Encoding" "$(header Content-Encoding)/$(header Vary)"
check "snapshot: decodes (count and checksum verify)" decode "$T/snap1.bin" "$T/snap1.txt"
check_eq "snapshot: header S from 0 to 1" "header S 0 1" "$(head -1 "$T/snap1.txt")"
"$DUMPSTORE" -e "$STORE" >"$T/store1.txt"
check_eq "snapshot: A records = the store's addresses (dumpstore)" \
    "$(grep -v -e '^domain	' -e '^entry	' "$T/store1.txt")" \
    "$(grep '^A	' "$T/snap1.txt" | cut -f2-)"
check_eq "snapshot: 37 addresses" 37 "$(grep -c '^A	' "$T/snap1.txt")"
check_eq "snapshot: M records = the store's managed domains" \
    "$(grep '^domain	' "$T/store1.txt" | cut -f2 | sed 's/$/	d/')" \
    "$(grep '^M	' "$T/snap1.txt" | cut -f2-)"
check_eq "snapshot: no E records (entry ids stay on the hub)" 0 "$(grep -c '^E	' "$T/snap1.txt")"
check_eq "snapshot: trailer counts every record" \
    "end $(grep -c '^[AEM]	' "$T/snap1.txt")" "$(tail -1 "$T/snap1.txt")"
rm -f "$T/body"
check_eq "If-None-Match \"g1\": 304" 304 \
    "$(fetch /v1/snapshot "$T/body" -H 'If-None-Match: "g1"')"
check_eq "304: empty body, ETag \"g1\"" '0 "g1"' "$(stat -c %s "$T/body" 2>/dev/null || echo 0) $(header ETag)"
check_eq "If-None-Match \"g0\": 200" 200 "$(fetch /v1/snapshot "$T/body" -H 'If-None-Match: "g0"')"
check "HEAD /v1/snapshot: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/v1/snapshot")" = 200

# --- gzip content coding -------------------------------------------------------------------------
# gzip is chosen by the request's Accept-Encoding; each representation has its own ETag
check_eq "snapshot, curl --compressed: 200" 200 "$(fetch /v1/snapshot "$T/snapz.bin" --compressed)"
check_eq "  ... Content-Encoding: gzip, Vary: Accept-Encoding, ETag \"g1-gz\"" \
    'gzip/Accept-Encoding/"g1-gz"' "$(header Content-Encoding)/$(header Vary)/$(header ETag)"
check "  ... decompressed: byte-identical to the identity body" cmp "$T/snapz.bin" "$T/snap1.bin"
check "  ... decompressed: decodes" decode "$T/snapz.bin" "$T/snapz.txt"
check_eq "Accept-Encoding: gzip: 200" 200 \
    "$(fetch /v1/snapshot "$T/snap1.gz" -H 'Accept-Encoding: gzip')"
check "  ... a gzip stream (gzip -t)" gzip -t "$T/snap1.gz"
check "  ... gunzip gives the identity body" cmp <(gzip -dc "$T/snap1.gz") "$T/snap1.bin"
check "  ... smaller: $(wc -c <"$T/snap1.gz") < $(wc -c <"$T/snap1.bin") bytes" \
    test "$(wc -c <"$T/snap1.gz")" -lt "$(wc -c <"$T/snap1.bin")"
check "  ... the same bytes every time" cmp <(curl -s -H 'Accept-Encoding: gzip' "$URL/v1/snapshot") \
    "$T/snap1.gz"
# coding AE - the Content-Encoding (or "identity") and ETag the snapshot gets with Accept-Encoding AE
coding() {
    local st ce ae
    # curl drops a header given as "Name:" with no value; "Name;" sends it empty
    if [ -n "$1" ]; then ae="Accept-Encoding: $1"; else ae="Accept-Encoding;"; fi
    st=$(fetch /v1/snapshot "$T/neg.bin" -H "$ae" "${@:2}")
    ce=$(header Content-Encoding)
    echo "$st ${ce:-identity} $(header ETag)"
}
check_eq "Accept-Encoding: gzip;q=0: identity" '200 identity "g1"' "$(coding 'gzip;q=0')"
check "  ... the identity body" cmp "$T/neg.bin" "$T/snap1.bin"
check_eq "Accept-Encoding: gzip ; Q=0.000, br: identity" '200 identity "g1"' \
    "$(coding 'gzip ; Q=0.000, br')"
check_eq "Accept-Encoding: br, GZip;q=0.5: gzip" '200 gzip "g1-gz"' "$(coding 'br, GZip;q=0.5')"
check_eq "Accept-Encoding: x-gzip: gzip" '200 gzip "g1-gz"' "$(coding 'x-gzip')"
check_eq "Accept-Encoding: *: gzip" '200 gzip "g1-gz"' "$(coding '*')"
check_eq "Accept-Encoding: *;q=0: identity" '200 identity "g1"' "$(coding '*;q=0')"
check_eq "Accept-Encoding: gzip;q=0, *: identity (gzip named, so * does not cover it)" \
    '200 identity "g1"' "$(coding 'gzip;q=0, *')"
check_eq "Accept-Encoding: identity, gzip;q=0.5: identity (preferred)" '200 identity "g1"' \
    "$(coding 'identity, gzip;q=0.5')"
check_eq "Accept-Encoding: identity;q=0.5, gzip: gzip" '200 gzip "g1-gz"' \
    "$(coding 'identity;q=0.5, gzip')"
check_eq "Accept-Encoding: gzip;q=2 (not a qvalue): identity" '200 identity "g1"' \
    "$(coding 'gzip;q=2')"
check_eq "Accept-Encoding: gzipped, deflate: identity" '200 identity "g1"' \
    "$(coding 'gzipped, deflate')"
check_eq "Accept-Encoding empty: identity" '200 identity "g1"' "$(coding '')"
check_eq "two Accept-Encoding fields (br, then gzip): gzip" '200 gzip "g1-gz"' \
    "$(coding br -H 'Accept-Encoding: gzip')"
rm -f "$T/body"
check_eq "--compressed, If-None-Match \"g1-gz\": 304" 304 \
    "$(fetch /v1/snapshot "$T/body" --compressed -H 'If-None-Match: "g1-gz"')"
check_eq "  ... empty body, ETag \"g1-gz\", Vary, not compressed" \
    '0 "g1-gz" Accept-Encoding /' \
    "$(stat -c %s "$T/body" 2>/dev/null || echo 0) $(header ETag) $(header Vary) /$(header Content-Encoding)"
check_eq "--compressed, If-None-Match \"g1\" (the identity tag): 200 gzip" '200 gzip' \
    "$(fetch /v1/snapshot "$T/body" --compressed -H 'If-None-Match: "g1"') $(header Content-Encoding)"
check_eq "no gzip, If-None-Match \"g1-gz\" (the gzip tag): 200" 200 \
    "$(fetch /v1/snapshot "$T/body" -H 'If-None-Match: "g1-gz"')"
check_eq "--compressed, If-None-Match \"g0\", W/\"g1-gz\": 304 (a list, weak comparison)" 304 \
    "$(fetch /v1/snapshot "$T/body" --compressed -H 'If-None-Match: "g0", W/"g1-gz"')"
check_eq "If-None-Match \"g1-gz\", \"g1\": 304 either way" "304 304" \
    "$(fetch /v1/snapshot "$T/body" -H 'If-None-Match: "g1-gz", "g1"') $(fetch /v1/snapshot \
        "$T/body" --compressed -H 'If-None-Match: "g1-gz", "g1"')"
check_eq "If-None-Match *: 304" 304 "$(fetch /v1/snapshot "$T/body" -H 'If-None-Match: *')"
check_eq "HEAD --compressed: 200, Content-Encoding gzip, ETag \"g1-gz\"" '200 gzip "g1-gz"' \
    "$(fetch /v1/snapshot /dev/null -I --compressed) $(header Content-Encoding) $(header ETag)"
check_eq "changes since=1 (up to date), --compressed: 200, not compressed (77 bytes), Vary" \
    "200  Accept-Encoding" \
    "$(fetch '/v1/changes?since=1' "$T/cz.bin" --compressed) $(header Content-Encoding) $(header Vary)"
decode "$T/cz.bin" "$T/cz.txt"
check_eq "  ... an empty change feed from 1 to 1" "$(printf 'header C 1 1\nend 0')" \
    "$(cat "$T/cz.txt")"
check_eq "since=99, --compressed: 409, not compressed" "409 /" \
    "$(fetch '/v1/changes?since=99' "$T/body" -H 'Accept-Encoding: gzip') /$(header Content-Encoding)"
check "  ... JSON error" quiet jq -e '.error | test("newer")' "$T/body"

# --- flipped byte --------------------------------------------------------------------------------
cp "$T/snap1.bin" "$T/flip.bin"
# byte 40 is inside the first record's key (32 header + 5 record head + 2 key length)
printf '\x01' | dd of="$T/flip.bin" bs=1 seek=40 conv=notrunc status=none
if ! decode "$T/flip.bin" "$T/flip.txt" && grep -q 'checksum' "$T/flip.txt.err"; then
    ok "a flipped byte: feeddump fails with the checksum error"
else
    not_ok "a flipped byte: feeddump fails with the checksum error"
    sed 's/^/#   /' "$T/flip.txt.err"
fi
head -c $(($(wc -c <"$T/snap1.bin") - 10)) "$T/snap1.bin" >"$T/cut.bin"
if ! decode "$T/cut.bin" "$T/cut.txt" && grep -q . "$T/cut.txt.err"; then
    ok "a snapshot cut short: feeddump fails"
else
    not_ok "a snapshot cut short: feeddump fails"
fi

# --- /v1/changes ---------------------------------------------------------------------------------
check_eq "changes since=1 at generation 1: 200" 200 "$(fetch '/v1/changes?since=1' "$T/c.bin")"
check_eq "  ... Content-Type application/octet-stream" application/octet-stream \
    "$(header Content-Type)"
decode "$T/c.bin" "$T/c.txt"
check_eq "  ... an empty change feed from 1 to 1" "$(printf 'header C 1 1\nend 0')" "$(cat "$T/c.txt")"
check_eq "since=99 (the reader is ahead): 409" 409 "$(fetch '/v1/changes?since=99' "$T/body")"
check "  ... JSON error" quiet jq -e '.error | test("newer")' "$T/body"
check_eq "since=0 (below the log floor after the first sync): 410" 410 \
    "$(fetch '/v1/changes?since=0' "$T/body")"
check "  ... JSON error saying a snapshot is needed" quiet jq -e '.error | test("snapshot")' "$T/body"
check_eq "since missing: 400" 400 "$(fetch /v1/changes "$T/body")"
check_eq "since=abc: 400" 400 "$(fetch '/v1/changes?since=abc' "$T/body")"
check_eq "since=-1: 400" 400 "$(fetch '/v1/changes?since=-1' "$T/body")"

ldap_root ldapadd <<'EOF'
dn: uid=nina,ou=people,dc=example,dc=org
objectClass: top
objectClass: inetOrgPerson
uid: nina
cn: Nina Lopez
sn: Lopez
mail: Nina@Example.ORG
EOF
check_eq "ldapadd of a new user" 0 $?
check "rcptdir-syncd re-syncs" sync_store "$STORE"
check "  ... generation 2: +1" synced "2: +1 ~0 -0 = 38 addresses"
check_eq "changes since=1: 200" 200 "$(fetch '/v1/changes?since=1' "$T/c2.bin")"
check "  ... decodes" decode "$T/c2.bin" "$T/c2.txt"
check_eq "  ... from 1 to 2, exactly the '+' of the new address" \
    "$(printf 'header C 1 2\n+\tnina@example.org\tuser\tactive\tnina@example.org\nend 1')" \
    "$(cat "$T/c2.txt")"
check_eq "changes since=2: 200" 200 "$(fetch '/v1/changes?since=2' "$T/c3.bin")"
decode "$T/c3.bin" "$T/c3.txt"
check_eq "  ... an empty change feed from 2 to 2" "$(printf 'header C 2 2\nend 0')" "$(cat "$T/c3.txt")"
check_eq "since=3: 409" 409 "$(fetch '/v1/changes?since=3' "$T/body")"
check_eq "since=0 still 410" 410 "$(fetch '/v1/changes?since=0' "$T/body")"
check_eq "snapshot at generation 2: ETag \"g2\"" '200 "g2"' \
    "$(fetch /v1/snapshot "$T/snap2.bin" -H 'If-None-Match: "g1"') $(header ETag)"
decode "$T/snap2.bin" "$T/snap2.txt"
check_eq "  ... from 0 to 2 with 38 addresses" "header S 0 2 38" \
    "$(head -1 "$T/snap2.txt") $(grep -c '^A	' "$T/snap2.txt")"
check "  ... holds the new address" grep -q '^A	nina@example.org	user	active	nina@example.org$' "$T/snap2.txt"
check_eq "changes since=1 at 2, gzip: 200 gzip" "200 gzip" \
    "$(fetch '/v1/changes?since=1' "$T/c2z.bin" --compressed) $(header Content-Encoding)"
check "  ... the same bytes as identity" cmp "$T/c2z.bin" "$T/c2.bin"
check_eq "snapshot at 2, If-None-Match \"g1-gz\", gzip: 200, ETag \"g2-gz\"" '200 "g2-gz"' \
    "$(fetch /v1/snapshot "$T/body" --compressed -H 'If-None-Match: "g1-gz"') $(header ETag)"

# --- a snapshot of many chunks (the stream resumes after the last key it sent) ---------------
for i in $(seq 30000); do
    printf 'user%05d@big.example\tuser\tactive\tuser%05d@big.example\n' "$i" "$i"
done >"$T/big.txt"
"$MKSTORE" --generation 5 "$T/big" "$T/big.txt"
write_conf b "$T/big"
check "lookupd on a 30000-address store starts" lookupd_start b
check_eq "30000 addresses: 200" 200 \
    "$(curl -s -o "$T/big.bin" -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_b/v1/snapshot")"
check "  ... decodes" decode "$T/big.bin" "$T/big.dump"
check_eq "  ... $(wc -c <"$T/big.bin" | tr -d ' ') bytes, exactly the store's addresses, in order" \
    "$("$DUMPSTORE" "$T/big" | grep -v '^domain	')" "$(grep '^A	' "$T/big.dump" | cut -f2-)"
check_eq "30000 addresses, gzip: 200 gzip" "200 gzip" \
    "$(curl -s -o "$T/big.gz" -D "$T/headers" -w '%{http_code}' -H 'Accept-Encoding: gzip' \
        "http://127.0.0.1:$HTTPPORT_b/v1/snapshot") $(header Content-Encoding)"
check "  ... $(wc -c <"$T/big.gz" | tr -d ' ') bytes, gunzip gives the identity body (many chunks)" \
    cmp <(gzip -dc "$T/big.gz") "$T/big.bin"
check "  ... less than a quarter of the identity size" \
    test $(($(wc -c <"$T/big.gz") * 4)) -lt "$(wc -c <"$T/big.bin")"
check_eq "  ... curl --compressed: byte-identical to the identity body" "" \
    "$(curl -s --compressed "http://127.0.0.1:$HTTPPORT_b/v1/snapshot" | cmp - "$T/big.bin" 2>&1)"
check "lookupd on the big store stops" lookupd_stop b

# --- feed token ----------------------------------------------------------------------------------
check "lookupd stops" lookupd_stop h
printf 'feed-s3cret\n' >"$T/feedtoken"
chmod 600 "$T/feedtoken"
write_conf f "$STORE" "feed_token_file = $T/feedtoken"
check "lookupd starts with a feed token" lookupd_start f
URL=http://127.0.0.1:$HTTPPORT_f
check_eq "snapshot without a token: 401" 401 "$(fetch /v1/snapshot "$T/body")"
check "  ... JSON error, WWW-Authenticate: Bearer" \
    bash -c "jq -e .error '$T/body' >/dev/null && grep -qi '^WWW-Authenticate: Bearer' '$T/headers'"
check_eq "snapshot with a wrong token: 401" 401 \
    "$(fetch /v1/snapshot "$T/body" -H 'Authorization: Bearer feed-s3creT')"
check_eq "changes without a token: 401" 401 "$(fetch '/v1/changes?since=1' "$T/body")"
check_eq "changes with a wrong token: 401" 401 \
    "$(fetch '/v1/changes?since=1' "$T/body" -H 'Authorization: Bearer nope')"
check_eq "snapshot with the token: 200" 200 \
    "$(fetch /v1/snapshot "$T/snap3.bin" -H 'Authorization: Bearer feed-s3cret')"
check "  ... keyed with the token: decodes with it (feeddump -k)" \
    sh -c "'$FEEDDUMP' -k '$T/feedtoken' <'$T/snap3.bin' >'$T/snap3.txt'"
check "  ... a byte of the trailer changed: the HMAC does not verify" \
    sh -c "{ head -c -1 '$T/snap3.bin'; printf x; } | '$FEEDDUMP' -k '$T/feedtoken' 2>&1 | grep -q 'HMAC mismatch'"
check "  ... without the token: refused (the feed is keyed)" \
    sh -c "'$FEEDDUMP' <'$T/snap3.bin' 2>&1 | grep -q 'the feed is keyed'"
check_eq "changes with the token: 200" 200 \
    "$(fetch '/v1/changes?since=1' "$T/body" -H 'Authorization: Bearer feed-s3cret')"
check_eq "/v1/status needs no token" 200 "$(fetch /v1/status "$T/body")"

done_testing
