#!/bin/bash
# hostile_misc.sh - issue 14, the rest: a low descriptor limit (ulimit -n 300) with the
# descriptors exhausted by socketmap clients, then HTTP clients: max_connections is clamped,
# the log stays bounded and /v1/status answers (before: the HTTP accept loop spun, logging
# without end); a truncated data.mdb answers TEMP with the reason in /v1/status (before:
# SIGBUS); cut short while lookupd has it open, lookupd exits 74 saying why (SIGBUS caught)
# and, restarted, answers TEMP; a store that cannot be opened is not "never synced"; a simple bind over
# cleartext to a remote directory is refused with the key that allows it; --help exits 0
# on stdout; as root without the user, an error that says how to fix it; the daemons are
# not dumpable. Prints TAP.
. "$(dirname "$0")/../data/lookupd/lib.sh"
. "$(dirname "$0")/../data/lookupd/hostile.sh"

STORE=$T/store
require "a store of the sample directory (mkstore)" "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"

# --- --help ------------------------------------------------------------------------------------
for prog in "$LOOKUPD" "$SYNCD"; do
    out=$("$prog" --help 2>/dev/null)
    rc=$?
    check_eq "${prog##*/} --help: exit 0" 0 "$rc"
    check "  ... the usage on stdout" grep -q '^usage: ' <<<"$out"
done

# --- cleartext bind (checked with -n only: nothing connects anywhere) --------------------------
(umask 077 && echo secret >"$T/pw")
cat >"$T/clear.conf" <<CONF
[store]
path = $T/cstore
[ldap]
uri = ldap://ldap.example.org
base = dc=example,dc=org
bind_dn = cn=rcptdir,dc=example,dc=org
bind_pw_file = $T/pw
[lookupd]
user =
CONF
out=$("$SYNCD" -n -c "$T/clear.conf" 2>&1)
check_eq "simple bind over ldap:// without starttls to a remote host: exit 78" 78 "$?"
check "  ... says how to fix it" grep -q "in clear; set starttls = yes, use ldaps://, or allow_cleartext_bind = yes" <<<"$out"
sed -i 's|^\[lookupd\]|allow_cleartext_bind = yes\n[lookupd]|' "$T/clear.conf"
check_eq "  ... allow_cleartext_bind = yes: configuration OK" "configuration OK" \
    "$("$SYNCD" -n -c "$T/clear.conf" 2>&1)"

# --- as root without the configured user -------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    printf '[store]\npath = %s\n[ldif]\npath = %s\n[lookupd]\nuser = rcptdir-no-such-user\n' \
        "$T/ustore" "$TOP/schema/ldap/sample.ldif" >"$T/nouser.conf"
    printf 'socketmap_listen = unix:%s/nouser.sock\nhttp_listen =\n' "$T" >>"$T/nouser.conf"
    out=$("$SYNCD" -c "$T/nouser.conf" -d 2>&1)
    check_eq "syncd as root without the user: exit 77 (EX_NOPERM)" 77 "$?"
    check "  ... an error, not a warning, saying to create the user or set user =" \
        grep -q "error: privileges: no user rcptdir-no-such-user: .*useradd --system rcptdir-no-such-user.*user =" <<<"$out"
    echo "$out" | sed 's/^/#   /'
    out=$("$LOOKUPD" -c "$T/nouser.conf" -d 2>&1)
    check_eq "lookupd as root without the user: exit 67" 67 "$?"
    check "  ... the same advice" grep -q "error: privileges: .*useradd --system" <<<"$out"
else
    ok "# SKIP not root: no privileges to drop"
fi

# --- a truncated data.mdb ---------------------------------------------------------------------
awk 'BEGIN { for (i = 1; i <= 50000; i++) printf "bulk%06d@example.org\tuser\tactive\tbulk%06d@example.org\n", i, i }' >"$T/big.txt"
require "a store of 50,000 addresses" "$MKSTORE" "$T/tstore" "$T/big.txt"
truncate -s 65536 "$T/tstore/data.mdb"
write_conf t "$T/tstore"
require "lookupd starts on a truncated store" lookupd_start t
check_eq "socketmap: TEMP" "TEMP store unavailable" \
    "$(echo bulk000001@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_t" | sm_replies | head -1)"
code=$(curl -s -o "$T/tstatus" -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_t/v1/status")
check_eq "/v1/status: 503" 503 "$code"
check_eq "  ... store unavailable, not never synced" "store unavailable" "$(jq -r .status "$T/tstatus")"
check "  ... the error says data.mdb is truncated and by how much" \
    grep -q 'data.mdb is truncated: 65536 bytes, but its pages reach [0-9]* bytes' <(jq -r .error "$T/tstatus")
check "lookupd is alive (no SIGBUS)" kill -0 "$PID_t"
"$LOOKUPD" -c "$T/t.conf" -q bulk000001@example.org >/dev/null 2>&1
check_eq "-q: exit 75" 75 "$?"
lookupd_stop t
check_eq "lookupd stops cleanly" 0 "$?"

# --- data.mdb cut short while lookupd has it open -----------------------------------------------
require "a second store of 50,000 addresses" "$MKSTORE" "$T/tstore2" "$T/big.txt"
write_conf t2 "$T/tstore2"
require "lookupd starts on it" lookupd_start t2
check_eq "socketmap: OK before" "OK bulk049999@example.org" \
    "$(echo bulk049999@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_t2" | sm_replies | head -1)"
truncate -s 65536 "$T/tstore2/data.mdb"
echo bulk000002@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_t2" >/dev/null 2>&1
wait_exit 10 "$PID_t2"
check_eq "truncated while open: lookupd exits 74 (SIGBUS caught), not killed by the signal" 74 "$?"
check "  ... and says why" grep -q 'read past the end of data.mdb (SIGBUS): the file was truncated while open' \
    "$T/t2.log"
require "restarted, it starts" lookupd_start t2
check_eq "  ... and answers TEMP" "TEMP store unavailable" \
    "$(echo bulk000001@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_t2" | sm_replies | head -1)"
lookupd_stop t2

# --- a store that cannot be opened is not "never synced" --------------------------------------
mkdir -p "$T/bad"
echo "not an LMDB file" >"$T/bad/data.mdb"
write_conf b "$T/bad"
require "lookupd starts on a file that is no store" lookupd_start b
curl -s -o "$T/bstatus" "http://127.0.0.1:$HTTPPORT_b/v1/status"
check_eq "/v1/status: store unavailable, not never synced" "store unavailable" "$(jq -r .status "$T/bstatus")"
lookupd_stop b

# --- not dumpable: /proc/PID of a non-dumpable process belongs to root -------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    chmod -R a+rwX "$STORE"
    write_conf d "$STORE" "socketmap_listen = inet:127.0.0.1:@SMPORT@"
    sed -i "\|unix:|d" "$T/d.conf.in"
    LOOKUPD_REAL=$LOOKUPD
    printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups %s "$@"\n' \
        "$LOOKUPD_REAL" >"$T/asnobody"
    chmod 755 "$T/asnobody"
    LOOKUPD=$T/asnobody
    chmod 755 "$T"
    if lookupd_start d; then
        check_eq "lookupd started as nobody is not dumpable (/proc/PID owned by root)" 0 \
            "$(stat -c %u "/proc/$PID_d/status")"
        lookupd_stop d
    else
        not_ok "lookupd starts as nobody"
    fi
    LOOKUPD=$LOOKUPD_REAL
else
    ok "# SKIP not root, no user nobody or no setpriv"
fi

# --- a low descriptor limit --------------------------------------------------------------------
printf '#!/bin/sh\nulimit -n 300\nexec %s "$@"\n' "$LOOKUPD" >"$T/lowfd"
chmod 755 "$T/lowfd"
LOOKUPD_REAL=$LOOKUPD
LOOKUPD=$T/lowfd
write_conf f "$STORE"
require "lookupd starts with ulimit -n 300" lookupd_start f
LOOKUPD=$LOOKUPD_REAL
check "  ... and says what it clamped" grep -q "only 300 descriptors allowed (ulimit -n): max_connections" "$T/f.log"
for i in 2 3 4 5 6 7; do
    hostile_run "fd-$i" -f "127.0.0.$i" 100 "inet:127.0.0.1:$SMPORT_f"
done
check_eq "600 socketmap connections from 6 addresses" 6 "$(hostile_ready 6 'fd-*')"
sleep 1
lines0=$(wc -l <"$T/f.log")
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_f/v1/status")
check_eq "then the first HTTP client: /v1/status answers" 200 "$code"
sleep 2
lines1=$(wc -l <"$T/f.log")
echo "# log lines in 2 s under the descriptor limit: $((lines1 - lines0)), log size $(wc -c <"$T/f.log")"
check "  ... and the log stays bounded: no accept loop (at most 40 lines in 2 s)" \
    test $((lines1 - lines0)) -le 40
check_eq "socketmap answers" "OK alice@example.org" \
    "$(echo alice@example.org | netstrings rcpt | "$RAW" -w "inet:127.0.0.1:$SMPORT_f" | sm_replies | head -1)"
for i in 2 3 4 5 6 7; do
    hostile_run "fdh-$i" -f "127.0.0.$((i + 10))" -s 'GET /v1/status HTTP/1.1\r\nHost: x\r\n' 30 \
        "inet:127.0.0.1:$HTTPPORT_f"
done
check_eq "then 180 slow HTTP requests from 6 more addresses" 6 "$(hostile_ready 6 'fdh-*')"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_f/v1/status")
check_eq "  ... /v1/status still answers (an address gets 1/8 of the clamped slots)" 200 "$code"
hostile_stop
lookupd_stop f
check_eq "lookupd stops cleanly" 0 "$?"
done_testing
