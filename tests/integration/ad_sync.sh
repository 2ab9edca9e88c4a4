#!/bin/bash
# ad_sync.sh -- rcptdir-syncd against a real Active Directory (Samba's AD DC on a loopback
# address, scripts/test-samba-ad; issue 16): a subtree search from the domain root.
# Prints TAP. Needs root and samba-ad-dc (skipped otherwise).
. "$(dirname "$0")/../lib/rcptdir.sh"

samba_up

# a generic configuration, as a new user would write it (no preset)
cat >"$TEST_DIR/generic.conf" <<CONF
[store]
path = $TEST_DIR/store-generic
[ldap]
uri = $AD_URI
bind_dn = $AD_BIND_DN
bind_pw_file = $TEST_DIR/adpw
base = $AD_BASE
filter = (mail=*)
group_filter = (objectClass=group)
address_attrs = mail, proxyAddresses
id_attrs = objectGUID
[lookupd]
user =
CONF
run_syncd "$TEST_DIR/generic.conf"
check_rc "generic config, base = domain root: exit 75 (issue 16's first failure)" 75
check_grep "... because the directory sent a referral (search continuation references)" \
    "$ERR" "the directory sent a referral"

done_testing
