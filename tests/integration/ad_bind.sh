#!/bin/bash
# ad_bind.sh -- binding to a real Active Directory (Samba's AD DC, scripts/test-samba-ad;
# issue 16): a simple bind over LDAPS and over StartTLS verified with tls_ca_file (the test
# server's CA); a wrong password, an unknown CA, a certificate for another name and a server
# that is down each give exit 75 (a wrong password: 78 where a refused password counts as a
# configuration error) with a message that says which, and leave the store as it was.
# Prints TAP. Needs root and samba-ad-dc (skipped otherwise).
. "$(dirname "$0")/../lib/rcptdir.sh"

samba_up
S=$TEST_DIR/store

URI=$AD_LDAPS_URI AD_EXTRA="tls_ca_file = $AD_CA_FILE" mkconf_ad "$TEST_DIR/ldaps.conf" "$S"
run_syncd "$TEST_DIR/ldaps.conf"
check_rc "LDAPS ($AD_LDAPS_URI) with tls_ca_file: full sync, exit 0" 0
check_eq "... $((AD_USERS + 8)) entries" "$((AD_USERS + 8))" "$(entries "$S" | wc -l)"
dump "$S" "$TEST_DIR/before"

AD_EXTRA="starttls = yes
tls_ca_file = $AD_CA_FILE" mkconf_ad "$TEST_DIR/starttls.conf" "$S"
run_syncd "$TEST_DIR/starttls.conf"
check_rc "StartTLS on $AD_URI with tls_ca_file: exit 0" 0

# failures: exit 75, a clear message, the store unchanged
failing() { # DESC CONF PATTERN [STATUS...]: exit 75 or one of STATUS
    local st=75
    run_syncd "$2"
    [ $# -gt 3 ] && [[ " ${*:4} " == *" $RC "* ]] && st=$RC
    check_rc "$1: exit $st" "$st"
    check_grep "... the message says so" "$ERR" "$3"
    dump "$S" "$TEST_DIR/after"
    check_same "... the store is unchanged" "$TEST_DIR/before" "$TEST_DIR/after"
}

secret "$TEST_DIR/wrongpw" 'not-the-password'
URI=$AD_LDAPS_URI AD_EXTRA="tls_ca_file = $AD_CA_FILE" mkconf_ad "$TEST_DIR/wrong.conf" "$S"
sed -i "s|^bind_pw_file = .*|bind_pw_file = $TEST_DIR/wrongpw|" "$TEST_DIR/wrong.conf"
# (75 here; 78 once a refused password counts as a configuration error, issue 14's lane)
failing "a wrong password" "$TEST_DIR/wrong.conf" "binding at $AD_LDAPS_URI: Invalid credentials" 78

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=other CA" \
    -keyout "$TEST_DIR/other.key" -out "$TEST_DIR/other.pem" >/dev/null 2>&1
URI=$AD_LDAPS_URI AD_EXTRA="tls_ca_file = $TEST_DIR/other.pem" mkconf_ad "$TEST_DIR/ca.conf" "$S"
failing "a certificate from a CA tls_ca_file does not name" "$TEST_DIR/ca.conf" "TLS handshake"

# a certificate issued for another host name (the test server restarted with it)
"$TEST_SAMBA_AD" stop "$TEST_DIR/ad"
export TEST_SAMBA_AD_TLS_NAME=other.example.test
require "restart the test AD with a certificate for other.example.test" samba_start "$TEST_DIR/ad"
unset TEST_SAMBA_AD_TLS_NAME
# shellcheck disable=SC1091
. "$TEST_DIR/ad/env"
URI=$AD_LDAPS_URI AD_EXTRA="tls_ca_file = $AD_CA_FILE" mkconf_ad "$TEST_DIR/name.conf" "$S"
failing "a certificate for another host name (TLS name mismatch)" "$TEST_DIR/name.conf" \
    "issued for this host name"

"$TEST_SAMBA_AD" stop "$TEST_DIR/ad"
failing "the server is down" "$TEST_DIR/ldaps.conf" "connecting.*Can't contact LDAP server"

done_testing
