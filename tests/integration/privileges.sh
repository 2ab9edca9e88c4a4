#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_st is set by lookupd_start (tests/lib/lookupd.sh)
# privileges: one model for every start mode (docs/operations.md "Users, secrets and the
# store"). Started as root, both daemons become [lookupd] user before reading a secret or
# opening the store; started as that user they stay it; so a secret is the user's, mode 600.
# `-n` checks it as that user: the user exists, the secrets it reads are readable, the store is
# writable; each daemon checks only the keys it uses. Also the messages: a wrong bind password
# is a configuration error (exit 78, last_result "config" in /v1/status), -d lines carry a
# time, errors reach stderr when there is no syslog, an unchanged --watch poll logs at debug.
# Needs root (a user to drop to: nobody). Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

[ "$(id -u)" = 0 ] || skip_all "not root: no user to drop to"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
require "a throwaway slapd" slapd_up

S=$T/store
cp "$T/bindpw" "$T/ldap.secret"
chmod 600 "$T/ldap.secret"
# conf FILE [extra [lookupd] lines] - an LDAP hub configuration that runs as nobody
conf() {
    local f=$1
    shift
    cat >"$f" <<CONF
[store]
path = $S
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $T/ldap.secret
base = dc=example,dc=org
[lookupd]
user = nobody
socketmap_listen = unix:$T/run/socketmap
http_listen =
CONF
    printf '%s\n' "$@" >>"$f"
}
conf "$T/hub.conf"

# --- -n as root checks as the user ------------------------------------------------------------
out=$("$SYNCD" -n -c "$T/hub.conf" 2>&1)
check_eq "syncd -n as root, secret root's and mode 600: exit 78 (nobody cannot read it)" 78 "$?"
check_match "  ... an error naming the file, the user and the fix" \
    "error: .*\[ldap\] bind_pw_file: cannot open secret file $T/ldap.secret as user nobody: Permission denied.*chown nobody $T/ldap.secret" "$out"
check_eq "lookupd -n with the same file: OK (lookupd never reads bind_pw_file)" \
    "configuration OK" "$("$LOOKUPD" -n -c "$T/hub.conf" 2>&1)"
chown nobody "$T/ldap.secret"
check_eq "syncd -n after chown nobody: configuration OK" "configuration OK" \
    "$("$SYNCD" -n -c "$T/hub.conf" 2>&1)"
chmod 640 "$T/ldap.secret"
out=$("$SYNCD" -n -c "$T/hub.conf" 2>&1)
check_match "mode 640: refused, saying chmod 600" "bind_pw_file: secret file .* \\(chmod 600\\)" "$out"
chmod 600 "$T/ldap.secret"

conf "$T/nouser.conf"
sed -i 's/^user = nobody/user = rcptdir-no-such-user/' "$T/nouser.conf"
for prog in "$SYNCD" "$LOOKUPD"; do
    out=$("$prog" -n -c "$T/nouser.conf" 2>&1)
    check_eq "${prog##*/} -n with a user that does not exist: exit 78" 78 "$?"
    check_match "  ... says to create it or empty user =" \
        "user = rcptdir-no-such-user: no such user.*useradd --system .*rcptdir-no-such-user.*set user = " "$out"
done

mkdir -m 700 "$S" && chown 4242:4242 "$S"
out=$("$SYNCD" -n -c "$T/hub.conf" 2>&1)
check_eq "syncd -n, store owned by another user: exit 78" 78 "$?"
check_match "  ... the store is not writable by nobody, chown -R" \
    "\[store\] path: $S is not writable by user nobody .*chown -R nobody $S" "$out"
chown root:root "$S"
check_eq "syncd -n, store root's: OK (a root start gives it to the user)" "configuration OK" \
    "$("$SYNCD" -n -c "$T/hub.conf" 2>&1)"

# --- root start: syncd drops, then reads the secret --------------------------------------------
run_syncd "$T/hub.conf"
check_rc "syncd started as root with bind_pw_file (nobody's, 600): exit 0" 0
check_eq "  ... the store is nobody's now" nobody "$(stat -c %U "$S/data.mdb")"
check_match "  ... -d lines begin with the time" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} rcptdir-syncd: sync: generation 1: ' \
    "$(cat "$ERR")"

# --- non-root start: as the user itself --------------------------------------------------------
asnobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
check_eq "syncd -n started as nobody: configuration OK" "configuration OK" \
    "$(asnobody "$SYNCD" -n -c "$T/hub.conf" 2>&1)"
asnobody "$SYNCD" -d -c "$T/hub.conf" >"$T/nobody.out" 2>&1
check_eq "syncd started as nobody (cron, systemd User=): exit 0" 0 "$?"

# --- lookupd: binds as root, drops, then reads its tokens --------------------------------------
check "the socket's directory $T/run does not exist yet" test ! -e "$T/run"
printf 'feed-token\n' >"$T/feed.token"
chmod 600 "$T/feed.token"
conf "$T/l.conf" "feed_token_file = $T/feed.token"
"$LOOKUPD" -c "$T/l.conf" -d >"$T/l1.log" 2>&1
check_eq "lookupd as root, feed token root's: exit 78" 78 "$?"
check_grep "  ... an error saying chown nobody" "$T/l1.log" "error: token: cannot open secret file .* as user nobody.*chown nobody"
chown nobody "$T/feed.token"
"$LOOKUPD" -c "$T/l.conf" -d >"$T/l2.log" 2>&1 &
lpid=$!
PIDS+=("$lpid")
check "lookupd as root, feed token nobody's: ready" wait_until 20 file_has "$T/l2.log" "lookupd: ready"
check_eq "  ... running as nobody" "$(id -u nobody)" "$(awk '/^Uid:/ { print $3 }' "/proc/$lpid/status")"
check "  ... it created the socket's directory (no systemd RuntimeDirectory=)" test -S "$T/run/socketmap"
kill "$lpid"
wait "$lpid"
# not through asnobody: a function in the background runs in a subshell, and $! would be that
# subshell, not lookupd (a kill left lookupd running after the test)
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$LOOKUPD" -c "$T/l.conf" -d \
    >"$T/l3.log" 2>&1 &
lpid=$!
PIDS+=("$lpid")
check "lookupd started as nobody (systemd User=): ready, its token read" \
    wait_until 20 file_has "$T/l3.log" "lookupd: ready"
kill "$lpid"
wait "$lpid"
check "  ... and it is gone after SIGTERM" bash -c "! pgrep -f 'rcptdir-lookup[d] -c $T/l.conf' >/dev/null"

# --- a wrong password: a configuration error ----------------------------------------------------
printf 'wrong-password' >"$T/ldap.secret"
run_syncd "$T/hub.conf"
check_rc "a bind refused for bad credentials: exit 78 (not 75)" 78
check_grep "  ... logged as an error that says what to check" "$ERR" \
    "error: sync failed, store unchanged: configuration: ldap: binding .*Invalid credentials.*check \[ldap\] bind_dn and the password in bind_pw_file"
write_conf st "$S"
if lookupd_start st; then
    status=$(curl -s "http://127.0.0.1:$HTTPPORT_st/v1/status")
    check_match "  ... /v1/status last_result \"config\"" '"last_result": ?"config"' "$status"
    lookupd_stop st
else
    not_ok "lookupd for /v1/status"
fi

# --- no syslog and no terminal: errors on stderr ------------------------------------------------
if syslog_ns_start; then
    (in_syslog_ns "$SYNCD" -c "$T/hub.conf") </dev/null >"$T/nosyslog.out" 2>"$T/nosyslog.err"
    check_eq "without /dev/log or a terminal: exit 78" 78 "$?"
    check_grep "  ... the error on stderr, with a time" "$T/nosyslog.err" \
        '^[0-9-]{10}T[0-9:.]{12} rcptdir-syncd: error: sync failed'
else
    skip "errors on stderr without syslog" "no private mount namespace"
fi

# --- an unchanged --watch poll logs at debug ----------------------------------------------------
chown nobody "$T/ldap.secret"
cp "$T/bindpw" "$T/ldap.secret"
conf "$T/w.conf"
sed -i 's/^\[lookupd\]/[sync]\ninterval = 1\n[lookupd]/' "$T/w.conf"
"$SYNCD" --watch -d -v -c "$T/w.conf" >"$T/w.log" 2>&1 &
wpid=$!
PIDS+=("$wpid")
polls() { [ "$(grep -c 'sync: generation .* +0 ~0 -0' "$T/w.log")" -ge 2 ]; }
check "--watch: two unchanged polls" wait_until 20 polls
kill "$wpid"
wait "$wpid"
check_nogrep "  ... their summary lines are debug, not info" "$T/w.log" \
    'rcptdir-syncd: sync: generation .* \+0 ~0 -0'
check_grep "  ... (at debug)" "$T/w.log" 'rcptdir-syncd: debug: sync: generation .* \+0 ~0 -0'

done_testing
