# slapd.sh - throwaway slapds for the shell tests (sourced by tests/lib/rcptdir.sh).
#
# slapd_up: one slapd in $TEST_DIR/ldap loaded with schema/ldap/sample.ldif, its env sourced
# (LDAP_URI, LDAP_ROOTDN, LDAP_ROOTPW, LDAP_BIND_DN, LDAP_BIND_PW) and the bind password
# in $TEST_DIR/bindpw; slapd_start DIR [LDIF...]: any number more. scripts/test-slapd runs them;
# every one is stopped at exit. ldap_root / ldap_do change a directory as its rootdn.
# shellcheck shell=bash

TEST_SLAPD=$TOP/scripts/test-slapd
SLAPD_DIR=
SLAPD_DIRS=()

# slapd_stop_all - stop every slapd started here (the EXIT trap does)
slapd_stop_all() {
    local d
    for d in ${SLAPD_DIR:+"$SLAPD_DIR"} "${SLAPD_DIRS[@]}"; do
        "$TEST_SLAPD" stop "$d" >/dev/null 2>&1
    done
}
on_exit slapd_stop_all

# slapd_start DIR [LDIF...] - start a throwaway slapd in DIR (scripts/test-slapd start;
# its own sample directory without LDIF), stopped at exit; a failure is a failed check
slapd_start() {
    local d=$1
    SLAPD_DIRS+=("$d")
    if ! "$TEST_SLAPD" start "$@" >"$TEST_DIR/slapd-start.log" 2>&1; then
        not_ok "start slapd in $d" "$(cat "$TEST_DIR/slapd-start.log")"
        return 1
    fi
}

# slapd_up - start the slapd of schema/ldap/sample.ldif (the directory behind
# schema/ldap/sample.expected) in $TEST_DIR/ldap, source its env, write $TEST_DIR/bindpw (mode 600)
slapd_up() {
    SLAPD_DIR=$TEST_DIR/ldap
    if ! "$TEST_SLAPD" start "$SLAPD_DIR" "$TOP/schema/ldap/sample.ldif" \
        >"$TEST_DIR/slapd-start.out" 2>&1; then
        tap_detail "$(cat "$TEST_DIR/slapd-start.out")"
        return 1
    fi
    # shellcheck disable=SC1091
    . "$SLAPD_DIR/env"
    (umask 077 && printf '%s' "$LDAP_BIND_PW" >"$TEST_DIR/bindpw")
}

# envget DIR VAR - a value from a test-slapd env file
envget() {
    # shellcheck disable=SC1091
    (. "$1/env" && eval "printf '%s' \"\$$2\"")
}

# ldap_do DIR TOOL ARGS... - run an ldap tool (ldapadd, ldapmodify, ...) as the rootdn of
# DIR's slapd; LDIF on stdin; output in $TEST_DIR/ldap-tools.log
ldap_do() {
    local d=$1 tool=$2
    shift 2
    "$tool" -x -H "$(envget "$d" LDAP_URI)" -D "$(envget "$d" LDAP_ROOTDN)" \
        -w "$(envget "$d" LDAP_ROOTPW)" "$@" >>"$TEST_DIR/ldap-tools.log" 2>&1
}

# ldap_root TOOL ARGS... - ldap_do against slapd_up's slapd; output in $T/ldap-tools.out
ldap_root() {
    local tool=$1
    shift
    "$tool" -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" "$@" \
        >>"$TEST_DIR/ldap-tools.out" 2>&1
}

# uuid_of DIR DN - the entry's entryUUID
uuid_of() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$(envget "$1" LDAP_URI)" -D "$(envget "$1" LDAP_ROOTDN)" \
        -w "$(envget "$1" LDAP_ROOTPW)" -b "$2" -s base '(objectClass=*)' entryUUID 2>/dev/null |
        sed -n 's/^entryUUID: //p'
}

# secret FILE VALUE - a password or token file, mode 600
secret() {
    printf '%s' "$2" >"$1"
    chmod 600 "$1"
}
