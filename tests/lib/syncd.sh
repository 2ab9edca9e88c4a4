# syncd.sh - running rcptdir-syncd and reading its store, for the shell tests (sourced by
# tests/lib/rcptdir.sh).
#
# run_syncd CONF [ARGS]: one run, its status in RC, stdout in $OUT, stderr in $ERR, seconds
# in SECS (check_rc checks it). sync_store STORE: one run from slapd_up's slapd. mkconf
# writes an LDAP configuration. dump, addrs, meta, entries read a store (build/tools/dumpstore).
# shellcheck shell=bash

SYNCD=$BUILD/rcptdir-syncd
DUMP=$BUILD/tools/dumpstore

# run_syncd CONF [ARGS...] - run one syncd in the foreground (-d: logs to stderr); sets RC,
# OUT and ERR (files), SECS
run_syncd() {
    local conf=$1 t0 t1
    shift
    OUT=$TEST_DIR/last.out
    ERR=$TEST_DIR/last.err
    t0=$EPOCHREALTIME
    timeout --kill-after=5 120 "$SYNCD" -c "$conf" -d "$@" >"$OUT" 2>"$ERR"
    RC=$?
    t1=$EPOCHREALTIME
    # shellcheck disable=SC2034 # read by the test scripts
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# check_rc DESC WANT - the last run_syncd exited with WANT
check_rc() {
    if [ "$RC" -eq "$2" ]; then
        ok "$1"
    else
        not_ok "$1" "exit status $RC, want $2" "stderr: $(cat "$ERR")" "stdout: $(head -n 10 "$OUT")"
    fi
}

# mkconf FILE STORE - an LDAP configuration; the variables URI BINDDN PWFILE BASE
# LDAP_EXTRA SYNC_EXTRA, set for the call, override the defaults (the slapd whose env was
# sourced, $TEST_DIR/pw, dc=example,dc=org)
mkconf() {
    cat >"$1" <<CONF
[store]
path = $2
[ldap]
uri = ${URI:-$LDAP_URI}
bind_dn = ${BINDDN:-$LDAP_BIND_DN}
bind_pw_file = ${PWFILE:-$TEST_DIR/pw}
base = ${BASE:-dc=example,dc=org}
disabled_filter = (description=disabled)
${LDAP_EXTRA:-}
[sync]
${SYNC_EXTRA:-}
[lookupd]
user =
CONF
}

# sync_store STORE [syncd options] - one run of the real rcptdir-syncd from slapd_up's slapd
# into STORE (created when missing); stderr in $TEST_DIR/syncd.last (the summary line) and appended
# to $TEST_DIR/syncd.log (scanned for sanitizer reports); returns syncd's exit status
sync_store() {
    local store=$1 conf rc
    shift
    conf=$TEST_DIR/syncd-${store##*/}.conf
    URI=$LDAP_URI BINDDN=$LDAP_BIND_DN PWFILE=$TEST_DIR/bindpw BASE='' LDAP_EXTRA='' SYNC_EXTRA='' \
        mkconf "$conf" "$store"
    timeout --kill-after=5 60 "$SYNCD" -c "$conf" -d "$@" \
        >"$TEST_DIR/syncd.out" 2>"$TEST_DIR/syncd.last"
    rc=$?
    cat "$TEST_DIR/syncd.last" >>"$TEST_DIR/syncd.log"
    [ "$rc" -eq 0 ] || sed 's/^/#   syncd: /' "$TEST_DIR/syncd.last"
    return "$rc"
}

# synced SUMMARY - the last sync_store logged "sync: generation SUMMARY" (a fixed string,
# e.g. "1: +37 ~0 -0 = 37 addresses")
synced() {
    grep -qF "sync: generation $1" "$TEST_DIR/syncd.last"
}

# dump STORE FILE - the full dump (meta, addresses, domains, entry ids), for before/after
dump() {
    "$DUMP" -m -e "$1" >"$2" 2>&1
}

# addrs STORE FILE - only the address lines (the format of schema/ldap/sample.expected)
addrs() {
    "$DUMP" "$1" 2>&1 | grep -v '^domain	' >"$2"
}

# meta STORE - print the meta line
meta() {
    "$DUMP" -m "$1" 2>&1 | sed -n 's/^meta	//p'
}

# entries STORE - print the entry ids, one a line
entries() {
    "$DUMP" -e "$1" 2>&1 | awk -F'\t' '$1 == "entry" { print $2 }'
}
