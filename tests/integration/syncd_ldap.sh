#!/bin/bash
# syncd_ldap.sh -- rcptdir-syncd against real throwaway slapds (issue 3 "Tests"):
# full sync, add/modify/rename/delete + exact difference, mapping details, source
# failures (wrong password, unreachable, slapd killed mid-paging, size limit) leave the
# store unchanged, safety refusals (mass delete, empty base), --force, --dry-run, the
# lock, --watch, config errors.  Prints TAP.  Needs slapd, ldap-utils, flock.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

EXPECTED=$TOP/schema/ldap/sample.expected
S=$W/store # the main store, synced from the sample directory throughout

# ---------------------------------------------------------------- setup
if ! slapd_start "$W/ldap"; then
    finish
    exit 1
fi
# shellcheck disable=SC1091
. "$W/ldap/env"
secret "$W/pw" "$LDAP_BIND_PW"
mkconf "$W/main.conf" "$S"

# ---------------------------------------------------------------- configuration
run_syncd "$W/main.conf" -n
if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "configuration OK" ]; then
    ok "-n: valid configuration prints 'configuration OK', exit 0"
else
    notok "-n: valid configuration prints 'configuration OK', exit 0" "exit $RC" "$(cat "$OUT" "$ERR")"
fi

LDAP_EXTRA='bogus_key = 1' mkconf "$W/bad.conf" "$W/store-bad"
badline=$(grep -n '^bogus_key' "$W/bad.conf" | cut -d: -f1)
for mode in "-n" "sync"; do
    if [ "$mode" = -n ]; then run_syncd "$W/bad.conf" -n; else run_syncd "$W/bad.conf"; fi
    check_rc "config error (unknown key), $mode: exit 78" 78
    check_grep "config error (unknown key), $mode: message names $W/bad.conf:$badline and the key" \
        "$ERR" "bad\.conf:$badline:.*bogus_key"
done
if [ -e "$W/store-bad/data.mdb" ]; then
    notok "config error: no store created" "$(ls -l "$W/store-bad")"
else
    ok "config error: no store created"
fi

cp "$W/pw" "$W/pw644"
chmod 644 "$W/pw644"
PWFILE=$W/pw644 mkconf "$W/pw644.conf" "$W/store-bad"
run_syncd "$W/pw644.conf"
check_rc "bind_pw_file mode 644: exit 78 (a configuration error, read at the sync)" 78
check_grep "bind_pw_file mode 644: message names the key and the file" "$ERR" \
    "error: .*bind_pw_file: secret file $W/pw644 must not be accessible .*chmod 600"
check_nogrep "bind_pw_file mode 644: password not logged" "$ERR" "$LDAP_BIND_PW"
check_eq "bind_pw_file mode 644: exactly one error (no spurious 'required' error for the key that is set)" \
    1 "$(grep -c . "$ERR")"
run_syncd "$W/pw644.conf" -n
check_rc "bind_pw_file mode 644, -n: exit 78" 78
check_grep "bind_pw_file mode 644, -n: message names the file and the key" "$ERR" \
    "pw644\.conf: \[ldap\] bind_pw_file: secret file .*chmod 600"

# ---------------------------------------------------------------- full sync
run_syncd "$W/main.conf"
check_rc "full sync: exit 0" 0
check_grep "full sync: summary line" "$ERR" \
    'sync: generation 1: \+37 ~0 -0 = 37 addresses, 3 domains, 14 entries .*\(3 invalid, 0 conflicts\)'
addrs "$S" "$W/addrs1"
check_same "full sync: addresses equal schema/ldap/sample.expected" "$EXPECTED" "$W/addrs1"
check_eq "full sync: meta generation 1, 37 addresses, 3 domains" \
    "generation=1 addresses=37 domains=3" "$(meta "$S")"
check_eq "full sync: managed domains derived" "$(printf 'domain\texample.com\ndomain\texample.net\ndomain\texample.org')" \
    "$("$DUMP" "$S" | grep '^domain	')"
# entries are keyed by entryUUID: exactly the 14 entries that yield addresses
for dn in uid=alice uid=bob uid=carol uid=dave uid=erin uid=frank uid=grace uid=heidi \
    uid=ivan uid=mallory uid=oscar cn=catchall; do
    uuid_of "$W/ldap" "$dn,ou=people,dc=example,dc=org"
done >"$W/uuids1"
for dn in cn=staff cn=sales; do
    uuid_of "$W/ldap" "$dn,ou=groups,dc=example,dc=org"
done >>"$W/uuids1"
sort -o "$W/uuids1" "$W/uuids1"
entries "$S" >"$W/ent1"
check_same "full sync: entry ids are the entryUUIDs of the 14 entries with addresses" "$W/uuids1" "$W/ent1"

# explicit lines (all are in sample.expected too; named here for readable failures)
TAB=$'\t'
check_line "proxyAddresses smtp: value becomes an alias" "$W/addrs1" "al@example.org${TAB}alias${TAB}active${TAB}alice@example.org"
check_line "proxyAddresses Smtp: (mixed-case prefix, mixed-case address)" "$W/addrs1" "hostmaster@example.org${TAB}alias${TAB}active${TAB}oscar@example.org"
check_line "proxyAddresses in AD style (aliases only there)" "$W/addrs1" "ewhite@example.org${TAB}alias${TAB}active${TAB}erin.white@example.com"
check_nogrep "proxyAddresses X400:/SIP: values ignored" "$W/addrs1" '(c=us|x400|sip:|;)'
check_line "group: kind group" "$W/addrs1" "staff@example.org${TAB}group${TAB}active${TAB}staff@example.org"
check_line "group alias: kind alias, primary the group" "$W/addrs1" "all@example.org${TAB}alias${TAB}active${TAB}staff@example.org"
check_line "disabled account: primary disabled" "$W/addrs1" "dave@example.com${TAB}user${TAB}disabled${TAB}dave@example.com"
check_line "disabled account: proxyAddresses alias disabled" "$W/addrs1" "dmiller@example.org${TAB}alias${TAB}disabled${TAB}dave@example.com"
check_line "catch-all @example.net" "$W/addrs1" "@example.net${TAB}user${TAB}active${TAB}@example.net"
check_line "mixed case: Bob@Example.ORG lower-cased" "$W/addrs1" "bob@example.org${TAB}user${TAB}active${TAB}bob@example.org"
check_line "mixed case: alias and its primary lower-cased" "$W/addrs1" "cjones@example.com${TAB}alias${TAB}active${TAB}carol.jones@example.com"
check_line "base64 (::) value in LDAP" "$W/addrs1" "h.schmidt@example.com${TAB}alias${TAB}active${TAB}heidi@example.com"
check_nogrep "invalid addresses skipped (no '@', 65-octet local part, judy)" "$W/addrs1" '^(ivan\.petrov|a{65}@example\.org|not-an-address)'$'\t'

dump "$S" "$W/d1"
run_syncd "$W/main.conf"
check_rc "re-sync, no change: exit 0" 0
check_grep "re-sync, no change: summary +0 ~0 -0 at generation 1" "$ERR" 'sync: generation 1: \+0 ~0 -0 = 37 addresses'
dump "$S" "$W/d1b"
check_same "re-sync, no change: dump and generation identical" "$W/d1" "$W/d1b"

# ---------------------------------------------------------------- add, modify, rename, delete
grace_uuid=$(uuid_of "$W/ldap" uid=grace,ou=people,dc=example,dc=org)
frank_uuid=$(uuid_of "$W/ldap" uid=frank,ou=people,dc=example,dc=org)
ldap_do "$W/ldap" ldapadd <"$TOP/tests/data/syncd/add-nina.ldif"
ok_add=$?
ldap_do "$W/ldap" ldapmodify <<'EOF'
dn: uid=alice,ou=people,dc=example,dc=org
changetype: modify
delete: mailLocalAddress
mailLocalAddress: a.smith@example.com
-
add: mailAlternateAddress
mailAlternateAddress: alice.s@example.net

dn: uid=bob,ou=people,dc=example,dc=org
changetype: modify
add: description
description: disabled
EOF
ok_mod=$?
ldap_do "$W/ldap" ldapmodrdn -r uid=grace,ou=people,dc=example,dc=org uid=gracie
ok_rdn=$?
ldap_do "$W/ldap" ldapdelete uid=frank,ou=people,dc=example,dc=org
ok_del=$?
check_eq "directory changed (ldapadd, ldapmodify, ldapmodrdn, ldapdelete exit 0)" "0 0 0 0" \
    "$ok_add $ok_mod $ok_rdn $ok_del"
nina_uuid=$(uuid_of "$W/ldap" uid=nina,ou=people,dc=example,dc=org)

run_syncd "$W/main.conf"
check_rc "sync after add/modify/rename/delete: exit 0" 0
check_grep "sync after changes: summary +3 ~3 -3 at generation 2" "$ERR" \
    'sync: generation 2: \+3 ~3 -3 = 37 addresses, 3 domains, 14 entries'
{
    grep -Ev '^(a\.smith@example\.com|frank@example\.net|f\.green@example\.net|bob@example\.org|bob\.brown@example\.org|robert\.brown@example\.org)	' "$EXPECTED"
    printf '%s\n' "alice.s@example.net${TAB}alias${TAB}active${TAB}alice@example.org" \
        "nina@example.org${TAB}user${TAB}active${TAB}nina@example.org" \
        "n.lopez@example.com${TAB}alias${TAB}active${TAB}nina@example.org" \
        "bob@example.org${TAB}user${TAB}disabled${TAB}bob@example.org" \
        "bob.brown@example.org${TAB}alias${TAB}disabled${TAB}bob@example.org" \
        "robert.brown@example.org${TAB}alias${TAB}disabled${TAB}bob@example.org"
} | sort >"$W/expected2"
addrs "$S" "$W/addrs2"
check_same "sync after changes: exact address difference (+nina, alice alias swapped, bob disabled, frank gone, grace renamed unchanged)" \
    "$W/expected2" "$W/addrs2"
check_eq "sync after changes: generation went up by exactly 1" "generation=2 addresses=37 domains=3" "$(meta "$S")"
{
    grep -vx "$frank_uuid" "$W/ent1"
    echo "$nina_uuid"
} | sort >"$W/uuids2"
entries "$S" >"$W/ent2"
check_same "sync after changes: entry ids (frank's gone, nina's added, renamed grace keeps her entryUUID)" \
    "$W/uuids2" "$W/ent2"
if [ -n "$grace_uuid" ] && grep -qx "$grace_uuid" "$W/ent2"; then
    ok "renamed entry keeps its identity (entryUUID $grace_uuid)"
else
    notok "renamed entry keeps its identity" "grace uuid '$grace_uuid' not in entries"
fi

dump "$S" "$W/d2"
run_syncd "$W/main.conf"
check_rc "re-sync after changes, no change: exit 0" 0
dump "$S" "$W/d2b"
check_same "re-sync after changes, no change: dump and generation identical" "$W/d2" "$W/d2b"

# ---------------------------------------------------------------- source failures
secret "$W/pw-wrong" "not-the-password"
PWFILE=$W/pw-wrong mkconf "$W/wrongpw.conf" "$S"
run_syncd "$W/wrongpw.conf"
check_rc "wrong password: exit 78 (a configuration error, not 'try later')" 78
check_grep "wrong password: message says why" "$ERR" '[Ii]nvalid credentials'
check_nogrep "wrong password: password not logged" "$ERR" 'not-the-password'
dump "$S" "$W/d3"
check_same "wrong password: store content and generation unchanged" "$W/d2" "$W/d3"

URI=ldap://127.0.0.1:1 mkconf "$W/closed.conf" "$S"
run_syncd "$W/closed.conf"
check_rc "unreachable server (closed port): exit 75" 75
check_grep "unreachable server: message names the URI" "$ERR" '127\.0\.0\.1:1'
dump "$S" "$W/d4"
check_same "unreachable server: store content and generation unchanged" "$W/d2" "$W/d4"

URI="ldap://127.0.0.1:1 $LDAP_URI" mkconf "$W/failover.conf" "$S"
run_syncd "$W/failover.conf"
check_rc "failover (first URI closed, second works): exit 0" 0
check_grep "failover: the sync ran against the second URI" "$ERR" 'sync: generation 2: \+0 ~0 -0 = 37 addresses'
dump "$S" "$W/d5"
check_same "failover: store identical (nothing changed in the directory)" "$W/d2" "$W/d5"

# ---------------------------------------------------------------- --watch and the lock (two real syncds)
SYNC_EXTRA=$'interval = 5\nlock_timeout = 1' mkconf "$W/watch.conf" "$S"
"$SYNCD" -c "$W/watch.conf" -d -v --watch >"$W/watch.out" 2>"$W/watch.err" &
watch_pid=$!
BG_PIDS+=("$watch_pid")
wait_until 30 file_has "$W/watch.err" 'sync: generation'
check_grep "--watch: first sync runs at once" "$W/watch.err" 'sync: generation 2: \+0 ~0 -0'

run_syncd "$W/watch.conf"
check_rc "two syncs at once: the second gives up after lock_timeout = 1, exit 75" 75
check_grep "two syncs at once: message names the lock and the holder's pid" "$ERR" \
    "another sync \(pid $watch_pid\) still holds .*sync\.lock"
if awk -v s="$SECS" 'BEGIN { exit !(s >= 0.9) }'; then
    ok "two syncs at once: the second waited lock_timeout before it gave up ($SECS s)"
else
    notok "two syncs at once: the second waited lock_timeout before it gave up" "took $SECS s, want 1 s"
fi

ldap_do "$W/ldap" ldapmodify <<'EOF'
dn: uid=oscar,ou=people,dc=example,dc=org
changetype: modify
add: mailLocalAddress
mailLocalAddress: webmaster@example.org
EOF
wait_until 60 file_has "$W/watch.err" 'sync: generation 3:'
check_grep "--watch: syncs again by itself after a directory change (within interval)" "$W/watch.err" \
    'sync: generation 3: \+1 ~0 -0 = 38 addresses'
{
    cat "$W/expected2"
    echo "webmaster@example.org${TAB}alias${TAB}active${TAB}oscar@example.org"
} | sort >"$W/expected3"
addrs "$S" "$W/addrs3"
check_same "--watch: store holds the new alias" "$W/expected3" "$W/addrs3"
check_eq "--watch: generation 3" "generation=3 addresses=38 domains=3" "$(meta "$S")"
kill -TERM "$watch_pid" 2>/dev/null
wait_exit 30 "$watch_pid"
wait_rc=$?
if [ "$wait_rc" -eq 0 ]; then
    ok "--watch: SIGTERM stops it with exit 0"
else
    notok "--watch: SIGTERM stops it with exit 0" "exit $wait_rc (124: still running after 30 s)" "$(tail -n 5 "$W/watch.err")"
    kill -KILL "$watch_pid" 2>/dev/null
fi
check_grep "--watch: logs that it stopped" "$W/watch.err" 'sync: stopped'
dump "$S" "$W/d6"

# lock held by another process (flock(1)) until $W/release appears; a second run with a
# longer timeout waits for it
( flock -x 9 && touch "$W/locked" && wait_until 300 test -e "$W/release" ) 9>>"$S/sync.lock" &
holder=$!
BG_PIDS+=("$holder")
wait_until 30 test -e "$W/locked"
run_syncd "$W/watch.conf"
check_rc "lock held by flock: lock_timeout = 1 gives up, exit 75" 75
check_grep "lock held by flock: message about the lock" "$ERR" 'still holds .*sync\.lock'
SYNC_EXTRA='lock_timeout = 20' mkconf "$W/wait.conf" "$S"
"$SYNCD" -c "$W/wait.conf" -d >"$W/wait.out" 2>"$W/wait.err" &
waiter=$!
BG_PIDS+=("$waiter")
check "lock held by flock: a sync with lock_timeout = 20 opens the lock file" \
    wait_until 30 has_open "$waiter" "$S/sync.lock"
check "  ... and waits while the lock is held" running "$waiter"
touch "$W/release"
wait_exit 60 "$waiter"
RC=$? OUT=$W/wait.out ERR=$W/wait.err check_rc "  ... then syncs once it is released, exit 0" 0
wait "$holder" 2>/dev/null
dump "$S" "$W/d7"
check_same "lock tests: store unchanged" "$W/d6" "$W/d7"

# ---------------------------------------------------------------- safety: mass delete, --dry-run, --force
removed=$(grep -E '	(alice@example\.org|bob@example\.org|carol\.jones@example\.com|dave@example\.com|erin\.white@example\.com|grace@example\.org)$' \
    "$W/expected3" | cut -f1 | sort)
nremoved=$(printf '%s\n' "$removed" | wc -l)
for u in alice bob carol dave erin gracie; do
    ldap_do "$W/ldap" ldapdelete "uid=$u,ou=people,dc=example,dc=org" || echo "# ldapdelete $u failed"
done
run_syncd "$W/main.conf"
check_rc "removing half the users: refused, exit 65" 65
check_grep "removing half the users: message names --force" "$ERR" '--force'
check_grep "removing half the users: message says how many would go ($nremoved of 38)" "$ERR" "$nremoved of 38"
dump "$S" "$W/d8"
check_same "removing half the users: store content and generation unchanged" "$W/d6" "$W/d8"

printf '%s\n' "$removed" | sed 's/^/- /' >"$W/dry.expected"
run_syncd "$W/main.conf" --dry-run
check_rc "--dry-run of the refused sync: exit 65 (what the real run would do)" 65
grep '^[-+~] ' "$OUT" | sort >"$W/dry.out"
check_same "--dry-run: prints exactly the '- address' lines of what would be removed" "$W/dry.expected" "$W/dry.out"
dump "$S" "$W/d9"
check_same "--dry-run: store unchanged" "$W/d6" "$W/d9"
run_syncd "$W/main.conf" --dry-run --force
check_rc "--dry-run --force: exit 0" 0
grep '^[-+~] ' "$OUT" | sort >"$W/dry2.out"
check_same "--dry-run --force: prints the same '- address' lines" "$W/dry.expected" "$W/dry2.out"
dump "$S" "$W/d10"
check_same "--dry-run --force: store unchanged" "$W/d6" "$W/d10"

run_syncd "$W/main.conf" --force
check_rc "--force: applies the mass delete, exit 0" 0
check_grep "--force: logs that a refusal was overridden" "$ERR" 'applied with --force'
printf '%s\n' "$removed" >"$W/removed"
awk -F'\t' 'NR == FNR { gone[$1] = 1; next } !($1 in gone)' "$W/removed" "$W/expected3" >"$W/expected4"
addrs "$S" "$W/addrs4"
check_same "--force: store holds exactly the remaining addresses" "$W/expected4" "$W/addrs4"
check_eq "--force: generation 4, $((38 - nremoved)) addresses" \
    "generation=4 addresses=$((38 - nremoved)) domains=3" "$(meta "$S")"

# ---------------------------------------------------------------- safety: empty base
ldap_do "$W/ldap" ldapadd <<'EOF'
dn: ou=empty,dc=example,dc=org
objectClass: top
objectClass: organizationalUnit
ou: empty
EOF
dump "$S" "$W/d11"
BASE=ou=empty,dc=example,dc=org mkconf "$W/empty.conf" "$S"
run_syncd "$W/empty.conf"
check_rc "empty base: no addresses, refused, exit 65" 65
check_grep "empty base: message says no addresses and names --force" "$ERR" 'no addresses.*--force|--force.*no addresses'
dump "$S" "$W/d12"
check_same "empty base: store content and generation unchanged" "$W/d11" "$W/d12"

# ---------------------------------------------------------------- size limit (cn=limited, 1000 users)
scripts/gen-ldif 1000 >"$W/lim.ldif"
if slapd_start "$W/lim" "$W/lim.ldif"; then
    L=$W/lstore
    secret "$W/pw-limited" limited-secret
    URI=$(envget "$W/lim" LDAP_URI) mkconf "$W/lim-ok.conf" "$L"
    run_syncd "$W/lim-ok.conf"
    check_rc "1000 users, unlimited account: exit 0" 0
    check_eq "1000 users: 2500 addresses" "generation=1 addresses=2500 domains=3" "$(meta "$L")"
    dump "$L" "$W/l1"
    for ps in 500 100; do
        URI=$(envget "$W/lim" LDAP_URI) BINDDN=cn=limited,ou=services,dc=example,dc=org \
            PWFILE=$W/pw-limited LDAP_EXTRA="page_size = $ps" mkconf "$W/lim.conf" "$L"
        run_syncd "$W/lim.conf"
        check_rc "size limit (500) exceeded, page_size $ps: aborted, exit 75" 75
        check_grep "size limit, page_size $ps: message says size limit" "$ERR" '[Ss]ize limit'
        dump "$L" "$W/l2"
        check_same "size limit, page_size $ps: store content and generation unchanged" "$W/l1" "$W/l2"
    done
    "$TEST_SLAPD" stop "$W/lim" >/dev/null 2>&1
fi

# ---------------------------------------------------------------- slapd killed in the middle of a paged sync
# read_past PID BYTES - the process has read more than BYTES (its LDAP replies, mostly), or
# has exited
read_past() {
    local r
    r=$(awk '$1 == "rchar:" { print $2 }' "/proc/$1/io" 2>/dev/null)
    [ -z "$r" ] || [ "$r" -gt "$2" ]
}
scripts/gen-ldif 20000 >"$W/big.ldif"
if slapd_start "$W/big" "$W/big.ldif"; then
    B=$W/bstore
    URI=$(envget "$W/big" LDAP_URI) mkconf "$W/big.conf" "$B"
    run_syncd "$W/big.conf"
    check_rc "20000 users: first sync, exit 0" 0
    check_eq "20000 users: 50000 addresses" "generation=1 addresses=50000 domains=3" "$(meta "$B")"
    dump "$B" "$W/b1"
    killed=0
    for ps in 10 5 2 1; do
        URI=$(envget "$W/big" LDAP_URI) LDAP_EXTRA="page_size = $ps" mkconf "$W/bigp.conf" "$B"
        "$SYNCD" -c "$W/bigp.conf" -d >"$W/kill.out" 2>"$W/kill.err" &
        sp=$!
        BG_PIDS+=("$sp")
        # mid-sync: the sync has read 1.5 MB of the directory's 4.5 MB
        wait_until 60 read_past "$sp" 1500000
        if running "$sp"; then
            kill -KILL "$(envget "$W/big" SLAPD_PID)"
            killed=1
            wait_exit 30 "$sp"
            krc=$?
            if [ "$krc" = 124 ]; then
                kill -KILL "$sp" 2>/dev/null
                wait "$sp" 2>/dev/null
            fi
            break
        fi
        wait "$sp"
        echo "# page_size $ps: the sync finished before it had read 1.5 MB; retrying with a smaller page"
    done
    if [ "$killed" = 1 ]; then
        RC=$krc ERR=$W/kill.err OUT=$W/kill.out check_rc "slapd killed during a paged sync (page_size $ps): exit 75" 75
        check_grep "slapd killed: message says the sync failed and the store is unchanged" "$W/kill.err" \
            'sync failed, store unchanged'
        dump "$B" "$W/b2"
        check_same "slapd killed: store content and generation unchanged" "$W/b1" "$W/b2"
        if slapd_start "$W/big"; then
            URI=$(envget "$W/big" LDAP_URI) mkconf "$W/big.conf" "$B"
            run_syncd "$W/big.conf"
            check_rc "after slapd restart: sync works again, exit 0" 0
            dump "$B" "$W/b3"
            check_same "after slapd restart: nothing changed, generation kept" "$W/b1" "$W/b3"
        fi
    else
        notok "slapd killed during a paged sync" "every sync finished too soon, even with page_size 1: could not kill slapd mid-sync"
    fi
    "$TEST_SLAPD" stop "$W/big" >/dev/null 2>&1
fi

finish
