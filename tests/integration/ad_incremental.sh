#!/bin/bash
# ad_incremental.sh -- incremental sync from a real Active Directory (Samba's AD DC,
# scripts/test-samba-ad; issue 16): [ldap] preset = ad, incremental = yes (uSNChanged
# high-water mark, deletions through the Show Deleted control, syncd/src_ad.c). After each
# change in the directory (add, alias added and removed, disable, delete, move between OUs,
# move out of the bases, a user leaving the filter) the incremental store equals, key by key,
# what a fresh full sync gives. A lost mark and another DC (a second template: another
# invocationId) give a full sync. Prints TAP. Needs root and samba-ad-dc (skipped otherwise).
. "$(dirname "$0")/../lib/rcptdir.sh"

samba_up
S=$TEST_DIR/store
F=$TEST_DIR/full
BASES="base = OU=People,$AD_BASE
base = OU=Staff,$AD_BASE"
AD_EXTRA="$BASES
incremental = yes" mkconf_ad "$TEST_DIR/inc.conf" "$S"
AD_EXTRA="$BASES" mkconf_ad "$TEST_DIR/full.conf" "$F"
sed -i "/^base = $AD_BASE\$/d" "$TEST_DIR/inc.conf" "$TEST_DIR/full.conf"

# as_full DESC - the incremental store equals a fresh full sync of the directory, key by key
as_full() {
    rm -rf "$F"
    run_syncd "$TEST_DIR/full.conf"
    "$DUMP" "$F" >"$TEST_DIR/want" 2>&1
    "$DUMP" -e "$F" | grep '^entry' >>"$TEST_DIR/want" 2>&1
    "$DUMP" "$S" >"$TEST_DIR/got" 2>&1
    "$DUMP" -e "$S" | grep '^entry' >>"$TEST_DIR/got" 2>&1
    check_same "$1: the store equals a fresh full sync (addresses, domains, entries)" \
        "$TEST_DIR/want" "$TEST_DIR/got"
}

# step DESC - one incremental run after a change
step() {
    run_syncd "$TEST_DIR/inc.conf" -v
    check_rc "$1: incremental run exits 0 (${SECS} s)" 0
    check_grep "... it read only the changes" "$ERR" "ad: changes since USN"
    as_full "$1"
}

run_syncd "$TEST_DIR/inc.conf" -v
check_rc "first run: exit 0 (${SECS} s)" 0
check_grep "... a full sync: no high-water mark yet" "$ERR" "full sync.*no high-water mark"
as_full "first run"
check "... the mark is in the store's meta" quiet grep -q 'src.ad.usn' \
    <(mdb_dump -p -s meta "$S" 2>&1)

step "no change"
check_grep "... nothing changed: still generation 1" "$ERR" "sync: generation 1:"

ad_add_user newbie People newbie@example.test SMTP:newbie@example.test smtp:nb@example.test
step "a user added"
check_grep "... newbie's alias is in" "$TEST_DIR/got" \
    '^nb@example.test	alias	active	newbie@example.test'

ad_do ldapmodify <<LDIF
dn: CN=u0010,OU=People,$AD_BASE
changetype: modify
add: proxyAddresses
proxyAddresses: smtp:u0010.new@example.test

dn: CN=u0011,OU=People,$AD_BASE
changetype: modify
delete: proxyAddresses
proxyAddresses: smtp:u0011.alias@example.test
LDIF
step "an alias added (u0010), an alias removed (u0011)"
check_grep "... u0010.new is in" "$TEST_DIR/got" '^u0010.new@example.test	alias	active'
check_nogrep "... u0011.alias is gone" "$TEST_DIR/got" '^u0011.alias@example.test'

ad_do ldapmodify <<LDIF
dn: CN=u0012,OU=People,$AD_BASE
changetype: modify
replace: userAccountControl
userAccountControl: 514
LDIF
step "a user disabled (u0012)"
check_grep "... u0012 is disabled" "$TEST_DIR/got" '^u0012@example.test	user	disabled'

ad_do ldapdelete "CN=u0013,OU=People,$AD_BASE"
step "a user deleted (u0013)"
check_nogrep "... u0013 is gone" "$TEST_DIR/got" '^u0013'

ad_do ldapmodify <<LDIF
dn: CN=u0014,OU=People,$AD_BASE
changetype: modrdn
newrdn: CN=u0014
deleteoldrdn: 1
newsuperior: OU=Staff,$AD_BASE

dn: CN=u0015,OU=People,$AD_BASE
changetype: modrdn
newrdn: CN=u0015
deleteoldrdn: 1
newsuperior: OU=Services,$AD_BASE
LDIF
step "moved between OUs (u0014 to Staff, a base) and out of the bases (u0015 to Services)"
check_grep "... u0014 stays" "$TEST_DIR/got" '^u0014@example.test	user	active'
check_nogrep "... u0015 is gone" "$TEST_DIR/got" '^u0015'

ad_do ldapmodify <<LDIF
dn: CN=u0016,OU=People,$AD_BASE
changetype: modify
delete: mail
-
delete: proxyAddresses
LDIF
step "a user leaving the filter (u0016: mail and proxyAddresses removed)"
check_nogrep "... u0016 is gone" "$TEST_DIR/got" '^u0016'

# a lost mark: a store written by a full (non-incremental) sync
run_syncd "$TEST_DIR/full.conf"
sed "s|^path = .*|path = $F|" "$TEST_DIR/inc.conf" >"$TEST_DIR/lost.conf"
run_syncd "$TEST_DIR/lost.conf" -v
check_rc "a store without a mark: exit 0" 0
check_grep "... a full sync" "$ERR" "full sync.*no high-water mark"

# a restored DC: the same DC (invocationId) started again from its template, which is older
# than the mark (its highestCommittedUSN is below it)
"$TEST_SAMBA_AD" stop "$TEST_DIR/ad"
require "restart the test AD from its template (a restore from a backup)" samba_start "$TEST_DIR/ad"
URI1=$(sed -n "s/^AD_URI='\(.*\)'/\1/p" "$TEST_DIR/ad/env")
sed -i "s|^uri = .*|uri = $URI1|" "$TEST_DIR/inc.conf" "$TEST_DIR/full.conf"
run_syncd "$TEST_DIR/inc.conf" -v
check_rc "a restored DC: exit 0" 0
check_grep "... a full sync: highestCommittedUSN below the mark" "$ERR" "full sync.*below the mark"
as_full "a restored DC"

# another DC: the same names in another domain template (its own invocationId and GUIDs)
require "start a second test AD from another template (dc2)" samba_start "$TEST_DIR/ad2" dc2
URI2=$(sed -n "s/^AD_URI='\(.*\)'/\1/p" "$TEST_DIR/ad2/env")
sed -i "s|^uri = .*|uri = $URI2|" "$TEST_DIR/inc.conf" "$TEST_DIR/full.conf"
run_syncd "$TEST_DIR/inc.conf" -v
check_rc "another DC: exit 0" 0
check_grep "... a full sync: another invocationId" "$ERR" "full sync.*another DC"
as_full "another DC"

done_testing
