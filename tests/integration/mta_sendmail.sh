#!/bin/bash
# mta_sendmail.sh - the Sendmail maps and ruleset of docs/operations.md (section Sendmail, read
# from that file) against rcptdir-lookupd: m4 and sendmail-cf's macros build a sendmail.cf
# with that LOCAL_CONFIG and LOCAL_RULESETS (example.* as relay domains), and `sendmail -bt`
# (address test mode, no daemon) looks keys up with `/map rcpt KEY` over lookupd's socketmap
# and runs check_rcpt, the ruleset Sendmail applies to RCPT TO, which calls the documented
# Local_check_rcpt. Covers the golden rcpt set (tests/data/lookupd/rcpt.in: found keys return
# the primary address, NOTFOUND is "no match (68)"), the verdicts of check_rcpt (accepted,
# 550 User unknown, the relay check's 550 for foreign domains), a stale store (unknown:
# "no match (75)" and 451) and lookupd down (75, 451).
#
# Sendmail conflicts with the postfix package, so it is not installed: the test runs the
# binary of sendmail-bin, with sendmail-cf's macros and the m4 of the m4 package, from
# `apt-get download` + `dpkg -x` into $T. The .debs are kept in $RCPTDIR_TEST_CACHE (default
# /var/cache/rcptdir-test), so only the first run downloads. Sendmail resolves its own host
# name at start-up (through DNS, waiting 60 s when that fails): it runs in private mount and
# UTS namespaces (unshare -mu) with the host name mx.rcptdir.test, which a copy of
# /etc/hosts resolves, and an nsswitch.conf with files only, so no query leaves the machine.
# Skips (TAP SKIP) when the packages cannot be had. The store is written by mkstore from
# schema/ldap/sample.expected. Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

SM=$T/sendmail
STORE=$T/store

# sm_fetch - unpack sendmail-bin, sendmail-cf, m4 into $SM/root (deb_unpack, tests/lib/mta.sh)
sm_fetch() {
    deb_unpack "$SM/root" sendmail-bin sendmail-cf m4 && [ -x "$SM/root/usr/libexec/sendmail/sendmail" ] && [ -x "$SM/root/usr/bin/m4" ]
}

# sm_run ARGS... - run the unpacked sendmail as host mx.rcptdir.test, resolved from files
sm_run() {
    # shellcheck disable=SC2016 # $1 is the inner shell's
    unshare -mu sh -c 'hostname mx.rcptdir.test && mount --bind "$1/hosts" /etc/hosts &&
        mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf && shift && exec "$@"' sh "$SM" \
        "$SM/root/usr/libexec/sendmail/sendmail" "$@"
}

# sm_map KEY... - one sendmail -bt session: /map rcpt KEY for each KEY; prints
# "KEY<TAB>answer" (answer: "returns VALUE (0)" or "no match (STATUS)"), one per line
sm_map() {
    printf '/map rcpt %s\n' "$@" | sm_run -C "$SM/sendmail.cf" -bt 2>"$SM/bt.err" |
        sed -n 's/^> map_lookup: rcpt (\(.*\)) \(.*\)$/\1\t\2/p'
}

# sm_rcpt KEY... - one sendmail -bt session: check_rcpt, the ruleset Sendmail runs for RCPT
# TO (it calls the Local_check_rcpt of docs/operations.md first), on <KEY> for each KEY, from
# a client outside; prints "KEY<TAB>verdict": "accepted", or the error's SMTP text
sm_rcpt() {
    { printf '.D{client_addr}192.0.2.1\n'; printf 'check_rcpt <%s>\n' "$@"; } |
        sm_run -C "$SM/sendmail.cf" -bt 2>"$SM/bt.err" |
        sed -n 's/^check_rcpt *returns: //p' |
        sed -e 's/^\$# error .*\$: "\(.*\)"$/\1/' -e '/^[0-9][0-9][0-9] /!s/.*/accepted/' |
        paste <(printf '%s\n' "$@") -
}

if ! sm_fetch; then
    sed 's/^/#   /' "$T/apt.out" 2>/dev/null | tail -5
    skip_all "sendmail-bin, sendmail-cf or m4 not available (apt-get download failed)"
fi
printf '127.0.0.1 localhost mx.rcptdir.test mx\n' >"$SM/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$SM/nsswitch.conf"
mkdir -p "$SM/queue"
version=$(sm_run -d0.1 -bt </dev/null 2>&1 | sed -n 's/^Version \([^ ]*\).*/\1/p')
[ -n "$version" ] || skip_all "the unpacked sendmail does not run: $(sm_run -d0.1 -bt </dev/null 2>&1 | head -1)"
ok "sendmail $version unpacked from the cached .deb runs"

"$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
write_conf a "$STORE"
require "lookupd starts" lookupd_start a

cat >"$SM/sendmail.mc" <<EOF
divert(-1)
include(\`$SM/root/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
RELAY_DOMAIN(\`example.org example.com example.net')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
doc_block Sendmail | sed "s/inet:8641@/inet:$SMPORT_a@/" >>"$SM/sendmail.mc"
"$SM/root/usr/bin/m4" "$SM/sendmail.mc" >"$SM/sendmail.cf" 2>"$SM/m4.err"
check_eq "m4 builds sendmail.cf (exit 0, no messages)" "0:" "$?:$(cat "$SM/m4.err")"
check_eq "sendmail.cf has the K lines of docs/operations.md, section Sendmail" \
    "$(printf 'Krcpt socket -T<TMPF> inet:%s@127.0.0.1\nKdomain socket -T<TMPF> inet:%s@127.0.0.1' \
        "$SMPORT_a" "$SMPORT_a")" "$(grep '^K\(rcpt\|domain\) ' "$SM/sendmail.cf")"
check "sendmail.cf has its Local_check_rcpt ruleset" grep -q '^SLocal_check_rcpt' "$SM/sendmail.cf"

# --- the golden rcpt set, one -bt session --------------------------------------------------
want=$(awk -F'\t' '{ sub(/ $/, "", $2)
    if ($2 ~ /^OK /) print $1 "\treturns " substr($2, 4) " (0)"; else print $1 "\tno match (68)" }' \
    "$DATA/rcpt.raw.ref")
got=$(mapfile -t keys <"$DATA/rcpt.in" && sm_map "${keys[@]}")
check_eq "/map rcpt over rcpt.in matches rcpt.raw.ref" "$want" "$got"

# --- the ruleset: RCPT TO as Sendmail checks it, example.* being relay domains ------------------
UNKNOWN="550 User unknown"
RELAY="550 Relaying denied"
TEMP="451 Recipient lookup failed, try again later"
check_eq "check_rcpt: valid, +tag, case, alias, group, catch-all accepted; unknown and disabled \
550 User unknown; foreign left to the relay check" "$(printf '%s\t%s\n' \
    alice@example.org accepted Alice+Tag@Example.ORG accepted al@example.org accepted \
    staff@example.org accepted anything@example.net accepted nobody@example.org "$UNKNOWN" \
    nobody+tag@example.com "$UNKNOWN" dave@example.com "$UNKNOWN" someone@foreign.test "$RELAY")" \
    "$(sm_rcpt alice@example.org Alice+Tag@Example.ORG al@example.org staff@example.org \
        anything@example.net nobody@example.org nobody+tag@example.com dave@example.com \
        someone@foreign.test)"

# --- stale store, lookupd down: 75 (EX_TEMPFAIL) --------------------------------------------
# mkstore backdates last_success by 200000 s (> the default max_age of 86400)
"$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "stale: unknown is a temporary failure (75), valid still found" \
    "$(printf 'nobody@example.org\tno match (75)\nalice@example.org\treturns alice@example.org (0)')" \
    "$(sm_map nobody@example.org alice@example.org)"
check_eq "check_rcpt, stale store: unknown 451, valid accepted" \
    "$(printf '%s\t%s\n' nobody@example.org "$TEMP" alice@example.org accepted)" \
    "$(sm_rcpt nobody@example.org alice@example.org)"
lookupd_stop a
check_eq "lookupd stopped (exit 0)" "0" "$?"
check_eq "lookupd down: temporary failure (75)" "$(printf 'alice@example.org\tno match (75)')" \
    "$(sm_map alice@example.org)"
check_eq "check_rcpt, lookupd down: 451 for a local address, foreign left to the relay check" \
    "$(printf '%s\t%s\n' alice@example.org "$TEMP" someone@foreign.test "$TEMP")" \
    "$(sm_rcpt alice@example.org someone@foreign.test)"
done_testing
