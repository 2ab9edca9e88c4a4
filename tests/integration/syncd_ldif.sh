#!/bin/bash
# syncd_ldif.sh -- rcptdir-syncd's [ldif] source (issue 3 "Tests"): the LDIF export of
# the test directory (slapcat, ldapsearch) gives the same store as the LDAP sync, also
# after changes; RFC 2849 syntax (folding, base64, comments, CRLF, version, search/result
# lines); malformed LDIF → exit 75 with file:line, store unchanged.  Prints TAP.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

DATA=$TOP/tests/data/syncd

# mkldifconf FILE STORE LDIF: an [ldif] config with the design's mapping
mkldifconf() {
    cat >"$1" <<EOF
[store]
path = $2
[ldif]
path = $3
disabled_filter = (description=disabled)
[lookupd]
user =
EOF
}

# ---------------------------------------------------------------- setup: LDAP store A
if ! slapd_start "$W/ldap"; then
    finish
    exit 1
fi
# shellcheck disable=SC1091
. "$W/ldap/env"
secret "$W/pw" "$LDAP_BIND_PW"
A=$W/store-ldap
B=$W/store-slapcat
C=$W/store-search
mkconf "$W/ldap.conf" "$A"
run_syncd "$W/ldap.conf"
check_rc "LDAP sync of the sample directory: exit 0" 0
addrs "$A" "$W/a-addrs"
check_same "LDAP store equals schema/ldap/sample.expected" "$TOP/schema/ldap/sample.expected" "$W/a-addrs"

# ---------------------------------------------------------------- slapcat export
slapcat -f "$SLAPD_CONF" -b dc=example,dc=org -l "$W/export.ldif" >"$W/slapcat.log" 2>&1
if grep -q '^entryUUID: ' "$W/export.ldif"; then
    ok "slapcat export holds entryUUID"
else
    notok "slapcat export holds entryUUID" "$(cat "$W/slapcat.log")" "$(head -n 20 "$W/export.ldif")"
fi
mkldifconf "$W/slapcat.conf" "$B" "$W/export.ldif"
run_syncd "$W/slapcat.conf" -n
check_rc "[ldif] config: -n exit 0" 0
run_syncd "$W/slapcat.conf"
check_rc "LDIF (slapcat) sync: exit 0" 0
check_grep "LDIF (slapcat) sync: summary line" "$ERR" \
    'sync: generation 1: \+37 ~0 -0 = 37 addresses, 3 domains, 14 entries .*\(3 invalid, 0 conflicts\)'
dump "$A" "$W/a1"
dump "$B" "$W/b1"
check_same "LDIF (slapcat) store equals the LDAP store (meta, addresses, domains, entry ids and sizes)" \
    "$W/a1" "$W/b1"
run_syncd "$W/slapcat.conf"
check_rc "LDIF re-sync, no change: exit 0" 0
dump "$B" "$W/b1b"
check_same "LDIF re-sync, no change: dump and generation identical" "$W/b1" "$W/b1b"

# ---------------------------------------------------------------- ldapsearch export ("* +", folded, comments, search/result lines)
ldapsearch -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PW" -b dc=example,dc=org \
    '(objectClass=*)' '*' '+' >"$W/search.ldif" 2>"$W/search.log"
if grep -q '^ ' "$W/search.ldif" && grep -q '^# ' "$W/search.ldif" &&
    grep -q '^search: ' "$W/search.ldif" && grep -q '^result: 0' "$W/search.ldif"; then
    ok "ldapsearch export has folded lines, comments and search/result lines"
else
    notok "ldapsearch export has folded lines, comments and search/result lines" \
        "$(cat "$W/search.log")" "$(head -n 20 "$W/search.ldif")"
fi
mkldifconf "$W/search.conf" "$C" "$W/search.ldif"
run_syncd "$W/search.conf"
check_rc "LDIF (ldapsearch) sync: exit 0" 0
dump "$C" "$W/c1"
check_same "LDIF (ldapsearch) store equals the LDAP store" "$W/a1" "$W/c1"

# ---------------------------------------------------------------- changes: LDAP and LDIF stay equal
ldap_do "$W/ldap" ldapadd <"$TOP/tests/data/syncd/add-nina.ldif"
r1=$?
ldap_do "$W/ldap" ldapmodify <<'EOF'
dn: uid=alice,ou=people,dc=example,dc=org
changetype: modify
delete: mailLocalAddress
mailLocalAddress: a.smith@example.com
-
add: mailAlternateAddress
mailAlternateAddress: alice.s@example.net
EOF
r2=$?
ldap_do "$W/ldap" ldapmodrdn -r uid=grace,ou=people,dc=example,dc=org uid=gracie
r3=$?
ldap_do "$W/ldap" ldapdelete uid=frank,ou=people,dc=example,dc=org
r4=$?
check_eq "directory changed (add, modify, modrdn, delete)" "0 0 0 0" "$r1 $r2 $r3 $r4"
run_syncd "$W/ldap.conf"
check_rc "LDAP sync after changes: exit 0" 0
slapcat -f "$SLAPD_CONF" -b dc=example,dc=org -l "$W/export2.ldif" >"$W/slapcat.log" 2>&1
mkldifconf "$W/slapcat2.conf" "$B" "$W/export2.ldif"
run_syncd "$W/slapcat2.conf"
check_rc "LDIF sync of the new export: exit 0" 0
check_grep "LDIF sync of the new export: summary +3 ~0 -3 at generation 2" "$ERR" \
    'sync: generation 2: \+3 ~0 -3 = 37 addresses'
dump "$A" "$W/a2"
dump "$B" "$W/b2"
check_same "after changes: LDIF store equals the LDAP store (generation 2 both)" "$W/a2" "$W/b2"

# ---------------------------------------------------------------- CRLF export
sed 's/$/\r/' "$W/export2.ldif" >"$W/export2-crlf.ldif"
mkldifconf "$W/crlf.conf" "$W/store-crlf" "$W/export2-crlf.ldif"
run_syncd "$W/crlf.conf"
check_rc "CRLF export: exit 0" 0
dump "$W/store-crlf" "$W/crlf1"
sed 's/^meta	generation=2/meta	generation=1/' "$W/a2" >"$W/a2g1"
check_same "CRLF export: same store as the LDAP one (fresh store: generation 1)" "$W/a2g1" "$W/crlf1"

# ---------------------------------------------------------------- syntax features (tests/data/syncd/features.ldif)
feature_run() { # NAME LDIF STORE
    mkldifconf "$W/f.conf" "$3" "$2"
    run_syncd "$W/f.conf"
    check_rc "$1: exit 0" 0
    addrs "$3" "$W/f-addrs"
    check_same "$1: addresses equal features.expected" "$DATA/features.expected" "$W/f-addrs"
    entries "$3" >"$W/f-ent"
    check_same "$1: entry ids equal features.entries (entryUUID in any case, else dn:DN)" \
        "$DATA/features.entries" "$W/f-ent"
}
feature_run "features.ldif (folding, base64, comments, attr:value, case-insensitive names and filters)" \
    "$DATA/features.ldif" "$W/store-f"
dump "$W/store-f" "$W/f1"
check_eq "features.ldif: meta" "generation=1 addresses=11 domains=3" "$(meta "$W/store-f")"
check_nogrep "features.ldif: commented-out and folded-comment addresses ignored" "$W/f-addrs" '^ghost'
check_nogrep "features.ldif: entry outside the filter ignored" "$W/f-addrs" '^not-selected'

sed 's/$/\r/' "$DATA/features.ldif" >"$W/features-crlf.ldif"
feature_run "features.ldif with CRLF line endings" "$W/features-crlf.ldif" "$W/store-fcrlf"
dump "$W/store-fcrlf" "$W/f2"
check_same "features.ldif with CRLF: dump identical to LF" "$W/f1" "$W/f2"

printf '%s' "$(cat "$DATA/features.ldif")" >"$W/features-noeol.ldif"
feature_run "features.ldif without a final newline" "$W/features-noeol.ldif" "$W/store-fnoeol"

# ---------------------------------------------------------------- malformed LDIF: exit 75, file:line, unchanged
n=$(grep -nx 'mail: alice@example.org' "$W/export2.ldif" | cut -d: -f1)
bad_case() { # NAME EXPECTED_LINE: $W/bad.ldif already written
    dump "$B" "$W/bad-before"
    mkldifconf "$W/bad.conf" "$B" "$W/bad.ldif"
    run_syncd "$W/bad.conf"
    check_rc "malformed LDIF ($1): exit 75" 75
    check_grep "malformed LDIF ($1): message names bad.ldif:$2" "$ERR" "bad\.ldif:$2:"
    dump "$B" "$W/bad-after"
    check_same "malformed LDIF ($1): store content and generation unchanged" "$W/bad-before" "$W/bad-after"
}
# insert_after N TEXT: export2.ldif with TEXT (may be several lines) after line N, to bad.ldif
insert_after() {
    { head -n "$1" "$W/export2.ldif"; printf '%s\n' "$2"; tail -n +"$(($1 + 1))" "$W/export2.ldif"; } >"$W/bad.ldif"
}
insert_after "$n" 'mailLocalAddress:: QjY0!!!notbase64'
bad_case "bad base64 value" $((n + 1))
insert_after "$n" $'mailLocalAddress:: QjY0LlVzZXJARXhh\n !!!!'
bad_case "bad base64 value over a folded line" $((n + 1))
insert_after "$n" 'this line has no colon'
bad_case "a line without ':'" $((n + 1))
insert_after "$n" 'mail:< file:///x'
bad_case "URL value mail:< file:///x" $((n + 1))
insert_after "$n" $'\nmail: stray@example.org'
bad_case "record without dn:" $((n + 2))
# the same in CRLF: line numbers unchanged
insert_after "$n" 'this line has no colon'
sed -i 's/$/\r/' "$W/bad.ldif"
bad_case "a line without ':', CRLF" $((n + 1))

mkldifconf "$W/missing.conf" "$B" "$W/does-not-exist.ldif"
dump "$B" "$W/m1"
run_syncd "$W/missing.conf"
check_rc "missing LDIF file: exit 75" 75
check_grep "missing LDIF file: message names it" "$ERR" 'does-not-exist\.ldif'
dump "$B" "$W/m2"
check_same "missing LDIF file: store unchanged" "$W/m1" "$W/m2"

# ---------------------------------------------------------------- started as root: drops to user
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    chmod 755 "$W" # nobody must reach its store; the LDIF is read after the drop too
    chmod 644 "$W/export.ldif"
    D=$W/store-nobody
    mkdir -m 755 "$D" # as root, as a first run from root's cron would find it
    mkldifconf "$W/nobody.conf" "$D" "$W/export.ldif"
    sed -i 's/^user =$/user = nobody/' "$W/nobody.conf"
    run_syncd "$W/nobody.conf" -v
    check_rc "started as root with user = nobody: exit 0" 0
    check_eq "  ... the store and its files belong to nobody" "nobody nobody nobody nobody" \
        "$(stat -c %U "$D" "$D/data.mdb" "$D/lock.mdb" "$D/sync.lock" | tr '\n' ' ' | sed 's/ $//')"
    check_grep "  ... and it said it runs as nobody" "$ERR" 'privileges: running as nobody'
    chown root "$D/lock.mdb"
    run_syncd "$W/nobody.conf"
    check_rc "  ... a root-owned file from an earlier root run is given back: exit 0" 0
    sed -i 's/^user = nobody$/user = no-such-user-here/' "$W/nobody.conf"
    run_syncd "$W/nobody.conf"
    check_rc "user that does not exist: exit 77" 77
    check_grep "  ... says so" "$ERR" 'no user no-such-user-here'
else
    skip "started as root: drops to user nobody" "not root or no user nobody"
fi

"$TEST_SLAPD" stop "$W/ldap" >/dev/null 2>&1
finish
