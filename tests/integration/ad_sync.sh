#!/bin/bash
# ad_sync.sh -- rcptdir-syncd against a real Active Directory (Samba's AD DC on a loopback
# address, scripts/test-samba-ad; issue 16): search continuation references skipped,
# [ldap] preset = ad and its key-by-key overrides, a full sync of the test directory
# (tests/data/ad/load.py: 2000 users with aliases in proxyAddresses, a disabled user, a
# group, a contact, a user without mail, Exchange mailboxes) compared key by key with what it should give.
# Prints TAP. Needs root and samba-ad-dc (skipped otherwise).
. "$(dirname "$0")/../lib/rcptdir.sh"

samba_up

# a generic configuration, as a new user would write it (no preset): issue 16's first
# failure was exit 75, "the directory sent a referral"
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
run_syncd "$TEST_DIR/generic.conf" -v
check_rc "generic config, base = the domain root: exit 0 (continuation references skipped)" 0
check_nogrep "... no referral error" "$ERR" "referral"
check_grep "... the skipped references are logged at debug level" "$ERR" \
    "skipping search continuation references"

# -n: the effective values of the preset
mkconf_ad "$TEST_DIR/ad.conf" "$TEST_DIR/store"
run_syncd "$TEST_DIR/ad.conf" -n
check_rc "preset = ad: -n exits 0" 0
check_line "-n prints the preset's filter" "$OUT" \
    "[ldap] filter = (&(|(objectClass=user)(objectClass=group)(objectClass=contact))$(
    )(|(mail=*)(proxyAddresses=*)))"
check_grep "-n prints the preset's disabled_filter (bit 2, evaluated by the directory)" "$OUT" \
    '^\[ldap\] disabled_filter = \(&\(userAccountControl:1\.2\.840\.113556\.1\.4\.803:=2\)'
check_grep "-n prints id_attrs = objectGUID, page_size = 1000" "$OUT" \
    '^\[ldap\] id_attrs = objectGUID$'
check_grep "... page_size = 1000" "$OUT" '^\[ldap\] page_size = 1000$'
check_eq "... and configuration OK last" "configuration OK" "$(tail -n1 "$OUT")"
AD_EXTRA='page_size = 200
address_attrs = proxyAddresses' mkconf_ad "$TEST_DIR/ad-over.conf" "$TEST_DIR/store-over"
run_syncd "$TEST_DIR/ad-over.conf" -n
check_grep "a key given in the file overrides the preset (page_size = 200)" "$OUT" \
    '^\[ldap\] page_size = 200$'
check_grep "... (address_attrs = proxyAddresses)" "$OUT" '^\[ldap\] address_attrs = proxyAddresses$'
check_line "... the others keep the preset's values" "$OUT" \
    '[ldap] group_filter = (objectClass=group)'

# the full sync, key by key
run_syncd "$TEST_DIR/ad.conf"
check_rc "preset = ad: full sync of $AD_USERS users exits 0 (${SECS} s)" 0
ad_expected "$AD_USERS" >"$TEST_DIR/expected"
addrs "$TEST_DIR/store" "$TEST_DIR/got"
check_same "the store holds exactly the expected addresses, kinds, states, primaries" \
    "$TEST_DIR/expected" "$TEST_DIR/got"
check_eq "entries: the users, the disabled user, proxyonly, the group, the contact, 4 mailboxes" \
    "$((AD_USERS + 8))" "$(entries "$TEST_DIR/store" | wc -l)"
check_eq "entry ids are objectGUIDs (32 hex digits)" "0" \
    "$(entries "$TEST_DIR/store" | grep -cvE '^[0-9a-f]{32}$')"
guid=$(ldapsearch -x -LLL -o ldif-wrap=no -H "$AD_URI" -D "$AD_BIND_DN" -w "$AD_BIND_PW" \
    -b "$AD_BASE" '(sAMAccountName=u0007)' objectGUID 2>/dev/null |
    sed -n 's/^objectGUID:: //p' | base64 -d | od -An -tx1 | tr -d ' \n')
check "u0007's entry id is its objectGUID ($guid)" quiet grep -qx "$guid" \
    <(entries "$TEST_DIR/store")
"$BUILD/rcptdir-lookupd" -c "$TEST_DIR/ad.conf" -q u0042.alias@example.test >"$TEST_DIR/q" 2>&1
check_grep "rcptdir-lookupd -q: an smtp: alias is valid, with its primary" "$TEST_DIR/q" \
    '"primary":"u0042@example.test","result":"valid"'
"$BUILD/rcptdir-lookupd" -c "$TEST_DIR/ad.conf" -q u0042.sip@example.test >"$TEST_DIR/q" 2>&1
check_grep "... a SIP: value is no address (unknown)" "$TEST_DIR/q" '"result":"unknown"'
"$BUILD/rcptdir-lookupd" -c "$TEST_DIR/ad.conf" -q disabled1.old@example.test >"$TEST_DIR/q" 2>&1
check_grep "... the disabled user's alias is disabled" "$TEST_DIR/q" '"result":"disabled"' 

# the same run again changes nothing
run_syncd "$TEST_DIR/ad.conf"
check_rc "a second full sync exits 0" 0
addrs "$TEST_DIR/store" "$TEST_DIR/got2"
check_same "... and the store is unchanged" "$TEST_DIR/got" "$TEST_DIR/got2"

# range retrieval: a user with 7 aliases, read in explicit chunks (Samba honours the ranges a
# client asks for; a Windows DC cuts at 1500 values on its own)
ad_add_user many People many@example.test SMTP:many@example.test smtp:many1@example.test \
    smtp:many2@example.test X500:/o=Example/cn=many smtp:many3@example.test \
    smtp:many4@example.test smtp:many5@example.test smtp:many6@example.test smtp:many7@example.test
{
    ad_expected "$AD_USERS"
    printf 'many@example.test\tuser\tactive\tmany@example.test\n'
    for i in 1 2 3 4 5 6 7; do
        printf 'many%s@example.test\talias\tactive\tmany@example.test\n' "$i"
    done
} | sort >"$TEST_DIR/expected-many"
for size in 3 2; do
    AD_EXTRA="range_size = $size" mkconf_ad "$TEST_DIR/range$size.conf" "$TEST_DIR/store-range$size"
    run_syncd "$TEST_DIR/range$size.conf" -v
    check_rc "range_size = $size: proxyAddresses;range=0-$((size - 1)) followed to the end, $(
        )exit 0 (${SECS} s)" 0
    addrs "$TEST_DIR/store-range$size" "$TEST_DIR/got-range$size"
    check_same "... every alias of every entry is in the store (key by key)" \
        "$TEST_DIR/expected-many" "$TEST_DIR/got-range$size"
done

done_testing
