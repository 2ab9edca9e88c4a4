#!/bin/bash
# bench_chain - the whole live chain (issue 15): ldapadd at the directory -> the EDGE's lookupd
# answers OK, and ldapdelete -> NOTFOUND there, over CHANGES changes (p50, p99, max).
# slapd with syncprov (scripts/test-slapd, plain) -> hub rcptdir-syncd --watch (sync = syncrepl)
# -> hub rcptdir-lookupd (HTTP, feed and HTTP tokens) -> edge rcptdir-syncd --watch
# ([upstream] long poll, wait = 30) -> edge rcptdir-lookupd, polled over socketmap; loopback.
# A change not seen within 10 s counts as 10 s (and is reported).
#
#   USERS=1000 CHANGES=200 tests/bench/bench_chain.sh [BUILD]
# KEEP=1 keeps the work directory (configs, the four daemons' logs).
# Prints a markdown table on stdout; progress on stderr.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
USERS=${USERS:-1000}
CHANGES=${CHANGES:-200}
work=$(mktemp -d /tmp/rcptdir-bench-chain.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    "$top/scripts/test-slapd" stop "$work/ldap" >/dev/null 2>&1 || true
    if [ -n "${KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
port() { "$top/scripts/free-port"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
pct() { sort -g | awk -v p="$1" '{v[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; print v[i]}'; }
answer() { # KEY - the edge lookupd's socketmap reply
    local s="rcpt $1"
    printf '%d:%s,' "${#s}" "$s" | "$BUILD/tools/sockmap_raw" -w "inet:127.0.0.1:$EDGE_SM" 2>/dev/null |
        tr ',' '\n' | sed -e 's/^[0-9]*://' | head -1
}
wait_for() { # WANT KEY - poll until the edge answers WANT, at most 10 s; prints seconds
    local t0=$EPOCHREALTIME end=$((SECONDS + 10))
    until [ "$(answer "$2")" = "$1" ]; do
        [ $SECONDS -ge $end ] && { echo "bench: $2 not '$1' after 10 s" >&2; echo 10; return; }
    done
    secs "$t0" "$EPOCHREALTIME"
}
started() { # URL-or-KEY check with a bound
    local i
    for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
    echo "bench: gave up waiting for: $*" >&2
    return 1
}

echo "bench: slapd with $USERS users" >&2
"$top/scripts/gen-ldif" "$USERS" >"$work/data.ldif"
TEST_SLAPD_SYNCPROV='' "$top/scripts/test-slapd" start "$work/ldap" "$work/data.ldif" >/dev/null
# shellcheck disable=SC1091
. "$work/ldap/env"
printf '%s' "$LDAP_BIND_PW" >"$work/pw"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/feed.token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/http.token"
chmod 600 "$work/pw" "$work/feed.token" "$work/http.token"

HUB_HTTP=$(port)
cat >"$work/hub.conf" <<CONF
[store]
path = $work/hub
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $work/pw
base = ou=people,dc=example,dc=org
filter = (objectClass=inetOrgPerson)
address_attrs = mail, mailLocalAddress, mailAlternateAddress
id_attrs = entryUUID
sync = syncrepl
[lookupd]
user =
socketmap_listen = inet:127.0.0.1:$(port)
http_listen = 127.0.0.1:$HUB_HTTP
feed_token_file = $work/feed.token
http_token_file = $work/http.token
CONF
"$BUILD/rcptdir-syncd" -c "$work/hub.conf" -d --watch >"$work/hubsync.log" 2>&1 &
pids+=($!)
started test -e "$work/hub/data.mdb"
"$BUILD/rcptdir-lookupd" -c "$work/hub.conf" -d >"$work/hublk.log" 2>&1 &
pids+=($!)
started curl -sf -o /dev/null "http://127.0.0.1:$HUB_HTTP/v1/status"

EDGE_SM=$(port)
cat >"$work/edge.conf" <<CONF
[store]
path = $work/edge
[lookupd]
user =
socketmap_listen = inet:127.0.0.1:$EDGE_SM
http_listen =
[upstream]
url = http://127.0.0.1:$HUB_HTTP
token_file = $work/feed.token
wait = 30
name = edge1
CONF
"$BUILD/rcptdir-syncd" -c "$work/edge.conf" -d --watch >"$work/edgesync.log" 2>&1 &
pids+=($!)
started test -e "$work/edge/data.mdb"
"$BUILD/rcptdir-lookupd" -c "$work/edge.conf" -d >"$work/edgelk.log" 2>&1 &
pids+=($!)
edge_ready() { [ "$(answer user3@example.org)" = "OK user3@example.org" ]; }
started edge_ready
sleep 1 # the hub's refresh and the edge's snapshot done

echo "bench: $CHANGES adds and deletes through the chain" >&2
: >"$work/add"
: >"$work/del"
for i in $(seq 1 "$CHANGES"); do
    printf 'dn: uid=c%d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\nuid: c%d\ncn: c\nsn: c\nmail: c%d@example.org\n' "$i" "$i" "$i" |
        ldapadd -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" >/dev/null
    wait_for "OK c$i@example.org" "c$i@example.org" >>"$work/add"
    ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" "uid=c$i,ou=people,dc=example,dc=org"
    wait_for "NOTFOUND " "c$i@example.org" >>"$work/del"
done
echo "| ldap -> edge lookupd ($CHANGES changes, $USERS users) | p50 | p99 | max |"
echo "| --- | ---: | ---: | ---: |"
echo "| ldapadd returned -> edge OK | $(pct 50 <"$work/add") s | $(pct 99 <"$work/add") s | $(pct 100 <"$work/add") s |"
echo "| ldapdelete returned -> edge NOTFOUND | $(pct 50 <"$work/del") s | $(pct 99 <"$work/del") s | $(pct 100 <"$work/del") s |"
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
