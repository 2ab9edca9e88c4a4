#!/bin/bash
# ad_exchange.sh -- [ldap] preset = ad's disabled_filter with Exchange's
# msExchRecipientTypeDetails, against a real AD (Samba's AD DC, scripts/test-samba-ad; issue
# 16). The test template's schema carries Exchange's attribute (its real attributeID
# 1.2.840.113556.1.4.7000.102.50855, tests/data/ad/load.py); OU=Exchange holds four disabled
# accounts (userAccountControl 514, as Exchange creates resource mailboxes): a shared (4), a
# room (16) and an equipment (32) mailbox receive mail, a user mailbox (1) does not. Full sync,
# the same with the msExch parts taken out of the filter (all four disabled: the parts do the
# work) or naming an attribute the schema lacks (no change), and incremental runs after a
# mailbox changes type. Prints TAP. Needs root and
# samba-ad-dc (skipped otherwise).
. "$(dirname "$0")/../lib/rcptdir.sh"

samba_up
EX="OU=Exchange,$AD_BASE"
S=$TEST_DIR/store
F=$TEST_DIR/full

# the schema: the attribute is Exchange's, and the directory evaluates it
check_eq "the test AD's schema has msExchRecipientTypeDetails with Exchange's attributeID" \
    "attributeID: 1.2.840.113556.1.4.7000.102.50855" \
    "$(ldapsearch -x -LLL -H "$AD_URI" -D "$AD_BIND_DN" -w "$AD_BIND_PW" \
        -b "CN=Schema,CN=Configuration,$AD_BASE" '(lDAPDisplayName=msExchRecipientTypeDetails)' \
        attributeID 2>&1 | grep '^attributeID')"

# mailbox NAME STATE - the address line of a mailbox in OU=Exchange
mailbox() {
    printf '%s@example.test\tuser\t%s\t%s@example.test\n' "$1" "$2" "$1"
}

AD_EXTRA="base = $EX" mkconf_ad "$TEST_DIR/ad.conf" "$F"
sed -i "/^base = $AD_BASE\$/d" "$TEST_DIR/ad.conf"
run_syncd "$TEST_DIR/ad.conf"
check_rc "preset = ad, base = OU=Exchange: full sync exits 0" 0
{
    mailbox shared1 active
    mailbox room1 active
    mailbox equip1 active
    mailbox gone1 disabled
} | sort >"$TEST_DIR/expected"
addrs "$F" "$TEST_DIR/got"
check_same "shared, room and equipment mailboxes (disabled accounts) are active, a user $(
)mailbox with a disabled account is disabled" "$TEST_DIR/expected" "$TEST_DIR/got"
"$BUILD/rcptdir-lookupd" -c "$TEST_DIR/ad.conf" -q shared1@example.test >"$TEST_DIR/q" 2>&1
check_grep "rcptdir-lookupd -q: the shared mailbox is valid" "$TEST_DIR/q" '"result":"valid"'
"$BUILD/rcptdir-lookupd" -c "$TEST_DIR/ad.conf" -q gone1@example.test >"$TEST_DIR/q" 2>&1
check_grep "... the disabled user mailbox is disabled" "$TEST_DIR/q" '"result":"disabled"'

# without the msExch parts every one of them is a disabled account
AD_EXTRA="base = $EX
disabled_filter = (userAccountControl:1.2.840.113556.1.4.803:=2)" \
    mkconf_ad "$TEST_DIR/bit.conf" "$TEST_DIR/store-bit"
sed -i "/^base = $AD_BASE\$/d" "$TEST_DIR/bit.conf"
run_syncd "$TEST_DIR/bit.conf"
check_rc "disabled_filter = bit 2 alone: exit 0" 0
addrs "$TEST_DIR/store-bit" "$TEST_DIR/got-bit"
check_eq "... then all four are disabled (the msExch parts are what keeps three active)" 4 \
    "$(grep -c '	disabled	' "$TEST_DIR/got-bit")"

# a domain without Exchange's schema: the same filter on an attribute the schema lacks matches
# nothing and changes nothing (Samba; a Windows DC is not tested here)
AD_EXTRA="base = $EX
disabled_filter = (&(userAccountControl:1.2.840.113556.1.4.803:=2)$(
)(!(msExchNoSuchAttribute=4))(!(msExchNoSuchAttribute=16)))" \
    mkconf_ad "$TEST_DIR/noschema.conf" "$TEST_DIR/store-noschema"
sed -i "/^base = $AD_BASE\$/d" "$TEST_DIR/noschema.conf"
run_syncd "$TEST_DIR/noschema.conf"
check_rc "the preset's filter shape on an attribute the schema lacks: exit 0" 0
addrs "$TEST_DIR/store-noschema" "$TEST_DIR/got-noschema"
check_same "... the same as bit 2 alone (the unknown attribute's parts change nothing)" \
    "$TEST_DIR/got-bit" "$TEST_DIR/got-noschema"

# incremental: a mailbox that changes type changes state
AD_EXTRA="base = $EX
incremental = yes" mkconf_ad "$TEST_DIR/inc.conf" "$S"
sed -i "/^base = $AD_BASE\$/d" "$TEST_DIR/inc.conf"
run_syncd "$TEST_DIR/inc.conf" -v
check_rc "incremental = yes, first run: exit 0" 0

ad_do ldapmodify <<LDIF
dn: CN=shared1,$EX
changetype: modify
replace: msExchRecipientTypeDetails
msExchRecipientTypeDetails: 1

dn: CN=gone1,$EX
changetype: modify
replace: msExchRecipientTypeDetails
msExchRecipientTypeDetails: 4
LDIF
check_eq "... ldapmodify: shared1 becomes a user mailbox, gone1 a shared mailbox (exit 0)" 0 "$?"
run_syncd "$TEST_DIR/inc.conf" -v
check_rc "... the incremental run exits 0" 0
check_grep "... it read only the changes" "$ERR" "ad: changes since USN"
addrs "$S" "$TEST_DIR/got-inc"
check_line "... shared1 (a user mailbox now, account disabled) is disabled" "$TEST_DIR/got-inc" \
    "$(mailbox shared1 disabled)"
check_line "... gone1 (a shared mailbox now) is active" "$TEST_DIR/got-inc" \
    "$(mailbox gone1 active)"
rm -rf "$F"
run_syncd "$TEST_DIR/ad.conf"
addrs "$F" "$TEST_DIR/want-inc"
check_same "... the store equals a fresh full sync" "$TEST_DIR/want-inc" "$TEST_DIR/got-inc"

done_testing
