# shellcheck shell=bash
# postfix.sh - a private Postfix instance for the end-to-end tests (mta_postfix.sh,
# mta_policy.sh): sourced after the test library (tests/lib/rcptdir.sh), whose $TOP,
# ok/not_ok and port_free it uses.
#
# The instance has its own config_directory ($PF/etc), queue_directory and data_directory
# under $PF, listens on loopback only, has no local domains, a mynetworks without 127.0.0.1,
# no DNS, and discards everything it would deliver. It never touches the system's Postfix.
# `postfix start` needs root. Sets PF_STARTED while it runs; pf_stop stops it (call it from
# the EXIT trap too).

PF_STARTED=

# pf_doc_block HEADING - the first fenced block after the line "## HEADING" of
# docs/operations.md
pf_doc_block() {
    awk -v h="## $1" '$0 == h { s = 1; next }
        s == 1 && /^```/ { s = 2; next }
        s == 2 && /^```/ { exit }
        s == 2 { print }' "$TOP/docs/operations.md"
}

# pf_init PF - the instance's directories: $PF/etc for main.cf and master.cf, its queue and
# its data directory
pf_init() {
    mkdir -p "$1/etc" "$1/spool" && install -d -o postfix -g postfix -m 700 "$1/data"
}

# pf_main_cf PF SYSLOG_NAME [v6] - the instance's own main.cf settings (stdout); with v6 it
# listens on ::1 too
pf_main_cf() {
    local pf=$1 ifs="127.0.0.1" proto=ipv4
    [ "${3:-}" = v6 ] && ifs="127.0.0.1, [::1]" && proto=all
    cat <<EOF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
syslog_name = $2
myhostname = mx.rcptdir.test
mydomain = rcptdir.test
mydestination =
mynetworks = 192.0.2.0/24
inet_interfaces = $ifs
inet_protocols = $proto
smtpd_peername_lookup = no
disable_dns_lookups = yes
alias_maps =
alias_database =
local_recipient_maps =
default_transport = discard
relay_transport = discard
local_transport = discard
virtual_transport = discard
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
EOF
}

# pf_master_cf - master.cf's services besides the smtpd listeners (stdout)
pf_master_cf() {
    cat <<EOF
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
proxymap  unix - - n - - proxymap
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

# pf_launch PF PORT... - start the instance of $PF/etc and wait until smtpd accepts
# connections on each 127.0.0.1:PORT; its log on failure
pf_launch() {
    local pf=$1 p
    shift
    if ! postfix -c "$pf/etc" start >"$pf/start.out" 2>&1; then
        sed 's/^/#   /' "$pf/start.out" "$pf/maillog" 2>/dev/null
        return 1
    fi
    PF_STARTED=$pf
    for p in "$@"; do
        for _ in $(seq 200); do
            port_free "$p" || continue 2
            sleep 0.05
        done
        echo "# smtpd on port $p does not accept connections"
        sed 's/^/#   /' "$pf/maillog"
        return 1
    done
}

# pf_stop - stop the running instance, if any; returns postfix stop's status
pf_stop() {
    local rc=0
    [ -n "$PF_STARTED" ] && { postfix -c "$PF_STARTED/etc" stop >/dev/null 2>&1 || rc=$?; }
    PF_STARTED=
    return "$rc"
}

# pf_log_tail PF - the end of the instance's log, as TAP comments
pf_log_tail() {
    echo "# Postfix log:"
    grep -vE 'connect from|disconnect from' "$1/maillog" | tail -n 30 | sed 's/^/#   /'
}

# check_match DESC REGEX GOT - ok when GOT matches the extended REGEX (unless the test
# library has one)
declare -F check_match >/dev/null || check_match() {
    if grep -qE "$2" <<<"$3"; then
        ok "$1"
    else
        not_ok "$1"
        echo "#   want: /$2/"
        echo "#   got:  $(printf '%q' "$3")"
    fi
}
