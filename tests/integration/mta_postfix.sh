#!/bin/bash
# mta_postfix.sh - end to end through a real, private Postfix instance (issue 6): its smtpd
# checks each RCPT TO with the main.cf block of docs/operations.md, read from that file
# (relay_domains, relay_recipient_maps, smtpd_relay_restrictions and check_recipient_access
# over socketmap:inet to rcptdir-lookupd), driven by a real SMTP client (Python's smtplib).
# Covers valid (also +tag and upper case), unknown (550 5.1.1), disabled (550 5.2.1), foreign
# (554 5.7.1 relay denied), a stale store (451 for unknown), lookupd down (451) and back, and
# a user added to LDAP accepted after the next rcptdir-syncd run without restarting Postfix
# or lookupd. The store comes from a throwaway slapd (schema/ldap/sample.ldif) through the
# real rcptdir-syncd.
#
# The instance has its own config_directory, queue_directory and data_directory under $T,
# listens on 127.0.0.1 only, has no local domains, a mynetworks without 127.0.0.1, no DNS,
# and discards everything it would deliver. It never touches the system's Postfix.
# `postfix start` needs root. Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"
. "$(dirname "$0")/../lib/postfix.sh"

PF=$T/postfix
PF_STARTED=
PF_MASTER=
PY=$(command -v /usr/bin/python3 || command -v python3)

mta_cleanup() {
    [ -n "$PF_STARTED" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
    lib_cleanup
}
trap mta_cleanup EXIT

# pf_start SMTP_PORT MAP_PORT SMTP_PORT_RCPT_ONLY - write the instance's main.cf (its own
# settings, then the block of docs/operations.md, section Postfix, with lookupd's port) and
# master.cf, and start it. The second smtpd has only reject_unauth_destination in its
# recipient restrictions, so relay_recipient_maps alone decides there.
pf_start() {
    pf_init "$PF" || return 1
    {
        pf_main_cf "$PF" postfix-rcptdir-test
        doc_block Postfix | sed "s/127\.0\.0\.1:8641:/127.0.0.1:$2:/g"
    } >"$PF/etc/main.cf"
    if ! grep -q "^relay_recipient_maps = socketmap:inet:127.0.0.1:$2:rcpt" "$PF/etc/main.cf"; then
        echo "# docs/operations.md, section Postfix: no relay_recipient_maps line found"
        return 1
    fi
    {
        echo "127.0.0.1:$1 inet n - n - - smtpd"
        echo "127.0.0.1:$3 inet n - n - - smtpd -o smtpd_recipient_restrictions=reject_unauth_destination"
        pf_master_cf
    } >"$PF/etc/master.cf"
    if ! postfix -c "$PF/etc" start >"$PF/start.out" 2>&1; then
        sed 's/^/#   /' "$PF/start.out" "$PF/maillog" 2>/dev/null
        return 1
    fi
    PF_STARTED=1
    PF_MASTER=$(awk '{ print $1; exit }' "$PF/spool/pid/master.pid")
    local p
    for p in "$1" "$3"; do
        wait_until 30 port_open "$p" && continue
        echo "# smtpd on port $p does not accept connections"
        sed 's/^/#   /' "$PF/maillog"
        return 1
    done
}

cat >"$T/rcpt.py" <<'EOF'
# rcpt.py PORT ADDRESS... - one SMTP session: EHLO, MAIL FROM, RCPT TO each ADDRESS; prints
# each RCPT reply as "CODE TEXT" (first line), one per line; with --data, sends a message to
# the accepted recipients and prints the end-of-data reply as "DATA CODE TEXT"
import smtplib, sys
args = sys.argv[1:]
data = args[0] == "--data"
if data:
    args = args[1:]
s = smtplib.SMTP("127.0.0.1", int(args[0]), local_hostname="client.rcptdir.test", timeout=30)
s.ehlo()
s.mail("sender@foreign.test")
accepted = 0
for a in args[1:]:
    code, text = s.rcpt(a)
    accepted += code == 250
    print(code, text.decode().split("\n")[0])
if data and accepted:
    code, text = s.data(b"Subject: rcptdir test\r\n\r\nhello\r\n")
    print("DATA", code, text.decode().split(" queued as ")[0])
s.quit()
EOF

# rcpt PORT ADDRESS... - the RCPT TO replies of one session, one per line
rcpt() {
    "$PY" "$T/rcpt.py" "$@" 2>&1
}

STORE=$T/store
require "slapd with schema/ldap/sample.ldif starts" slapd_up
check "rcptdir-syncd fills the store from slapd" sync_store "$STORE"
write_conf a "$STORE"
require "lookupd starts" lookupd_start a
SMTP=$(free_port) && SMTP2=$(free_port)
while [ "$SMTP2" = "$SMTP" ]; do SMTP2=$(free_port); done
if [ -z "$PY" ]; then
    not_ok "python3 is installed (the SMTP client)"
elif ! pf_start "$SMTP" "$SMPORT_a" "$SMTP2"; then
    not_ok "private Postfix starts on 127.0.0.1:$SMTP and 127.0.0.1:$SMTP2"
else
    ok "private Postfix starts on 127.0.0.1:$SMTP and 127.0.0.1:$SMTP2"

    # --- the answers of a fresh store -------------------------------------------------------
    while IFS='|' read -r addr want; do
        check_eq "RCPT TO:<$addr>: $want" "$want" "$(rcpt "$SMTP" "$addr")"
    done <<'CASES'
alice@example.org|250 2.1.5 Ok
alice+tag@example.org|250 2.1.5 Ok
ALICE+Tag@EXAMPLE.org|250 2.1.5 Ok
sales-team@example.com|250 2.1.5 Ok
anything@example.net|250 2.1.5 Ok
nobody@example.org|550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown
nobody+tag@example.com|550 5.1.1 <nobody+tag@example.com>: Recipient address rejected: User unknown
dave@example.com|550 5.2.1 <dave@example.com>: Recipient address rejected: Mailbox disabled
David.Miller+x@Example.COM|550 5.2.1 <David.Miller+x@Example.COM>: Recipient address rejected: Mailbox disabled
someone@foreign.test|554 5.7.1 <someone@foreign.test>: Relay access denied
alice@sub.example.org|554 5.7.1 <alice@sub.example.org>: Relay access denied
CASES
    check_eq "several recipients in one session, then DATA: queued (and discarded)" \
        "$(printf '%s\n' '250 2.1.5 Ok' \
            '550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown' \
            '250 2.1.5 Ok' 'DATA 250 2.0.0 Ok:')" \
        "$(rcpt --data "$SMTP" Alice@Example.ORG nobody@example.org frank+x@example.net)"

    # relay_recipient_maps alone (the second smtpd): unknown and disabled are 550 5.1.1
    check_eq "rcpt map only: valid accepted" "250 2.1.5 Ok" "$(rcpt "$SMTP2" Bob@example.org)"
    check_eq "rcpt map only: unknown 550 5.1.1 (relay recipient table)" \
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in relay recipient table" \
        "$(rcpt "$SMTP2" nobody@example.org)"
    check_eq "rcpt map only: disabled 550 5.1.1 (relay recipient table)" \
        "550 5.1.1 <dave@example.com>: Recipient address rejected: User unknown in relay recipient table" \
        "$(rcpt "$SMTP2" dave@example.com)"

    # --- a user added to LDAP: accepted after the next sync, no restart -----------------------
    check_eq "before: newuser@example.org unknown" \
        "550 5.1.1 <newuser@example.org>: Recipient address rejected: User unknown" \
        "$(rcpt "$SMTP" newuser@example.org)"
    ldap_root ldapadd -f "$DATA/add-newuser.ldif"
    check_eq "ldapadd (rootdn) adds uid=newuser" "0" "$?"
    check_eq "  ... still unknown before the sync" \
        "550 5.1.1 <newuser@example.org>: Recipient address rejected: User unknown" \
        "$(rcpt "$SMTP" newuser@example.org)"
    check "rcptdir-syncd picks up the new user" sync_store "$STORE"
    check_eq "  ... RCPT TO:<newuser@example.org> accepted" "250 2.1.5 Ok" "$(rcpt "$SMTP" newuser@example.org)"
    check_eq "  ... with +tag and in upper case" "250 2.1.5 Ok" "$(rcpt "$SMTP" NEWUSER+x@EXAMPLE.ORG)"
    check_eq "  ... by the rcpt map alone too" "250 2.1.5 Ok" "$(rcpt "$SMTP2" newuser@example.org)"
    check "  ... same lookupd process" kill -0 "$PID_a"
    check_eq "  ... same Postfix master" "$PF_MASTER" "$(awk '{ print $1; exit }' "$PF/spool/pid/master.pid")"

    # --- stale store: unknown becomes 451, the rest stays ---------------------------------------
    # lookupd calls a store stale when its last successful sync (meta last_success, written
    # only by a sync that succeeded) is older than max_age (60 s at least). A sync always
    # leaves a fresh store, so mkstore writes the sample's addresses with last_success
    # backdated by 200000 s (> the default max_age of 86400).
    "$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
    # check_recipient_access reports its lookup error as 4.3.5, relay_recipient_maps as 4.3.0
    check_eq "stale: unknown gets 451 4.3.5 (access map TEMP)" \
        "451 4.3.5 <nobody@example.org>: Recipient address rejected: Server configuration error" \
        "$(rcpt "$SMTP" nobody@example.org)"
    check_eq "stale: unknown gets 451 4.3.0 (rcpt map TEMP, second smtpd)" \
        "451 4.3.0 <nobody@example.org>: Temporary lookup failure" "$(rcpt "$SMTP2" nobody@example.org)"
    check_eq "stale: valid still accepted" "250 2.1.5 Ok" "$(rcpt "$SMTP" alice@example.org)"
    check_eq "stale: disabled still 550 5.2.1" \
        "550 5.2.1 <dave@example.com>: Recipient address rejected: Mailbox disabled" "$(rcpt "$SMTP" dave@example.com)"
    check_eq "stale: foreign still relay denied" \
        "554 5.7.1 <someone@foreign.test>: Relay access denied" "$(rcpt "$SMTP" someone@foreign.test)"
    check "a real sync makes the store fresh again" sync_store "$STORE"
    check_eq "fresh again: unknown 550 5.1.1" \
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown" \
        "$(rcpt "$SMTP" nobody@example.org)"

    # --- lookupd down: 451 for everything in a relay domain, back when it returns -------------
    lookupd_stop a
    check_eq "lookupd stopped (exit 0)" "0" "$?"
    # which lookup fails first (relay_domains in trivial-rewrite, or a map in smtpd) depends
    # on what smtpd has cached: 451 4.3.0 or 4.3.5
    for addr in alice@example.org nobody@example.org newuser@example.org new@foreign2.test; do
        got=$(rcpt "$SMTP" "$addr")
        check_match "lookupd down: 451 4.3.x ($got)" "^451 4\.3\.[05] <$addr>: " "$got"
    done
    got=$(rcpt "$SMTP2" alice@example.org)
    check_match "lookupd down: 451 4.3.x by the rcpt map alone too ($got)" "^451 4\.3\.[05] <alice@example.org>: " "$got"
    # the same configuration, so the same ports ($T/a.conf as lookupd_start wrote it)
    "$LOOKUPD" -c "$T/a.conf" -d >"$T/a-again.log" 2>&1 &
    PID_a=$!
    PIDS+=("$PID_a")
    check "lookupd starts again on port $SMPORT_a" \
        wait_until 30 file_has "$T/a-again.log" "lookupd: ready"
    check_eq "lookupd back: valid accepted without restarting Postfix" "250 2.1.5 Ok" \
        "$(rcpt "$SMTP" alice@example.org)"
    check_eq "lookupd back: unknown 550 5.1.1" \
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown" \
        "$(rcpt "$SMTP" nobody@example.org)"

    postfix -c "$PF/etc" stop >/dev/null 2>&1
    check_eq "postfix stop" "0" "$?"
    PF_STARTED=
    if [ "$FAILED" -gt 0 ]; then
        echo "# Postfix log:"
        grep -vE 'connect from|disconnect from' "$PF/maillog" | tail -n 30 | sed 's/^/#   /'
    fi
fi
lookupd_stop a
check_eq "lookupd a: SIGTERM exit 0" "0" "$?"
done_testing
