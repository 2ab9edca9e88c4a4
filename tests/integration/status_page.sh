#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_n, _p, _r are set by lookupd_start (tests/lib/lookupd.sh)
# status_page.sh - the status page (GET /) in a real headless Chromium, and /v1/history: a
# real slapd and rcptdir-syncd fill the store (two good syncs, the second with a change);
# the page's headers (curl: HTML, a strict Content-Security-Policy), its size and that it
# names no URL outside itself; Chromium's screenshot (non-blank, the size asked for) and DOM
# (verdict, generation, address count); its console (no CSP violation) and net log (no
# request but the page).
# Then slapd stops and a sync fails: the history says so (also after lookupd restarts), and
# the page's verdict, its error and the failed bar change; also in w3m (a text browser).
# SHOT=FILE keeps the last screenshot. Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser)
[ -n "$CHROMIUM" ] || skip_all "chromium is not installed (scripts/deps)"

# before any sync: no store yet
write_conf n "$T/nostore"
require "lookupd starts without a store" lookupd_start n
code=$(curl -s -o "$T/none.html" -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_n/")
check_eq "no store: the page answers 200" 200 "$code"
check "  ... verdict stale: no sync has succeeded yet" \
    grep -q '<h1 id="verdict">stale</h1>' "$T/none.html"
check "  ... and says so" grep -q 'no sync has succeeded yet' "$T/none.html"
check "  ... no sync recorded" grep -q 'no sync recorded yet' "$T/none.html"
lookupd_stop n

STORE=$T/store
require "slapd with schema/ldap/sample.ldif starts" slapd_up
check "rcptdir-syncd fills the store from slapd" sync_store "$STORE"
check "  ... generation 1: 37 addresses" synced "1: +37 ~0 -0 = 37 addresses"
cat >"$T/new.ldif" <<'LDIF'
dn: uid=page,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: page
cn: Page
sn: Page
mail: page@example.org
LDIF
check "a new user in slapd" ldap_root ldapadd -f "$T/new.ldif"
check "the second sync adds it: generation 2" sync_store "$STORE"
check "  ... +1" synced "2: +1 ~0 -0 = 38 addresses"
write_conf p "$STORE" "max_age = 3600"
require "lookupd starts" lookupd_start p
URL=http://127.0.0.1:$HTTPPORT_p

# --- /v1/history --------------------------------------------------------------------------------
curl -s -o "$T/hist" "$URL/v1/history"
check_eq "/v1/history: both syncs, newest first (result, generation after, +)" "ok 2 1,ok 1 37" \
    "$(jq -r '[.syncs[] | "\(.result) \(.generation_after) \(.added)"] | join(",")' "$T/hist")"
check_eq "/v1/history?limit=1: only the newest" "1 2" \
    "$(curl -s "$URL/v1/history?limit=1" | jq -r '"\(.syncs | length) \(.syncs[0].generation_after)"')"

# --- the page over curl ---------------------------------------------------------------------------
code=$(curl -s -o "$T/page.html" -D "$T/page.hdr" -w '%{http_code}' "$URL/")
check_eq "GET /: 200" 200 "$code"
check "Content-Type: text/html; charset=utf-8" grep -qi '^Content-Type: text/html; charset=utf-8' "$T/page.hdr"
check "Content-Security-Policy: default-src 'none', the style by its hash" \
    grep -qiE "^Content-Security-Policy: default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" "$T/page.hdr"
check "X-Content-Type-Options: nosniff" grep -qi '^X-Content-Type-Options: nosniff' "$T/page.hdr"
size=$(stat -c %s "$T/page.html")
check "the page is under 100 kB ($size bytes)" test "$size" -lt 100000
check "it refreshes itself" grep -q '<meta http-equiv="refresh" content="30">' "$T/page.html"
check "no script, no external reference (src=, url(), @import)" \
    bash -c "! grep -qiE '<script|src=|url\(|@import|<link|<img|<iframe' '$T/page.html'"
links=$(grep -oiE '(href|src|action|xlink:href|xmlns)="[^"]*"' "$T/page.html" | sort -u | grep -vE '="/[a-z0-9/]*"$' | tr '\n' ' ')
check_eq "links are the page's own JSON routes; the one absolute URL is the SVG namespace" \
    'xmlns="http://www.w3.org/2000/svg" ' "$links"
check_eq "HEAD /: 200" 200 "$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/")"
check_eq "/anything-else: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/x")"

# in a text browser: the verdict, the figures and the sync table read as text
if command -v w3m >/dev/null; then
    w3m -dump -cols 100 "$URL/" >"$T/page.txt" 2>&1
    check "w3m: the verdict" grep -qx 'healthy' "$T/page.txt"
    check "w3m: generation and addresses" grep -qE '^2 generation$' "$T/page.txt"
    check "w3m: the sync table" grep -qE '^[0-9-]+ [0-9:]+ +ok +[0-9.]+ m?s +1 +0 +0 +2 \(new\)' "$T/page.txt"
else
    skip "w3m: the page as text" "w3m is not installed (scripts/deps)"
fi

# --- the page in Chromium ----------------------------------------------------------------------
# chrome ARGS... - headless Chromium with a fresh profile, no background traffic
chrome() {
    local prof
    prof=$(mktemp -d "$T/chrome.XXXXXX")
    timeout --kill-after=5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --hide-scrollbars --mute-audio \
        --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
        --user-data-dir="$prof" "$@" 2>>"$T/chrome.err"
}

# png_size FILE - "WIDTH HEIGHT" from the PNG header
png_size() {
    python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(*struct.unpack(">II", d[16:24]))' "$1"
}

# png_colours FILE - how many distinct pixel rows the image has (1: blank)
png_rows() {
    python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
pos, idat, w = 8, b"", 0
while pos < len(d):
    n, t = struct.unpack(">I4s", d[pos:pos + 8])
    if t == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", d[pos + 8:pos + 18])
    if t == b"IDAT":
        idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}[ctype]
stride = 1 + w * bpp
# rows whose filter byte and data differ: a blank page compresses to identical rows
print(len({raw[i:i + stride] for i in range(0, len(raw), stride)}))
PY
}

# dom_of - the page's DOM after Chromium rendered it
dom_of() {
    chrome --dump-dom "$URL/" >"$T/dom.html"
}

check "Chromium takes a screenshot of the page" chrome --screenshot="$T/ok.png" --window-size=900,1800 "$URL/"
check_eq "  ... 900x1800" "900 1800" "$(png_size "$T/ok.png" 2>&1)"
rows=$(png_rows "$T/ok.png" 2>&1)
check "  ... not blank ($rows distinct pixel rows)" test "${rows:-0}" -gt 100
check "Chromium dumps the DOM" dom_of
# the console: no Content-Security-Policy violation (the page's one <style> matches its hash;
# an inline style attribute or script would be reported and blocked)
check "Chromium's console for the page" quiet chrome --enable-logging=stderr --v=0 --dump-dom "$URL/"
check_eq "  ... no Content-Security-Policy violation" "" \
    "$(grep -i 'Content Security Policy' "$T/chrome.err" | head -3)"
check "DOM: verdict healthy" grep -q '<h1 id="verdict">healthy</h1>' "$T/dom.html"
check "DOM: generation 2" grep -q '<b id="generation">2</b>' "$T/dom.html"
check "DOM: 38 addresses" grep -q '<b id="addresses">38</b>' "$T/dom.html"
check "DOM: two ok bars, none failed" \
    test "$(grep -o '<g class="ok">' "$T/dom.html" | wc -l)/$(grep -c '<g class="failed">' "$T/dom.html")" = 2/0
check "DOM: managed domains listed" grep -q '<li>example.org</li>' "$T/dom.html"

# the net log: the page asked for nothing (a request of the page names it as its initiator;
# Chromium's own background requests name none, and resolve nowhere here)
check "Chromium writes a net log" quiet chrome --log-net-log="$T/net.json" --dump-dom "$URL/"
# page_requests NETLOG ORIGIN - the URLs requested on behalf of the page, one a line
page_requests() {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
start = d["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
for e in d["events"]:
    p = e.get("params") or {}
    if e["type"] == start and p.get("initiator") == sys.argv[2]:
        print(p.get("url"))
PY
}
check_eq "  ... the page loaded (its navigation is logged)" 1 \
    "$(grep -c "\"url\":\"$URL/\"" "$T/net.json" | awk '{print ($1 > 0)}')"
check_eq "  ... no request made by the page (no subresource, no favicon)" "" \
    "$(page_requests "$T/net.json" "$URL" 2>&1)"

# --- a failed sync ----------------------------------------------------------------------------
"$TEST_SLAPD" stop "$SLAPD_DIR" >/dev/null 2>&1
sync_store "$STORE" 2>/dev/null
check_eq "with slapd stopped, the sync fails (75)" 75 "$?"
check_eq "/v1/history: the failure first, generation unchanged" "failed 2 2" \
    "$(curl -s "$URL/v1/history" | jq -r '.syncs[0] | "\(.result) \(.generation_before) \(.generation_after)"')"
# the history is the store's: a restarted lookupd shows the same three attempts
check "lookupd stops" lookupd_stop p
write_conf r "$STORE" "max_age = 3600"
require "lookupd starts again on the same store" lookupd_start r
URL=http://127.0.0.1:$HTTPPORT_r
check_eq "/v1/history after the restart: failed, ok, ok" "failed,ok,ok" \
    "$(curl -s "$URL/v1/history" | jq -r '[.syncs[].result] | join(",")')"
check "Chromium takes a screenshot after the failure" chrome --screenshot="$T/failed.png" --window-size=900,1800 "$URL/"
check "  ... it differs from the healthy one" bash -c "! cmp -s '$T/ok.png' '$T/failed.png'"
check "Chromium dumps the DOM again" dom_of
check "DOM: verdict last sync failed" grep -q '<h1 id="verdict">last sync failed</h1>' "$T/dom.html"
check "DOM: the error in full" grep -q '<pre id="last-error">.*ldap' "$T/dom.html"
check "DOM: one failed bar" test "$(grep -c '<g class="failed">' "$T/dom.html")" = 1
check "DOM: generation still 2" grep -q '<b id="generation">2</b>' "$T/dom.html"
[ -n "${SHOT:-}" ] && cp "$T/failed.png" "$SHOT"

done_testing
