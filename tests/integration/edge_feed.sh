#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_*, SMPORT_* are set by lookupd_start (tests/lib/lookupd.sh)
# edge_feed.sh - edge replication end to end (issue 5, "Edge" and "Tests"), real processes
# on loopback: slapd -> rcptdir-syncd (hub) -> rcptdir-lookupd (hub, serving the feed) ->
# rcptdir-syncd with [upstream] (edge) -> rcptdir-lookupd (edge) -> Postfix's postmap.
# Snapshot then changes (1000 modified entries: only /v1/changes moves, and few bytes),
# a chain (an edge pulling from an edge), --watch and its backoff; failures that must leave
# the edge's store and generation unchanged: hub down, wrong or missing token, a stream cut
# short, a flipped byte, garbage, a huge length field, a slow drip, a redirect, max_size,
# HTTPS with a wrong CA, the system's CAs or another host name, an older hub (restored
# backup, then --force); a 410 falls back to the snapshot. tests/data/edge/fakehub.py plays the
# misbehaving upstreams. Prints TAP. Needs slapd, ldap-utils, postfix, curl, jq, python3.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

DUMPSTORE=$BUILD/tools/dumpstore
FAKEHUB=$TOP/tests/data/edge/fakehub.py
HUB=$T/hub
EDGE=$T/edge
LK=$TOP/tests/data/lookupd

require "slapd with schema/ldap/sample.ldif starts" slapd_up
printf 'feed-secret-%s\n' "$RANDOM$RANDOM" >"$T/feed.token"
echo "not-the-token" >"$T/wrong.token"
chmod 600 "$T/feed.token" "$T/wrong.token"

# edge_conf NAME URL [[upstream] lines] - $T/NAME.sync.conf: an edge's syncd pulling from URL
edge_conf() {
    local name=$1 url=$2
    shift 2
    {
        printf '[store]\npath = %s\n[sync]\ninterval = 1\n[lookupd]\nuser =\n' "$T/$name"
        printf '[upstream]\nurl = %s\ntimeout = 2\n' "$url"
        for l in "$@"; do echo "$l"; done
    } >"$T/$name.sync.conf"
}
# edge_sync NAME [options] - one run of the edge's syncd; stderr in $T/NAME.last
edge_sync() {
    local name=$1 rc
    shift
    timeout --kill-after=5 60 "$SYNCD" -c "$T/$name.sync.conf" -d "$@" >"$T/$name.out" 2>"$T/$name.last"
    rc=$?
    cat "$T/$name.last" >>"$T/syncd.log"
    return "$rc"
}
# last_has NAME TEXT - the last run of NAME logged TEXT
last_has() {
    grep -qF -- "$2" "$T/$1.last" || { sed 's/^/#   /' "$T/$1.last"; return 1; }
}
# state STORE - what must not change on a failure: every address record, the domains,
# the generation and the address count (mdb_dump is exact to the byte)
state() {
    mdb_dump -s addr "$1" && mdb_dump -s domain "$1" && "$DUMPSTORE" -m "$1" | grep -v '^last_'
}
# records STORE - a digest of the address and domain records, byte for byte
records() {
    { mdb_dump -s addr "$1" && mdb_dump -s domain "$1"; } | sha256sum | cut -c1-16
}
# answers PORT - the golden lookups of all three maps through Postfix's client
answers() {
    local m
    for m in rcpt access domain; do
        postmap -q - "socketmap:inet:127.0.0.1:$1:$m" <"$LK/$m.in" 2>&1
    done
}
# status_gen PORT - the generation /v1/status reports
status_gen() {
    curl -s "http://127.0.0.1:$1/v1/status" | jq -r .generation
}

check "hub: rcptdir-syncd fills its store from slapd" sync_store "$HUB"
write_conf h "$HUB" "feed_token_file = $T/feed.token"
check "hub: lookupd starts with a feed token" lookupd_start h
HUBURL=http://127.0.0.1:$HTTPPORT_h

# --- a new edge takes the snapshot ----------------------------------------------------------------
edge_conf edge "$HUBURL" "token_file = $T/feed.token"
check "edge: first pull exits 0" edge_sync edge
check "  ... took the snapshot from generation 0 to 1" last_has edge "upstream snapshot from generation 0 to 1"
check "  ... generation 1: +37 addresses" last_has edge "sync: generation 1: +37 ~0 -0 = 37 addresses, 3 domains"
check_eq "edge: address and domain records identical to the hub's (mdb_dump)" \
    "$(records "$HUB")" "$(records "$EDGE")"
write_conf e "$EDGE"
check "edge: lookupd starts" lookupd_start e
check_eq "edge lookupd answers the golden sets like the hub's (rcpt, access, domain)" \
    "$(answers "$SMPORT_h")" "$(answers "$SMPORT_e")"
check_eq "  ... which are the golden answers" \
    "$(cat "$LK/rcpt.ref" "$LK/access.ref" "$LK/domain.ref")" "$(answers "$SMPORT_e")"
check_eq "/v1/status: hub and edge at generation 1" "1 1" \
    "$(status_gen "$HTTPPORT_h") $(status_gen "$HTTPPORT_e")"
check "edge: second pull exits 0" edge_sync edge
check "  ... an empty change feed from 1 to 1" last_has edge "upstream changes from generation 1 to 1: 0 records"
check "  ... nothing changed" last_has edge "sync: generation 1: +0 ~0 -0 = 37 addresses"

# --- 1000 entries added, then modified: the edge moves only the change ----------------------------
for i in $(seq 1000); do
    printf 'dn: uid=bulk%d,ou=people,dc=example,dc=org\nobjectClass: top\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\n' "$i"
    printf 'uid: bulk%d\ncn: Bulk %d\nsn: Bulk\nmail: bulk%d@example.org\n\n' "$i" "$i" "$i"
done >"$T/bulk-add.ldif"
for i in $(seq 1000); do
    printf 'dn: uid=bulk%d,ou=people,dc=example,dc=org\nchangetype: modify\n' "$i"
    printf 'add: mailLocalAddress\nmailLocalAddress: bulk%d.alias@example.org\n\n' "$i"
done >"$T/bulk-mod.ldif"
check "ldapadd of 1000 users" ldap_root ldapadd -f "$T/bulk-add.ldif"
check "hub: re-sync, generation 2" sync_store "$HUB"
check "edge: pull exits 0" edge_sync edge
check "  ... changes from 1 to 2: 1000 records" last_has edge "upstream changes from generation 1 to 2: 1000 records"
check "ldapmodify of those 1000 entries (an alias each)" ldap_root ldapmodify -f "$T/bulk-mod.ldif"
check "hub: re-sync" sync_store "$HUB"
check "  ... generation 3: +1000" synced "3: +1000 ~0 -0 = 2037 addresses"
: >"$T/access.log"
check_eq "edge: before its pull, the new alias is unknown" "550 5.1.1 User unknown" \
    "$(postmap -q bulk7.alias@example.org "socketmap:inet:127.0.0.1:$SMPORT_e:access")"
check "edge: pull exits 0" edge_sync edge
check "  ... used /v1/changes from 2 to 3: 1000 records" last_has edge "upstream changes from generation 2 to 3: 1000 records"
bytes=$(sed -n 's/.*records, \([0-9]*\) bytes.*/\1/p' "$T/edge.last")
wire=$(sed -n 's/.* bytes, \([0-9]*\) on the wire.*/\1/p' "$T/edge.last")
if [ -n "$bytes" ] && [ "$bytes" -lt 200000 ]; then
    ok "  ... a feed of $bytes bytes (< 200 kB; the hub's snapshot is larger)"
else
    not_ok "  ... a feed of few bytes (got '$bytes')"
fi
if [ -n "$wire" ] && [ -n "$bytes" ] && [ "$wire" -gt 0 ] && [ "$wire" -lt $((bytes / 2)) ]; then
    ok "  ... gzip: $wire bytes on the wire"
else
    not_ok "  ... gzip: under half the bytes on the wire (got '$wire' of '$bytes')"
fi
check "  ... generation 3: +1000" last_has edge "sync: generation 3: +1000 ~0 -0 = 2037 addresses"
check_eq "edge lookupd, not restarted, answers the new state" \
    "bulk7@example.org" "$(postmap -q bulk7.alias@example.org "socketmap:inet:127.0.0.1:$SMPORT_e:rcpt")"
check_eq "edge: address and domain records identical to the hub's again" \
    "$(records "$HUB")" "$(records "$EDGE")"
check_eq "/v1/status: hub and edge at generation 3" "3 3" \
    "$(status_gen "$HTTPPORT_h") $(status_gen "$HTTPPORT_e")"

# --- a chain: a second edge pulls from the first edge's lookupd ----------------------------------
edge_conf edge2 "http://127.0.0.1:$HTTPPORT_e/"
check "chain: edge2 pulls the snapshot from edge" edge_sync edge2
check "  ... generation 3, 2037 addresses" last_has edge2 "sync: generation 3: +2037 ~0 -0 = 2037 addresses"
ldap_root ldapdelete "uid=bulk1,ou=people,dc=example,dc=org"
sync_store "$HUB"
edge_sync edge
check "chain: after a delete, hub -> edge -> edge2 by changes" edge_sync edge2
check "  ... edge2 used /v1/changes from 3 to 4: 2 records" last_has edge2 "upstream changes from generation 3 to 4: 2 records"
check_eq "  ... edge2's records = the hub's" "$(records "$HUB")" "$(records "$T/edge2")"

# --- failures: the edge's store and generation stay as they were ----------------------------------
state "$EDGE" >"$T/state.before"
unchanged() {
    state "$EDGE" >"$T/state.after"
    cmp -s "$T/state.before" "$T/state.after"
}
# fails NAME CODE TEXT... - the edge's last run exited CODE, logged each TEXT, changed nothing
fails() {
    local name=$1 want=$2 rc t
    shift 2
    edge_sync edge
    rc=$?
    [ "$rc" -eq "$want" ] || { echo "#   exit $rc, want $want"; sed 's/^/#   /' "$T/edge.last"; return 1; }
    for t in "$@"; do last_has edge "$t" || return 1; done
    unchanged || { echo "#   the store changed"; return 1; }
}

edge_conf edge "$HUBURL" "token_file = $T/wrong.token"
check "wrong token: exit 78 (configuration), says so, store unchanged" fails edge 78 "refused the feed token (HTTP 401"
edge_conf edge "$HUBURL"
check "no token: exit 78 (configuration), store unchanged" fails edge 78 "refused the feed token (HTTP 401"
edge_conf edge "$HUBURL" "token_file = $T/feed.token"
check "status shows the failure on the edge as a configuration error" \
    test "$(curl -s "http://127.0.0.1:$HTTPPORT_e/v1/status" | jq -r .last_result)" = config
printf '' >"$T/empty.token"
chmod 600 "$T/empty.token"
edge_conf edge "$HUBURL" "token_file = $T/empty.token"
check "an empty token file: exit 78, says so, store unchanged" fails edge 78 "token_file: secret file" "is empty"
edge_conf edge "$HUBURL" "token_file = $T/feed.token"

# fake upstreams, fed bytes from the real hub
curl -s -H "Authorization: Bearer $(cat "$T/feed.token")" -o "$T/snap.bin" "$HUBURL/v1/snapshot"
curl -s -H "Authorization: Bearer $(cat "$T/feed.token")" -o "$T/chg.bin" "$HUBURL/v1/changes?since=4"
size=$(stat -c %s "$T/snap.bin")
# fake ARGS... - start fakehub; sets FAKEURL; requests in $T/fake.log
FAKEPID=
fake() {
    [ -n "$FAKEPID" ] && kill "$FAKEPID" 2>/dev/null && wait "$FAKEPID" 2>/dev/null
    rm -f "$T/fake.port"
    : >"$T/fake.log"
    python3 "$FAKEHUB" "$T/fake.port" "$T/fake.log" "$@" &
    FAKEPID=$!
    PIDS+=("$FAKEPID")
    wait_until 30 test -s "$T/fake.port"
    FAKEURL=http://127.0.0.1:$(cat "$T/fake.port")
    edge_conf edge "$FAKEURL" "token_file = $T/feed.token" # the real hub's bytes are keyed with it
}

head -c $((size - 20)) "$T/snap.bin" >"$T/cut.bin"
fake --changes 410 --snapshot "200:$T/cut.bin"
check "410, then a snapshot cut short: exit 75, store unchanged" \
    fails edge 75 "feed ended before its trailer" "stream cut short"
check_eq "  ... it asked for the changes, then the snapshot" \
    "$(printf '/v1/changes?since=4\n/v1/snapshot')" "$(cat "$T/fake.log")"

# one letter of an address changed into another: still a valid address, so only the checksum sees it
off=$(grep -obUaF 'alice@example.org' "$T/snap.bin" | head -1 | cut -d: -f1)
cp "$T/snap.bin" "$T/flip.bin"
printf 'b' | dd of="$T/flip.bin" bs=1 seek="$off" conv=notrunc status=none
fake --changes 410 --snapshot "200:$T/flip.bin"
check "a flipped byte: exit 75 (HMAC), store unchanged" fails edge 75 "feed HMAC mismatch"
fake --changes 410 --snapshot "200:$T/snap.bin"
edge_conf edge "$FAKEURL" "token_file = $T/wrong.token"
check "a feed keyed with another token: exit 75 (HMAC), store unchanged" \
    fails edge 75 "feed HMAC mismatch"
edge_conf edge "$FAKEURL"
check "a keyed feed, and the edge has no token: exit 75, says so, store unchanged" \
    fails edge 75 "the feed is keyed"
# the same snapshot with a plain SHA-256 trailer (no key): an attacker's feed, or an old hub
python3 -c '
import hashlib, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[11] = 0
body = bytes(b[:-32])
open(sys.argv[2], "wb").write(body + hashlib.sha256(body[:-13]).digest())
' "$T/snap.bin" "$T/unkeyed.bin"
fake --changes 410 --snapshot "200:$T/unkeyed.bin"
check "an unkeyed feed to an edge with a token: exit 75 (a downgrade), store unchanged" \
    fails edge 75 "the feed is not keyed although a feed token is set"
python3 -c '
import hashlib, struct, sys
g = int(sys.argv[1])
h = b"RCPTFEED" + bytes([0, 2]) + b"C" + bytes([0]) + struct.pack(">QQ", g, 2**64 - 1) + bytes(4)
sys.stdout.buffer.write(h + b"Z" + struct.pack(">IQ", 40, 0) + hashlib.sha256(h).digest())
' 4 >"$T/jump.bin"
fake --changes "200:$T/jump.bin"
edge_conf edge "$FAKEURL"
check "a forged feed moving the generation to 2^64-1 (checksum right, no key): exit 65, store unchanged" \
    fails edge 65 "more than [upstream] max_jump (1000000000)"

head -c 20000 /dev/urandom >"$T/garbage.bin"
fake --changes "200:$T/garbage.bin"
check "garbage: exit 75 (not a feed), store unchanged" fails edge 75 "not an rcptdir feed"

# a valid change-feed header from 4, then a record claiming 4 GB
{ head -c 32 "$T/chg.bin"; printf '+\xff\xff\xff\xff\x00\x05hello'; } >"$T/huge.bin"
fake --changes "200:$T/huge.bin"
check "a huge length field: exit 75, store unchanged" fails edge 75 "record length out of bounds"

# a change feed claiming to start elsewhere than asked
fake --changes "200:$T/snap.bin"
check "a snapshot where changes were asked: exit 75, store unchanged" fails edge 75 "malformed feed header"

fake --changes 410 --snapshot "200:$T/snap.bin" --drip 0.7
start=$SECONDS
check "a slow drip (1 byte / 0.7 s): aborted, exit 75, store unchanged" fails edge 75 "upstream"
check "  ... within bounded time (timeout = 2 s: under 20 s)" test $((SECONDS - start)) -lt 20

fake --blackhole yes
start=$SECONDS
check "a hub that never completes the TCP handshake: exit 75, store unchanged" \
    fails edge 75 "upstream"
check "  ... the connect timed out (timeout = 2 s: under 20 s)" test $((SECONDS - start)) -lt 20
check "  ... and the log says so" grep -qiE "timed out|timeout" "$T/edge.last"

fake --changes 410 --snapshot "200:$T/snap.bin"
check "410 falls back to the snapshot: exit 0" edge_sync edge
check "  ... said so" last_has edge "(after a fallback to the snapshot)"
check "  ... same data" unchanged

fake --changes 503
check "hub answering 503: exit 75, store unchanged" fails edge 75 "answered HTTP 503"
fake --changes 302
check "a redirect is not followed: exit 75, store unchanged" fails edge 75 "answered HTTP 302"
check_eq "  ... and nothing else was asked" "/v1/changes?since=4" "$(cat "$T/fake.log")"
fake --changes 410 --snapshot "200:$T/snap.bin"
edge_conf edge "$FAKEURL" "token_file = $T/feed.token" "max_size = 1024"
check "a snapshot larger than max_size (length announced): exit 75, store unchanged" \
    fails edge 75 "larger than max_size (1024 bytes)"
edge_conf edge3 "$HUBURL" "token_file = $T/feed.token" "max_size = 1024"
edge_sync edge3
check_eq "max_size against the real hub (chunked, gzip: counted after decoding): exit 75" \
    "75" "$?"
check "  ... says so" last_has edge3 "larger than max_size (1024 bytes)"

# HTTPS: verification is on; a CA of our own (ca_file), the system's CAs, a wrong host name
mkdir "$T/tls"
printf '[good]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n[other]\nsubjectAltName = DNS:other.example\n' \
    >"$T/tls/ext.cnf"
# mkcert - a CA, a CA that signs nothing, and certificates for 127.0.0.1 and other.example
mkcert() {
    local d=$T/tls n
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" \
        -subj '/CN=rcptdir edge test CA' -days 2 -out "$d/ca.pem" || return 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/wrongca.key" -subj '/CN=rcptdir wrong CA' -days 2 -out "$d/wrongca.pem" ||
        return 1
    for n in good other; do
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/$n.key" -subj "/CN=$n" -out "$d/$n.csr" || return 1
        openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -set_serial "$RANDOM" -days 2 -extfile "$d/ext.cnf" -extensions "$n" \
            -out "$d/$n.pem" || return 1
    done
}
check "a throwaway CA and server certificates (openssl)" logged "$T/tls/mkcert.log" mkcert
fake --changes 410 --snapshot "200:$T/snap.bin" --tls "$T/tls/good.pem:$T/tls/good.key"
TLSURL=https://127.0.0.1:$(cat "$T/fake.port")
edge_conf edge "$TLSURL" "ca_file = $T/tls/ca.pem" "token_file = $T/feed.token"
check "https with ca_file: the snapshot is taken" edge_sync edge
check "  ... by the 410 fallback, over TLS" last_has edge "(after a fallback to the snapshot)"
edge_conf edge "$TLSURL" "ca_file = $T/tls/wrongca.pem" "token_file = $T/feed.token"
check "https, a CA that did not sign the hub's certificate: exit 75, store unchanged" \
    fails edge 75 "upstream $TLSURL"
edge_conf edge "$TLSURL"
check "https, the system's CAs (which do not know ours): exit 75, store unchanged" \
    fails edge 75 "certificate"
fake --changes 410 --snapshot "200:$T/snap.bin" --tls "$T/tls/other.pem:$T/tls/other.key"
edge_conf edge "https://127.0.0.1:$(cat "$T/fake.port")" "ca_file = $T/tls/ca.pem" "token_file = $T/feed.token"
check "https, a certificate for another host name: exit 75, store unchanged" \
    fails edge 75 "127.0.0.1"
kill "$FAKEPID" 2>/dev/null
wait "$FAKEPID" 2>/dev/null
FAKEPID=
edge_conf edge "$FAKEURL"
check "upstream down (connection refused): exit 75, store unchanged" fails edge 75 "upstream $FAKEURL"

# --- an older hub: restored from a backup taken at generation 1 ------------------------------------
edge_conf edge "$HUBURL" "token_file = $T/feed.token"
lookupd_stop h
cp -a "$HUB" "$T/hub-now"
rm -rf "$HUB"
check "hub store restored from an older state (generation 1)" sync_store "$HUB" # fresh: gen 1
ldap_root ldapdelete "uid=bulk2,ou=people,dc=example,dc=org" # keep it different
check "hub lookupd restarted" lookupd_start h
HUBURL=http://127.0.0.1:$HTTPPORT_h
edge_conf edge "$HUBURL" "token_file = $T/feed.token"
check "edge ahead of the hub: exit 65 (refused), store unchanged" \
    fails edge 65 "refused: this store (generation 4) is ahead of the upstream" "--force"
check "--force takes the hub's snapshot" edge_sync edge --force
check "  ... back to generation 1" last_has edge "sync: generation 1:"
check_eq "  ... identical to the hub" "$(records "$HUB")" "$(records "$EDGE")"

# --- --watch follows the hub, stops cleanly on SIGTERM ---------------------------------------------
"$SYNCD" -c "$T/edge.sync.conf" -d --watch >"$T/watch.out" 2>"$T/watch.log" &
WPID=$!
PIDS+=("$WPID")
check "hub: re-sync to generation 2" sync_store "$HUB"
# gen_is PORT N - /v1/status at PORT reports generation N
gen_is() { [ "$(status_gen "$1")" = "$2" ]; }
wait_until 30 gen_is "$HTTPPORT_e" 2
check_eq "--watch: the edge reaches generation 2 by itself" 2 "$(status_gen "$HTTPPORT_e")"
kill -TERM "$WPID"
wait "$WPID"
check_eq "--watch: SIGTERM stops it with exit 0" 0 $?
cat "$T/watch.log" >>"$T/syncd.log"
# with the upstream unreachable, --watch retries sooner than its interval
edge_conf edge "http://127.0.0.1:$(free_port)"
sed -i 's/^interval = 1$/interval = 300/' "$T/edge.sync.conf"
"$SYNCD" -c "$T/edge.sync.conf" -d --watch >"$T/watch.out" 2>"$T/watch.log" &
WPID=$!
PIDS+=("$WPID")
wait_until 30 file_has "$T/watch.log" "next attempt"
check "--watch, upstream down: the next attempt in 5 s, not the 300 s interval" \
    grep -q "sync: next attempt in 5 s" "$T/watch.log"
kill -TERM "$WPID"
wait "$WPID"
check_eq "  ... SIGTERM during the wait: exit 0" 0 $?
cat "$T/watch.log" >>"$T/syncd.log"

check "no sanitizer reports from syncd" test -z "$(grep -E 'Sanitizer|runtime error:' "$T/syncd.log")"
done_testing
