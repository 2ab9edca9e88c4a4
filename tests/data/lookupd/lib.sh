# lib.sh - helpers for tests/integration/lookupd_*.sh (sourced, not run).
#
# Gives: TAP output (ok, not_ok, check, done_testing), a throwaway directory $T removed at
# exit, lookupd_start/lookupd_stop for instances on free loopback ports (always killed by
# the EXIT trap), a throwaway slapd loaded with schema/ldap/sample.ldif (slapd_up, stopped
# by the EXIT trap; ldap_root for changes as its rootdn) and sync_store, which fills a store
# from it with the real rcptdir-syncd; netstring helpers, and $MKSTORE, $RAW, $IDLE,
# $LOOKUPD, $SYNCD.
set -u
export LC_ALL=C
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
DATA=$TOP/tests/data/lookupd
LOOKUPD=$BUILD/rcptdir-lookupd
SYNCD=$BUILD/rcptdir-syncd
TEST_SLAPD=$TOP/scripts/test-slapd
MKSTORE=$BUILD/tools/mkstore
RAW=$BUILD/tools/sockmap_raw
IDLE=$BUILD/tools/idleconns
T=$(mktemp -d /tmp/rcptdir-lookupd-test.XXXXXX)
chmod 755 "$T"
# Postfix is only a client here (postmap, postconf): its configuration is an empty main.cf of
# our own, so a system without /etc/postfix/main.cf (scripts/deps installs postfix with "No
# configuration") or with an unusual one answers the same
mkdir -p "$T/postfix" && : >"$T/postfix/main.cf"
export MAIL_CONFIG=$T/postfix
PIDS=()
SLAPD_DIR=
TESTNO=0
FAILED=0

lib_cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    [ -n "$SLAPD_DIR" ] && "$TEST_SLAPD" stop "$SLAPD_DIR" >/dev/null 2>&1
    rm -rf "$T"
}
trap lib_cleanup EXIT
trap 'exit 143' TERM INT HUP # run the EXIT trap (stop slapd) when killed, e.g. by a timeout

ok() {
    TESTNO=$((TESTNO + 1))
    echo "ok $TESTNO - $*"
}
not_ok() {
    TESTNO=$((TESTNO + 1))
    FAILED=$((FAILED + 1))
    echo "not ok $TESTNO - $*"
}
# check DESC CMD... - ok when CMD succeeds
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# require DESC CMD... - like check, but a failure ends the test: nothing after it could run
require() {
    local desc=$1
    shift
    if "$@"; then
        ok "$desc"
    else
        not_ok "$desc"
        done_testing
        exit 1
    fi
}
# check_eq DESC WANT GOT
check_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
        echo "#   want: $(printf '%q' "$2")"
        echo "#   got:  $(printf '%q' "$3")"
    fi
}
done_testing() {
    local bad
    bad=$(grep -lE 'Sanitizer|runtime error:' "$T"/*.log 2>/dev/null)
    if [ -z "$bad" ]; then
        ok "no sanitizer reports in the lookupd logs"
    else
        not_ok "no sanitizer reports in the lookupd logs"
        grep -hE -A5 'Sanitizer|runtime error:' $bad | head -40 | sed 's/^/#   /'
    fi
    echo "1..$TESTNO"
    [ "$FAILED" -eq 0 ]
}

# slapd_up - start a throwaway slapd in $T/ldap loaded with schema/ldap/sample.ldif (the
# directory behind schema/ldap/sample.expected), stopped by the EXIT trap; sets LDAP_URI,
# LDAP_ROOTDN, LDAP_ROOTPW, LDAP_BIND_DN, LDAP_BIND_PW (scripts/test-slapd's env) and writes
# the bind password file $T/bindpw (mode 600)
slapd_up() {
    SLAPD_DIR=$T/ldap
    if ! "$TEST_SLAPD" start "$SLAPD_DIR" "$TOP/schema/ldap/sample.ldif" >"$T/slapd-start.out" 2>&1; then
        sed 's/^/#   /' "$T/slapd-start.out"
        return 1
    fi
    # shellcheck disable=SC1091
    . "$SLAPD_DIR/env"
    (umask 077 && printf '%s' "$LDAP_BIND_PW" >"$T/bindpw")
}

# ldap_root TOOL ARGS... - run an ldap tool (ldapadd, ldapdelete, ...) as slapd's rootdn;
# LDIF on stdin
ldap_root() {
    local tool=$1
    shift
    "$tool" -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" "$@" >>"$T/ldap-tools.out" 2>&1
}

# sync_store STORE [syncd options] - one run of the real rcptdir-syncd from slapd_up's
# slapd into STORE (created when missing); stderr in $T/syncd.last (the summary line) and
# appended to $T/syncd.log (scanned for sanitizer reports); returns syncd's exit status
sync_store() {
    local store=$1 conf rc
    shift
    conf=$T/syncd-${store##*/}.conf
    cat >"$conf" <<EOF
[store]
path = $store
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $T/bindpw
base = dc=example,dc=org
disabled_filter = (description=disabled)
[lookupd]
user =
EOF
    timeout --kill-after=5 60 "$SYNCD" -c "$conf" -d "$@" >"$T/syncd.out" 2>"$T/syncd.last"
    rc=$?
    cat "$T/syncd.last" >>"$T/syncd.log"
    [ "$rc" -eq 0 ] || sed 's/^/#   syncd: /' "$T/syncd.last"
    return "$rc"
}

# synced SUMMARY - the last sync_store logged "sync: generation SUMMARY" (a fixed string,
# e.g. "1: +37 ~0 -0 = 37 addresses")
synced() {
    grep -qF "sync: generation $1" "$T/syncd.last"
}

# port_free PORT - nothing listens on 127.0.0.1:PORT
port_free() {
    ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# free_port - print a port that was free a moment ago, below the ephemeral range
free_port() { "$TOP/scripts/free-port"; }

# write_conf NAME STORE [extra lines...] - $T/NAME.conf.in, ports filled in by lookupd_start
write_conf() {
    local name=$1 store=$2
    shift 2
    {
        echo "[store]"
        echo "path = $store"
        echo "[lookupd]"
        echo "socketmap_listen = inet:127.0.0.1:@SMPORT@, unix:$T/$name.sock"
        echo "http_listen = 127.0.0.1:@HTTPPORT@"
        case " $* " in *" user ="*) ;; *) echo "user =" ;; esac
        case " $* " in *" idle_timeout ="*) ;; *) echo "idle_timeout = 60" ;; esac
        for l in "$@"; do echo "$l"; done
    } >"$T/$name.conf.in"
    # a version with ports, for -n and -q
    sed -e "s/@SMPORT@/1/" -e "s/@HTTPPORT@/2/" "$T/$name.conf.in" >"$T/$name.conf"
}

# lookupd_start NAME - start lookupd with free ports (in SMPORT_NAME, HTTPPORT_NAME) and
# $T/NAME.conf, wait until ready; sets PID_NAME. Tries other ports when one was taken.
lookupd_start() {
    local name=$1 pid sp hp
    for _attempt in 1 2 3 4 5; do
        sp=$(free_port) && hp=$(free_port) || return 1
        [ "$sp" = "$hp" ] && continue
        printf -v "SMPORT_$name" '%s' "$sp"
        printf -v "HTTPPORT_$name" '%s' "$hp"
        sed -e "s/@SMPORT@/$sp/" -e "s/@HTTPPORT@/$hp/" "$T/$name.conf.in" >"$T/$name.conf"
        "$LOOKUPD" -c "$T/$name.conf" -d >"$T/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        printf -v "PID_$name" '%s' "$pid"
        for _ in $(seq 100); do
            grep -q "lookupd: ready" "$T/$name.log" 2>/dev/null && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        wait "$pid" 2>/dev/null
        grep -q "Address already in use" "$T/$name.log" || break
    done
    echo "# lookupd $name did not start:"
    sed 's/^/#   /' "$T/$name.log"
    return 1
}

# lookupd_stop NAME - SIGTERM and wait; returns the exit status
lookupd_stop() {
    local pidvar="PID_$1"
    kill -TERM "${!pidvar}" 2>/dev/null
    wait "${!pidvar}"
}

# netstrings MAP - each line of stdin as the request netstring "MAP line"
netstrings() {
    local k s
    while IFS= read -r k; do
        s="$1 $k"
        printf '%d:%s,' "${#s}" "$s"
    done
}

# sm_raw ADDRESS [options] - pipe stdin through sockmap_raw, replies one per line
# (netstring length stripped), then the [closed]/[open] marker
sm_replies() {
    tr ',' '\n' | sed -e 's/^[0-9]*://' -e '/^$/d'
}

# sm_query FD MAP KEY - ask over an open connection (exec FD<>/dev/tcp/...), print the reply
sm_query() {
    local fd=$1 s="$2 $3" reply
    printf '%d:%s,' "${#s}" "$s" >&"$fd" || return 1
    IFS= read -r -d , -t 3 reply <&"$fd" || return 1
    printf '%s\n' "${reply#*:}"
}

# skip_all REASON - one SKIP line, then the plan, and exit (a peer that cannot be had)
skip_all() {
    ok "# SKIP $1"
    echo "1..$TESTNO"
    exit 0
}

# deb_unpack DIR PACKAGE... - unpack Debian packages that cannot be installed next to
# postfix (Exim, Sendmail) into DIR, downloading each .deb into the cache
# ${RCPTDIR_TEST_CACHE:-/var/cache/rcptdir-test} once; scripts/deps fills that cache
deb_unpack() {
    local dir=$1 cache=${RCPTDIR_TEST_CACHE:-/var/cache/rcptdir-test} p deb
    shift
    mkdir -p "$cache" "$dir" 2>>"$T/apt.out" || return 1
    for p in "$@"; do
        # shellcheck disable=SC2012 # Debian package file names: no blanks
        deb=$(ls -t "$cache/${p}_"*.deb 2>/dev/null | head -1)
        if [ -z "$deb" ]; then
            (cd "$cache" && apt-get download -q "$p") >>"$T/apt.out" 2>&1 || return 1
            # shellcheck disable=SC2012
            deb=$(ls -t "$cache/${p}_"*.deb 2>/dev/null | head -1)
        fi
        [ -n "$deb" ] && dpkg -x "$deb" "$dir" || return 1
    done
}
