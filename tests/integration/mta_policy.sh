#!/bin/bash
# shellcheck disable=SC2154 # SMPORT_a, HTTPPORT_a, _b, _c, _d are set by lookupd_start (lib.sh)
# mta_policy.sh - the policy service and its harvest defence (issue 17), end to end through
# a real, private Postfix instance whose smtpd asks rcptdir-lookupd over check_policy_service
# with the main.cf block of docs/operations.md (section "Postfix policy service"), driven by a
# real SMTP client (Python's smtplib) from several loopback source addresses, and over the
# policy protocol directly (tests/data/policy/policy_client.py).
#
# Covers: valid 250, unknown 550 5.1.1, disabled 550 5.2.1, foreign untouched; one client
# sending 25 unknown RCPTs in one session, and another spreading 25 over 10 sessions, then
# refused with 450 4.7.1 for a valid address too, and accepted again after the (short)
# penalty; an exempt client never refused; a client over IPv6 (::1); 421 4.7.1 ending the
# session with harvest_disconnect; the offenders in /v1/harvest and the counters in /metrics,
# one log line per penalty; an IPv6 /64 counted as one client; the table capped under a spray
# of 3000 client addresses; malformed requests (no empty line, a 100 kB attribute, 10,000
# attributes, binary bytes) answered with their reason and closed while another client's
# connection goes on; a stale store: 451 4.3.5, never 550; max_connections and
# policy_idle_timeout; -n refusing bad values of the new keys.
#
# The instance is tests/lib/postfix.sh's (loopback only, ::1 too when it exists, no DNS,
# everything discarded). `postfix start` needs root. Prints TAP.
. "$(dirname "$0")/../data/lookupd/lib.sh"
. "$(dirname "$0")/../lib/postfix.sh"

PF=$T/postfix-pol
PY=$(command -v /usr/bin/python3 || command -v python3)
PC="$TOP/tests/data/policy/policy_client.py"
PENALTY=10

mta_cleanup() {
    pf_stop
    lib_cleanup
}
trap mta_cleanup EXIT

HAVE_V6=
"$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null &&
    HAVE_V6=v6

# pf_start SMTP SMTP6 SMTP421 MAP_PORT POLICY_PORT POLICY421_PORT - main.cf (the instance's
# own settings, then the documented block with lookupd's ports), master.cf, start. The third
# smtpd asks the second lookupd (harvest_disconnect = yes).
pf_start() {
    pf_init "$PF" || return 1
    {
        pf_main_cf "$PF" postfix-rcptdir-policy $HAVE_V6
        pf_doc_block "Postfix policy service" |
            sed -e "s/127\.0\.0\.1:8641:/127.0.0.1:$4:/g" -e "s/127\.0\.0\.1:8643/127.0.0.1:$5/g"
    } >"$PF/etc/main.cf"
    if ! grep -q "check_policy_service.*inet:127.0.0.1:$5" "$PF/etc/main.cf"; then
        echo "# docs/operations.md, section Postfix policy service: no check_policy_service found"
        return 1
    fi
    {
        echo "127.0.0.1:$1 inet n - n - - smtpd"
        [ -n "$HAVE_V6" ] && echo "[::1]:$2 inet n - n - - smtpd"
        echo "127.0.0.1:$3 inet n - n - - smtpd -o smtpd_recipient_restrictions=reject_unauth_destination,check_policy_service,inet:127.0.0.1:$6"
        pf_master_cf
    } >"$PF/etc/master.cf"
    pf_launch "$PF" "$1" "$3"
}

cat >"$T/rcpt.py" <<'EOF'
# rcpt.py SOURCE PORT ADDRESS... - one SMTP session from the source address SOURCE (127.0.0.x
# or ::1): EHLO, MAIL FROM, RCPT TO each ADDRESS; prints each RCPT reply as "CODE TEXT" (first
# line); "DISCONNECTED" when the server closed the session
import smtplib, sys
src, port, addrs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
host = "::1" if ":" in src else "127.0.0.1"
s = smtplib.SMTP(host, port, local_hostname="client.rcptdir.test", timeout=30,
                 source_address=(src, 0))
s.ehlo()
s.mail("sender@foreign.test")
for a in addrs:
    try:
        code, text = s.rcpt(a)
    except smtplib.SMTPServerDisconnected:
        print("DISCONNECTED")
        sys.exit(0)
    print(code, text.decode().split("\n")[0])
try:
    s.quit()
except smtplib.SMTPServerDisconnected:
    print("DISCONNECTED")
EOF

# rcpt SOURCE PORT ADDRESS... - the RCPT TO replies of one session, one per line
rcpt() {
    "$PY" "$T/rcpt.py" "$@" 2>&1
}

# unknowns N - N unknown addresses of a managed domain
unknowns() {
    local i
    for i in $(seq "$1"); do echo "harvest$i-$RANDOM@example.org"; done
}

# until_accepted SOURCE PORT - poll (deadline: 4 penalties) until a valid address gets 250
until_accepted() {
    local i
    for i in $(seq $((PENALTY * 8))); do
        [ "$(rcpt "$1" "$2" alice@example.org)" = "250 2.1.5 Ok" ] && return 0
        sleep 0.5
    done
    return 1
}

# count_lines REGEX TEXT - lines of TEXT matching REGEX
count_lines() {
    grep -cE "$1" <<<"$2"
}

# metric NAME [PORT] - its value in lookupd a's /metrics (or that on HTTP port PORT)
metric() {
    curl -s "http://127.0.0.1:${2:-$HTTPPORT_a}/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

[ -n "$PY" ] || skip_all "python3 is not installed (the SMTP and policy client)"
STORE=$T/store
"$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "mkstore: a fresh store with the sample's addresses" "0" "$?"
POL_a=$(free_port)
POL_b=$(free_port)
while [ "$POL_b" = "$POL_a" ]; do POL_b=$(free_port); done
# a: Postfix's; a short penalty; 127.0.0.3 exempt; IPv4 counted per address (all clients
# are in 127.0.0.0/24)
write_conf a "$STORE" "policy_listen = inet:127.0.0.1:$POL_a" "harvest_threshold = 20" \
    "harvest_window = 3600" "harvest_penalty = $PENALTY" "harvest_prefix_v4 = 32" \
    "harvest_exempt = 127.0.0.3"
require "lookupd a (policy_listen) starts" lookupd_start a
# b: 421 instead of 450, a long penalty, IPv6 /64 counted with 30 per prefix, a small table
write_conf b "$STORE" "policy_listen = inet:127.0.0.1:$POL_b" "harvest_threshold = 20" \
    "harvest_penalty = 600" "harvest_prefix_v4 = 32" "harvest_prefix_threshold = 30" \
    "harvest_exempt =" "harvest_disconnect = yes" "harvest_max_clients = 500" \
    "policy_idle_timeout = 11"
require "lookupd b (harvest_disconnect = yes) starts" lookupd_start b
exec 8<>"/dev/tcp/127.0.0.1/$POL_b" # left idle: closed after policy_idle_timeout (checked last)
IDLE_SINCE=$SECONDS

# configuration errors of the new keys
printf '[store]\npath = %s\n[lookupd]\nharvest_exempt = 10.0.0.0/8, 300.1.2.3/8\npolicy_listen = nowhere\n' \
    "$STORE" >"$T/bad.conf"
got=$("$LOOKUPD" -n -c "$T/bad.conf" 2>&1)
check_match "-n: a bad harvest_exempt network is an error" \
    "harvest_exempt: '300\.1\.2\.3/8' is not an IP address or network" "$got"
check_match "-n: a bad policy_listen is an error" "policy_listen" "$got"

SMTP=$(free_port) && SMTP6=$(free_port) && SMTP421=$(free_port)
if ! pf_start "$SMTP" "$SMTP6" "$SMTP421" "$SMPORT_a" "$POL_a" "$POL_b"; then
    not_ok "private Postfix starts"
else
    ok "private Postfix starts (127.0.0.1:$SMTP${HAVE_V6:+, [::1]:$SMTP6}, 127.0.0.1:$SMTP421)"

    # --- the access map's answers, through the policy service --------------------------------
    while IFS='|' read -r addr want; do
        check_eq "RCPT TO:<$addr>: $want" "$want" "$(rcpt 127.0.0.1 "$SMTP" "$addr")"
    done <<'CASES'
alice@example.org|250 2.1.5 Ok
ALICE+Tag@EXAMPLE.org|250 2.1.5 Ok
anything@example.net|250 2.1.5 Ok
nobody@example.org|550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown
dave@example.com|550 5.2.1 <dave@example.com>: Recipient address rejected: Mailbox disabled
someone@foreign.test|554 5.7.1 <someone@foreign.test>: Relay access denied
CASES
    check_match "the policy service gave those answers (unknowns by map policy in /metrics)" \
        '^[1-9]' "$(curl -s "http://127.0.0.1:$HTTPPORT_a/metrics" |
            awk '/^rcptdir_lookups_total\{map="policy",result="unknown"\}/ { print $2 }')"

    # --- 25 unknown recipients in one session ---------------------------------------------------
    # shellcheck disable=SC2046
    got=$(rcpt 127.0.0.2 "$SMTP" $(unknowns 25) alice@example.org)
    check_eq "one session, 25 unknown: the first 20 get 550 5.1.1" "20" \
        "$(count_lines '^550 5\.1\.1 .*User unknown$' "$got")"
    check_eq "  ... the next 5 get 450 4.7.1" "5" \
        "$(count_lines '^450 4\.7\.1 <harvest.*Too many unknown recipients from 127\.0\.0\.2, try again later$' "$got")"
    check_match "  ... and then a valid address gets 450 4.7.1 too" \
        '^450 4\.7\.1 <alice@example\.org>: Recipient address rejected: Too many unknown' \
        "$(tail -n 1 <<<"$got")"
    check_match "a new session from 127.0.0.2: valid refused 450 4.7.1" '^450 4\.7\.1 ' \
        "$(rcpt 127.0.0.2 "$SMTP" bob@example.org)"
    check_eq "another client meanwhile: valid 250" "250 2.1.5 Ok" \
        "$(rcpt 127.0.0.1 "$SMTP" bob@example.org)"

    # --- the same spread over 10 sessions --------------------------------------------------------
    spread=
    for s in 3 3 3 3 3 2 2 2 2 2; do
        # shellcheck disable=SC2046
        spread+=$(rcpt 127.0.0.4 "$SMTP" $(unknowns "$s"))$'\n'
    done
    check_eq "10 sessions, 25 unknown: 20 get 550 5.1.1" "20" \
        "$(count_lines '^550 5\.1\.1 ' "$spread")"
    check_eq "  ... 5 get 450 4.7.1" "5" "$(count_lines '^450 4\.7\.1 ' "$spread")"
    check_match "  ... then valid refused 450 4.7.1" '^450 4\.7\.1 .*127\.0\.0\.4' \
        "$(rcpt 127.0.0.4 "$SMTP" alice@example.org)"

    # --- an exempt client: never ----------------------------------------------------------------
    # shellcheck disable=SC2046
    got=$(rcpt 127.0.0.3 "$SMTP" $(unknowns 30) alice@example.org)
    check_eq "exempt 127.0.0.3, 30 unknown: all 550 5.1.1" "30" \
        "$(count_lines '^550 5\.1\.1 ' "$got")"
    check_eq "  ... and valid still 250" "250 2.1.5 Ok" "$(tail -n 1 <<<"$got")"

    # --- IPv6 through Postfix -------------------------------------------------------------------
    if [ -n "$HAVE_V6" ]; then
        # shellcheck disable=SC2046
        got=$(rcpt ::1 "$SMTP6" $(unknowns 21) alice@example.org)
        check_eq "client ::1, 21 unknown, then valid: 2 refusals 450 4.7.1" "2" \
            "$(count_lines '^450 4\.7\.1 .*from ::1, try again later$' "$got")"
    else
        ok "# SKIP ::1 is not available here"
    fi

    # --- visibility ---------------------------------------------------------------------------
    hv=$(curl -s "http://127.0.0.1:$HTTPPORT_a/v1/harvest")
    check_match "/v1/harvest lists 127.0.0.2 with its count and until" \
        '\{"client":"127\.0\.0\.2","count":2[0-9],"prefix":false,"remaining":[0-9]+,"until":[0-9]+\}' "$hv"
    check_match "/v1/harvest lists 127.0.0.4" '"client":"127\.0\.0\.4"' "$hv"
    if grep -q '127\.0\.0\.3' <<<"$hv"; then
        not_ok "/v1/harvest does not list the exempt 127.0.0.3"
    else
        ok "/v1/harvest does not list the exempt 127.0.0.3"
    fi
    check_match "/metrics: penalties counted" "^[3-9]$" "$(metric rcptdir_harvest_penalties_total)"
    check_match "/metrics: refusals counted" "^[1-9][0-9]*$" "$(metric rcptdir_harvest_refusals_total)"
    check_match "/metrics: unknowns counted" "^[0-9]{2,}$" "$(metric rcptdir_harvest_unknown_total)"
    check_match "/metrics: penalised now" "^[2-9]$" "$(metric rcptdir_harvest_penalised)"
    check_eq "one log line for the penalty of 127.0.0.2" "1" \
        "$(grep -c "policy: harvest: client 127\.0\.0\.2 penalised for $PENALTY s: 21 unknown recipients" "$T/a.log")"

    # --- after the penalty ------------------------------------------------------------------------
    check "after the penalty 127.0.0.2 gets 250 for a valid address again" \
        until_accepted 127.0.0.2 "$SMTP"
    check "  ... and 127.0.0.4 too" until_accepted 127.0.0.4 "$SMTP"

    # --- 421: the session ends ------------------------------------------------------------------
    # shellcheck disable=SC2046
    got=$(rcpt 127.0.0.5 "$SMTP421" $(unknowns 22) alice@example.org)
    check_match "harvest_disconnect: the 21st unknown gets 421 4.7.1" \
        '^421 4\.7\.1 .*Too many unknown recipients from 127\.0\.0\.5' "$got"
    check_eq "  ... and the session ends there" "DISCONNECTED" "$(tail -n 1 <<<"$got")"
    check_eq "  ... after 20 times 550 5.1.1" "20" "$(count_lines '^550 5\.1\.1 ' "$got")"

    # --- stale store: 451 4.3.5, never 550 ------------------------------------------------------
    "$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
    check_eq "stale: unknown gets 451 4.3.5 from the policy service" \
        "451 4.3.5 <nobody@example.org>: Recipient address rejected: Temporary failure: store stale" \
        "$(rcpt 127.0.0.6 "$SMTP" nobody@example.org)"
    # shellcheck disable=SC2046
    got=$(rcpt 127.0.0.6 "$SMTP" $(unknowns 25))
    check_eq "stale: 25 unknown, 25 times 451 4.3.5 (not counted, never 550)" "25" \
        "$(count_lines '^451 4\.3\.5 ' "$got")"
    check_eq "stale: valid still 250" "250 2.1.5 Ok" "$(rcpt 127.0.0.6 "$SMTP" alice@example.org)"
    check_eq "stale: disabled still 550 5.2.1" \
        "550 5.2.1 <dave@example.com>: Recipient address rejected: Mailbox disabled" \
        "$(rcpt 127.0.0.6 "$SMTP" dave@example.com)"
    "$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"

    pf_stop
    check_eq "postfix stop" "0" "$?"
    [ "$FAILED" -gt 0 ] && pf_log_tail "$PF"
fi

# --- the policy protocol directly ------------------------------------------------------------
check_eq "protocol_state DATA: DUNNO" "action=DUNNO" \
    "$("$PY" "$PC" "$POL_a" state DATA nobody@example.org)"
check_eq "RCPT: the access map's answers" \
    "$(printf '%s\n' action=DUNNO 'action=550 5.1.1 User unknown' 'action=550 5.2.1 Mailbox disabled' action=DUNNO)" \
    "$("$PY" "$PC" "$POL_a" ask 198.51.100.1 alice@example.org nobody@example.org dave@example.com x@foreign.test)"
# lookupd b: an IPv6 /64 is one client: 31 addresses of it, one unknown each, are over 30
check_eq "IPv6 /64: 30 addresses get 550, the 31st 421" "action=421=1 action=550=30" \
    "$("$PY" "$PC" "$POL_b" spray 2001:db8:1:2::a:%x 31 nobody@example.org)"
check_match "  ... a new address of that /64 is refused, for a valid recipient" \
    '^action=421 4\.7\.1 Too many unknown recipients from 2001:db8:1:2::/64, try again later$' \
    "$("$PY" "$PC" "$POL_b" ask 2001:db8:1:2:ffff::1 alice@example.org)"
check_eq "  ... the next /64 is not" "action=DUNNO" \
    "$("$PY" "$PC" "$POL_b" ask 2001:db8:1:3::1 alice@example.org)"
# a spray from 3000 addresses (each its own /64): the table stays at harvest_max_clients
check_eq "spray of 3000 IPv6 clients: each one unknown is 550" "action=550=3000" \
    "$("$PY" "$PC" "$POL_b" spray 2001:db9:%x::1 3000 nobody@example.org)"
hv=$(curl -s "http://127.0.0.1:$HTTPPORT_b/v1/harvest")
check_match "  ... /v1/harvest: at most 500 tracked (harvest_max_clients)" \
    '"max_clients":500,.*"tracked":(500|4[0-9][0-9]),' "$hv"
check_match "  ... /metrics: evictions counted" "^[0-9]{3,}$" \
    "$(metric rcptdir_harvest_evictions_total "$HTTPPORT_b")"
check_match "  ... the /64 penalised before the spray is still refused" '^action=421 ' \
    "$("$PY" "$PC" "$POL_b" ask 2001:db8:1:2::77 alice@example.org)"
check_match "  ... and listed in /v1/harvest" '"client":"2001:db8:1:2::/64","count":31,"prefix":true' \
    "$(curl -s "http://127.0.0.1:$HTTPPORT_b/v1/harvest")"

# max_connections: lookupd c takes 16 policy connections, and closes more at once
POL_c=$(free_port)
write_conf c "$STORE" "policy_listen = inet:127.0.0.1:$POL_c, unix:$T/c-policy.sock" \
    "max_connections = 16"
if lookupd_start c; then
    check_eq "a Unix socket listener too" "action=550 5.1.1 User unknown" \
        "$("$PY" "$PC" "$T/c-policy.sock" ask 192.0.2.1 nobody@example.org)"
    check_eq "max_connections = 16: of 20 policy connections 16 are answered, 4 closed" \
        "answered=16 closed=4" "$("$PY" "$PC" "$POL_c" conns 20)"
    check_match "  ... counted as refused" "^4$" \
        "$(metric rcptdir_policy_connections_refused_total "$HTTPPORT_c")"
    lookupd_stop c
else
    not_ok "lookupd c (max_connections = 16) starts"
fi

# without policy_listen: no policy thread, /v1/harvest 404, no policy metrics
write_conf d "$STORE"
if lookupd_start d; then
    check_eq "no policy_listen: GET /v1/harvest 404" "404" \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTPPORT_d/v1/harvest")"
    check_eq "  ... and no policy metrics" "" "$(metric rcptdir_policy_requests_total "$HTTPPORT_d")"
    lookupd_stop d
else
    not_ok "lookupd d (no policy_listen) starts"
fi

# malformed requests: the reason, then close; a client connected before goes on
exec 7<>"/dev/tcp/127.0.0.1/$POL_a"
for kind in "noempty|request truncated by end of input" "big|attribute too long" \
    "many|too many attributes" "binary|NUL byte in a name"; do
    want=${kind#*|}
    check_eq "malformed (${kind%%|*}): '$want', then closed" \
        "$(printf 'action=451 4.3.5 Policy request malformed: %s\nclosed' "$want")" \
        "$("$PY" "$PC" "$POL_a" bad "${kind%%|*}")"
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=alice@example.org\nclient_address=192.0.2.9\n\n' >&7
    line="" empty=x
    IFS= read -r -t 5 line <&7 && IFS= read -r -t 5 empty <&7
    check_eq "  ... the connection opened before still answered" "action=DUNNO|" "$line|$empty"
done
exec 7<&-
check_match "/metrics: malformed counted" "^[4-9]$" "$(metric rcptdir_policy_malformed_total)"
check "the reasons are logged" grep -q 'policy: malformed request, closing: attribute too long' "$T/a.log"

# the idle connection opened at the start: closed by lookupd b after policy_idle_timeout
# (the 421 smtpd's connection to lookupd b may time out too)
while [ $((SECONDS - IDLE_SINCE)) -lt 25 ] && ! grep -q '^rcptdir_policy_connections_timedout_total [1-9]$' <(
    curl -s "http://127.0.0.1:$HTTPPORT_b/metrics"
); do
    sleep 0.5
done
IFS= read -r -t 2 line <&8
check_eq "an idle policy connection is closed after policy_idle_timeout (EOF, not a timeout)" \
    "1" "$?"
check_match "  ... counted as timed out" "^[1-9]$" \
    "$(metric rcptdir_policy_connections_timedout_total "$HTTPPORT_b")"
exec 8<&-

lookupd_stop a
check_eq "lookupd a: SIGTERM exit 0" "0" "$?"
lookupd_stop b
check_eq "lookupd b: SIGTERM exit 0" "0" "$?"
done_testing
