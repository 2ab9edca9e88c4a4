# lib.bash -- shared helpers for tests/integration/syncd_*.sh (sourced, not run).
#
# TAP: ok NAME / notok NAME DETAIL... / check_* helpers; finish prints the plan and
# returns the exit status.  Work dir $W (mktemp -d); every slapd started with
# slapd_start is stopped by the EXIT trap, background pids in BG_PIDS are killed.
# shellcheck shell=bash

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
cd "$TOP" || exit 1
BUILD=${BUILD:-build}
SYNCD=$BUILD/rcptdir-syncd
DUMP=$BUILD/tools/dumpstore
TEST_SLAPD=$TOP/scripts/test-slapd
export LC_ALL=C

W=$(mktemp -d /tmp/rcptdir-syncd-test.XXXXXX) || exit 1
SLAPD_DIRS=()
BG_PIDS=()

syncd_cleanup() {
    local p d
    for p in "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    for d in "${SLAPD_DIRS[@]}"; do
        "$TEST_SLAPD" stop "$d" >/dev/null 2>&1
    done
    rm -rf "$W"
}
trap syncd_cleanup EXIT
trap 'exit 143' TERM INT HUP # run the EXIT trap when killed (run-tests timeout)

T_N=0
T_FAIL=0

ok() {
    T_N=$((T_N + 1))
    echo "ok - $1"
}

# notok NAME DETAIL...: each DETAIL (may be multi-line) printed as "# " lines
notok() {
    local name=$1 d
    shift
    T_N=$((T_N + 1))
    T_FAIL=$((T_FAIL + 1))
    echo "not ok - $name"
    for d in "$@"; do
        printf '%s\n' "$d" | head -n 30 | sed 's/^/# /'
    done
}

finish() {
    echo "1..$T_N"
    [ "$T_FAIL" -eq 0 ]
}

# run_syncd CONF [ARGS...]: run one syncd (logs to stderr); sets RC, OUT and ERR files, SECS
run_syncd() {
    local conf=$1 t0 t1
    shift
    OUT=$W/last.out
    ERR=$W/last.err
    t0=$(date +%s.%N)
    timeout --kill-after=5 120 "$SYNCD" -c "$conf" -d "$@" >"$OUT" 2>"$ERR"
    RC=$?
    t1=$(date +%s.%N)
    # shellcheck disable=SC2034 # read by the test scripts
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# check_rc NAME WANT: the last run_syncd exited with WANT
check_rc() {
    if [ "$RC" -eq "$2" ]; then
        ok "$1"
    else
        notok "$1" "exit status $RC, want $2" "stderr: $(cat "$ERR")" "stdout: $(head -n 10 "$OUT")"
    fi
}

# check_same NAME EXPECTED_FILE ACTUAL_FILE: byte-identical, else show the diff
check_same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        notok "$1" "diff expected actual:" "$(diff "$2" "$3" | head -n 40)"
    fi
}

# check_grep NAME FILE ERE: FILE has a line matching ERE
check_grep() {
    if grep -Eq -- "$3" "$2"; then
        ok "$1"
    else
        notok "$1" "no line matching /$3/ in:" "$(head -n 20 "$2")"
    fi
}

# check_nogrep NAME FILE ERE: no line of FILE matches ERE
check_nogrep() {
    if grep -Eq -- "$3" "$2"; then
        notok "$1" "unexpected line(s) matching /$3/:" "$(grep -E -- "$3" "$2" | head -n 10)"
    else
        ok "$1"
    fi
}

# check_line NAME FILE LINE: FILE holds exactly LINE (fixed string, whole line)
check_line() {
    if grep -Fxq -- "$3" "$2"; then
        ok "$1"
    else
        notok "$1" "missing line: $3"
    fi
}

# check_eq NAME WANT GOT
check_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        notok "$1" "want: $2" "got:  $3"
    fi
}

# dump STORE FILE: full dump (meta, addresses, domains, entry ids) for before/after comparisons
dump() {
    "$DUMP" -m -e "$1" >"$2" 2>&1
}

# addrs STORE FILE: only the address lines (same format as schema/ldap/sample.expected)
addrs() {
    "$DUMP" "$1" 2>&1 | grep -v '^domain	' >"$2"
}

# meta STORE: print the meta line
meta() {
    "$DUMP" -m "$1" 2>&1 | sed -n 's/^meta	//p'
}

# entries STORE: print the entry ids, one a line
entries() {
    "$DUMP" -e "$1" 2>&1 | awk -F'\t' '$1 == "entry" { print $2 }'
}

# slapd_start DIR [LDIF...]: start a throwaway slapd, remember it for the EXIT trap
slapd_start() {
    local d=$1
    SLAPD_DIRS+=("$d")
    if ! "$TEST_SLAPD" start "$@" >"$W/slapd-start.log" 2>&1; then
        notok "start slapd in $d" "$(cat "$W/slapd-start.log")"
        return 1
    fi
}

# envget DIR VAR: a value from a test-slapd env file
envget() {
    # shellcheck disable=SC1091
    (. "$1/env" && eval "printf '%s' \"\$$2\"")
}

# ldap_do DIR TOOL ARGS...: run an ldap tool as rootdn against DIR's slapd; LDIF on stdin
ldap_do() {
    local d=$1 tool=$2
    shift 2
    "$tool" -x -H "$(envget "$d" LDAP_URI)" -D "$(envget "$d" LDAP_ROOTDN)" \
        -w "$(envget "$d" LDAP_ROOTPW)" "$@" >>"$W/ldap-tools.log" 2>&1
}

# uuid_of DIR DN: the entry's entryUUID
uuid_of() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$(envget "$1" LDAP_URI)" -D "$(envget "$1" LDAP_ROOTDN)" \
        -w "$(envget "$1" LDAP_ROOTPW)" -b "$2" -s base '(objectClass=*)' entryUUID 2>/dev/null |
        sed -n 's/^entryUUID: //p'
}

# secret FILE VALUE: a bind password file, mode 600
secret() {
    printf '%s' "$2" >"$1"
    chmod 600 "$1"
}

# mkconf FILE STORE: an LDAP config; override with variables set for the call:
#   URI BINDDN PWFILE BASE LDAP_EXTRA SYNC_EXTRA (defaults: the sample slapd, $W/pw)
mkconf() {
    cat >"$1" <<EOF
[store]
path = $2
[ldap]
uri = ${URI:-$LDAP_URI}
bind_dn = ${BINDDN:-$LDAP_BIND_DN}
bind_pw_file = ${PWFILE:-$W/pw}
base = ${BASE:-dc=example,dc=org}
disabled_filter = (description=disabled)
${LDAP_EXTRA:-}
[sync]
${SYNC_EXTRA:-}
[lookupd]
user =
EOF
}
