#!/bin/bash
# mta_exim.sh - the Exim RCPT ACL of docs/operations.md (section Exim, read from that file)
# against rcptdir-lookupd: exim -bh simulates SMTP sessions (no daemon, nothing queued) with
# a small configuration around the documented ACL statements, which ask lookupd's rcpt map
# through ${readsocket}. Covers valid (also +tag, upper case, catch-all), unknown and
# disabled (550 5.1.1), foreign (the config's own relay denial), a stale store (451 4.3.0 for
# unknown) and lookupd down (451 4.3.0 for relay domains, foreign still denied).
#
# Exim conflicts with the postfix package, so it is not installed: the test runs the exim4
# binary of exim4-daemon-light (and libidn12, which Debian installs with it) from
# `apt-get download` + `dpkg -x` into $T. The .debs are kept in $RCPTDIR_TEST_CACHE
# (default /var/cache/rcptdir-test), so only the first run downloads. The binary needs its
# compiled-in user Debian-exim: when the system has none, the test runs exim in a private
# mount namespace (unshare -m) where /etc/passwd and /etc/group are copies that add it.
# Skips (TAP SKIP) when the binary cannot be had. The store is written by mkstore from
# schema/ldap/sample.expected (what a sync of sample.ldif gives; mta_postfix.sh covers the
# real sync). Prints TAP.
. "$(dirname "$0")/../lib/rcptdir.sh"

EX=$T/exim
STORE=$T/store

# exim_fetch - unpack exim4-daemon-light, libidn12 into $EX/root (deb_unpack, tests/lib/mta.sh)
exim_fetch() {
    deb_unpack "$EX/root" exim4-daemon-light libidn12 && [ -x "$EX/root/usr/sbin/exim4" ]
}

# exim_run ARGS... - run the unpacked exim4 with its libraries; in a private mount
# namespace with a user Debian-exim when the system has none
exim_run() {
    local lib=$EX/root/usr/lib/x86_64-linux-gnu
    if getent passwd Debian-exim >/dev/null; then
        LD_LIBRARY_PATH=$lib "$EX/root/usr/sbin/exim4" "$@"
        return
    fi
    # shellcheck disable=SC2016 # $1 is the inner shell's
    LD_LIBRARY_PATH=$lib unshare -m sh -c 'mount --bind "$1/passwd" /etc/passwd &&
        mount --bind "$1/group" /etc/group && shift && exec "$@"' sh "$EX" \
        "$EX/root/usr/sbin/exim4" "$@"
}

# exim_bh ADDRESS... - one SMTP session simulated by exim -bh from 192.0.2.1: EHLO, MAIL,
# RCPT TO each ADDRESS, QUIT; prints the RCPT replies, one per line
exim_bh() {
    local a
    {
        printf 'EHLO client.rcptdir.test\r\nMAIL FROM:<sender@foreign.test>\r\n'
        for a in "$@"; do printf 'RCPT TO:<%s>\r\n' "$a"; done
        printf 'QUIT\r\n'
    } | exim_run -C "$EX/exim.conf" -bh 192.0.2.1 2>"$EX/bh.err" | tr -d '\r' |
        grep -E '^[0-9]{3} ' | sed '1,3d;$d'
}

# rcpt_lookups - lookupd's count of rcpt map lookups (GET /metrics)
rcpt_lookups() {
    curl -s "http://127.0.0.1:$HTTPPORT_a/metrics" |
        awk '/^rcptdir_lookups_total\{map="rcpt",/ { n += $2 } END { print n + 0 }'
}

if ! exim_fetch; then
    sed 's/^/#   /' "$T/apt.out" 2>/dev/null | tail -5
    skip_all "exim4-daemon-light not available (apt-get download failed)"
fi
cp /etc/passwd "$EX/passwd" && cp /etc/group "$EX/group"
echo 'Debian-exim:x:65534:65534::/nonexistent:/usr/sbin/nologin' >>"$EX/passwd"
echo 'Debian-exim:x:65534:' >>"$EX/group"
version=$(exim_run -bV 2>&1 | sed -n 's/^Exim version \([^ ]*\).*/\1/p')
[ -n "$version" ] || skip_all "the unpacked exim4 does not run: $(exim_run -bV 2>&1 | head -1)"
ok "exim $version unpacked from the cached .deb runs"

"$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
write_conf a "$STORE"
require "lookupd starts" lookupd_start a

mkdir -p "$EX/spool" "$EX/log"
{
    cat <<EOF
primary_hostname = mx.rcptdir.test
spool_directory = $EX/spool
log_file_path = $EX/log/%slog
domainlist relay_to_domains = example.org : example.com : example.net
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
EOF
    doc_block Exim | sed "s/inet:127\\.0\\.0\\.1:8641/inet:127.0.0.1:$SMPORT_a/g"
    cat <<EOF
  accept  domains   = +relay_to_domains
  deny    message   = 5.7.1 Relay not permitted
EOF
} >"$EX/exim.conf"
check "the ACL of docs/operations.md, section Exim, uses readsocket on lookupd's port" \
    grep -q "readsocket{inet:127.0.0.1:$SMPORT_a}" "$EX/exim.conf"
exim_run -C "$EX/exim.conf" -bV >"$EX/bV.out" 2>&1
check_eq "exim -bV accepts the configuration" "0" "$?"
[ "$FAILED" -eq 0 ] || sed 's/^/#   /' "$EX/bV.out"

# --- a fresh store ----------------------------------------------------------------------------
while IFS='|' read -r addr want; do
    check_eq "RCPT TO:<$addr>: $want" "$want" "$(exim_bh "$addr")"
done <<'CASES'
alice@example.org|250 Accepted
alice+tag@example.org|250 Accepted
ALICE+Tag@EXAMPLE.org|250 Accepted
sales-team@example.com|250 Accepted
anything@example.net|250 Accepted
nobody@example.org|550 5.1.1 User unknown
nobody+tag@example.com|550 5.1.1 User unknown
dave@example.com|550 5.1.1 User unknown
someone@foreign.test|550 5.7.1 Relay not permitted
CASES
before=$(rcpt_lookups)
check_eq "several recipients in one session" \
    "$(printf '%s\n' '250 Accepted' '550 5.1.1 User unknown' '250 Accepted' '550 5.7.1 Relay not permitted')" \
    "$(exim_bh Bob@Example.ORG nobody@example.org frank+x@example.net x@foreign.test)"
check_eq "  ... one rcpt lookup per recipient in a relay domain, none for the foreign one" \
    "3" "$(($(rcpt_lookups) - before))"

# --- stale store: unknown becomes 451 ----------------------------------------------------------
# lookupd calls a store stale when its last successful sync is older than max_age; mkstore
# backdates last_success by 200000 s (> the default max_age of 86400)
"$MKSTORE" --age 200000 "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "stale: unknown gets 451 4.3.0" "451 4.3.0 Recipient check unavailable, try again later" \
    "$(exim_bh nobody@example.org)"
check_eq "stale: valid still accepted" "250 Accepted" "$(exim_bh alice@example.org)"
check_eq "stale: disabled still 550 5.1.1" "550 5.1.1 User unknown" "$(exim_bh dave@example.com)"
"$MKSTORE" "$STORE" "$TOP/schema/ldap/sample.expected"
check_eq "fresh again: unknown 550 5.1.1" "550 5.1.1 User unknown" "$(exim_bh nobody@example.org)"

# --- lookupd down -------------------------------------------------------------------------------
lookupd_stop a
check_eq "lookupd stopped (exit 0)" "0" "$?"
check_eq "lookupd down: valid gets 451 4.3.0" "451 4.3.0 Recipient check unavailable, try again later" \
    "$(exim_bh alice@example.org)"
check_eq "lookupd down: unknown gets 451 4.3.0" "451 4.3.0 Recipient check unavailable, try again later" \
    "$(exim_bh nobody@example.org)"
check_eq "lookupd down: foreign still denied, not deferred" "550 5.7.1 Relay not permitted" \
    "$(exim_bh someone@foreign.test)"
done_testing
