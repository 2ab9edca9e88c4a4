#!/bin/bash
# syncd_syncrepl.sh -- [ldap] sync = syncrepl against real slapds with syncprov (issue 13):
# for each provider configuration (plain syncprov: deletes by a present phase; a session log:
# deletes as syncIdSets; reloadhint TRUE: a stale cookie answered with 4096; the session log
# from an accesslog database, syncprov-sessionlog-source, slapd 2.5), after each
# step the store equals, key by key, what a fresh paged full sync of the same directory
# gives: first refresh, add, alias added and removed, rename (modrdn keeps the entryUUID),
# delete, disable, a no-change refresh, a store without a cookie (lost), a garbage cookie,
# a cookie from the future (53, consumer state newer), a stale cookie (every entry changed
# since), a mass delete refused (exit 65, store unchanged; also with the cookie lost, when the
# full refresh is refused whole and run again with the deletes held) then --force; with the accesslog,
# a change and a delete after a slapd restart come by name (no present phase). Once: a hung
# provider (SIGSTOP) and a killed one leave the store unchanged (exit 75); the sync account
# without "limits" hits the size limit on a full reload with an error naming the fix;
# sync = auto; --watch: an ldapadd is answered OK by lookupd and an ldapdelete NOTFOUND
# within a deadline, and a slapd restarted mid-persist is followed again. Prints TAP.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

# same DESC - a fresh paged full sync of the directory gives $S, key by key
same() { sr_same "$V: $1" "$S"; }

# sr DESC [ARGS] - one syncrepl run into $S, exit 0, then same
sr() {
    local desc=$1
    shift
    run_syncd "$W/sr.conf" "$@"
    cat "$ERR" >>"$W/syncd.log"
    cp "$ERR" "$W/sr.err"
    check_rc "$V: $desc: exit 0" 0
    same "$desc"
}

if ! command -v mdb_load >/dev/null; then
    skip_all "mdb_load (lmdb-utils) not installed"
fi

for V in plain sessionlog reloadhint accesslog; do
    AL=0
    case $V in
    plain) SP='' ;;
    sessionlog) SP='syncprov-sessionlog 100' ;;
    reloadhint) SP='syncprov-reloadhint TRUE' ;;
    accesslog) SP='syncprov-sessionlog-source cn=accesslog' AL=1 ;;
    esac
    D=$W/ldap-$V
    S=$W/sr-$V
    TEST_SLAPD_ACCESSLOG=$AL TEST_SLAPD_SYNCPROV=$SP slapd_start "$D" || continue
    secret "$W/pw" "$(envget "$D" LDAP_BIND_PW)"
    sr_conf "$W/sr.conf" "$S" syncrepl
    sr_conf "$W/paged.conf" "$W/paged" paged

    sr "first refresh"
    check_grep "$V: first refresh: initial refresh logged" "$W/sr.err" "syncrepl: initial refresh"
    cp -r "$S" "$W/old-$V" # a store with the first cookie, for the stale-cookie steps

    sr_user newbie newbie@example.org | ldap_do "$D" ldapadd
    sr "add"
    check_grep "$V: add: only what changed" "$W/sr.err" "syncrepl: 1 changed"
    check_eq "$V: add: entry named by its entryUUID" 1 \
        "$(entries "$S" | grep -cx "$(uuid_of "$D" uid=newbie,ou=people,dc=example,dc=org)")"

    printf 'dn: uid=newbie,ou=people,dc=example,dc=org\nchangetype: modify\nadd: mailLocalAddress\nmailLocalAddress: nb@example.org\n' |
        ldap_do "$D" ldapmodify
    sr "alias added"
    check "$V: alias added: nb@ in the store" grep -q '^nb@example.org' <("$DUMP" "$S")
    printf 'dn: uid=newbie,ou=people,dc=example,dc=org\nchangetype: modify\ndelete: mailLocalAddress\nmailLocalAddress: nb@example.org\n' |
        ldap_do "$D" ldapmodify
    sr "alias removed"

    ldap_do "$D" ldapmodrdn -r uid=newbie,ou=people,dc=example,dc=org uid=newbie2
    sr "rename"
    check_eq "$V: rename: same entryUUID, same entry" 1 \
        "$(entries "$S" | grep -cx "$(uuid_of "$D" uid=newbie2,ou=people,dc=example,dc=org)")"

    ldap_do "$D" ldapdelete uid=frank,ou=people,dc=example,dc=org
    sr "delete"
    check "$V: delete: frank@ gone" bash -c "! '$DUMP' '$S' | grep -q '^frank@'"

    printf 'dn: uid=carol,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: description\ndescription: disabled\n' |
        ldap_do "$D" ldapmodify
    sr "disable"
    check "$V: disable: carol's addresses disabled" grep -qi '^carol.jones@example.com.*disabled' <("$DUMP" "$S")

    sr "no change"
    check_grep "$V: no change: nothing read" "$W/sr.err" "syncrepl: 0 changed, 0 deleted"

    # a store that has data but no cookie (lost): a full refresh sweeps what is gone
    rm -rf "$W/lost" && cp -r "$W/old-$V" "$W/lost" && sr_set_meta "$W/lost" sync_cookie ""
    sr_conf "$W/lost.conf" "$W/lost" syncrepl
    run_syncd "$W/lost.conf"
    check_rc "$V: lost cookie: exit 0" 0
    "$DUMP" -e "$W/lost" >"$W/got" 2>&1
    check_same "$V: lost cookie: a full refresh equals a fresh paged sync" "$W/want" "$W/got"

    rm -rf "$W/lost" && cp -r "$W/old-$V" "$W/lost" && sr_set_meta "$W/lost" sync_cookie garbage
    run_syncd "$W/lost.conf"
    check_rc "$V: garbage cookie: exit 0" 0
    "$DUMP" -e "$W/lost" >"$W/got" 2>&1
    check_same "$V: garbage cookie (ignored by the provider): full refresh, swept" "$W/want" "$W/got"

    rm -rf "$W/lost" && cp -r "$W/old-$V" "$W/lost" &&
        sr_set_meta "$W/lost" sync_cookie 'rid=000,csn=20991231000000.000000Z#000000#000#000000'
    run_syncd "$W/lost.conf"
    check_rc "$V: cookie from the future (53): exit 0" 0
    check_grep "$V: cookie from the future: the refusal is logged" "$ERR" "consumer state newer"
    "$DUMP" -e "$W/lost" >"$W/got" 2>&1
    check_same "$V: cookie from the future: full refresh equals a fresh paged sync" "$W/want" "$W/got"

    # stale: every entry changed since the old cookie
    ldapsearch -x -LLL -o ldif-wrap=no -H "$(envget "$D" LDAP_URI)" -D "$(envget "$D" LDAP_ROOTDN)" \
        -w "$(envget "$D" LDAP_ROOTPW)" -b dc=example,dc=org dn 2>/dev/null | sed -n 's/^dn: //p' |
        while read -r dn; do
            printf 'dn: %s\nchangetype: modify\nadd: seeAlso\nseeAlso: cn=x\n\n' "$dn"
        done | ldap_do "$D" ldapmodify
    rm -rf "$W/lost" && cp -r "$W/old-$V" "$W/lost"
    run_syncd "$W/lost.conf"
    check_rc "$V: stale cookie: exit 0" 0
    if [ "$V" = reloadhint ]; then
        # slapd answers most such runs with e-syncRefreshRequired (4096) and some with a present
        # phase (seen once in five runs here); either way the old store must catch up exactly
        check_grep "$V: stale cookie: a full reload or a present phase" "$ERR" \
            "full reload|present phase"
    fi
    same "stale cookie (the current store)"
    "$DUMP" -e "$W/lost" >"$W/got" 2>&1
    check_same "$V: stale cookie: the old store caught up equals a fresh paged sync" "$W/want" "$W/got"

    # a mass delete is held back (exit 65, the deleted entries stay) while an add in the same
    # refresh goes live; held again on the next run; applied with --force
    for u in alice bob grace heidi ivan; do
        ldap_do "$D" ldapdelete "uid=$u,ou=people,dc=example,dc=org"
    done
    sr_user hired hired@example.org | ldap_do "$D" ldapadd
    for run in 1 2; do
        run_syncd "$W/sr.conf"
        check_rc "$V: mass delete, run $run: refused, exit 65" 65
        check_grep "$V: mass delete, run $run: the deletes held back, said so" "$ERR" "held back"
        check "$V: mass delete, run $run: the add went live" grep -q '^hired@example.org' <("$DUMP" "$S")
        check "$V: mass delete, run $run: the deleted entries stay" grep -q '^alice@example.org' <("$DUMP" "$S")
    done
    check "$V: mass delete: last_result refused" grep -q '"last_result": *"refused"' \
        <(mdb_dump -p -s meta "$S" | grep -A1 -x ' last_result' | tail -1 | sed 's/^ /"last_result": "/; s/$/"/')
    # the same with the cookie lost: the full refresh (mark and sweep) is refused whole, then
    # run again with the deletes held back, so the add still goes live
    rm -rf "$W/lost" && cp -r "$S" "$W/lost" && sr_set_meta "$W/lost" sync_cookie ""
    sr_user hired2 hired2@example.org | ldap_do "$D" ldapadd
    run_syncd "$W/lost.conf"
    check_rc "$V: mass delete, cookie lost: refused, exit 65" 65
    check_grep "$V: mass delete, cookie lost: the deletes held back" "$ERR" "held back"
    check "$V: mass delete, cookie lost: the add went live" grep -q '^hired2@example.org' <("$DUMP" "$W/lost")
    check "$V: mass delete, cookie lost: the deleted entries stay" grep -q '^alice@example.org' <("$DUMP" "$W/lost")
    sr "mass delete with --force" --force

    if [ "$V" = accesslog ]; then
        # the log survives a restart (an in-memory session log would start empty and the
        # next refresh fall back to a present phase): the delete comes by name
        "$TOP/scripts/test-slapd" stop "$D" >/dev/null
        TEST_SLAPD_ACCESSLOG=1 TEST_SLAPD_SYNCPROV=$SP "$TOP/scripts/test-slapd" start "$D" >/dev/null
        sr_conf "$W/sr.conf" "$S" syncrepl # the port may have changed
        sr_conf "$W/paged.conf" "$W/paged" paged
        printf 'dn: uid=newbie2,ou=people,dc=example,dc=org\nchangetype: modify\nadd: mailLocalAddress\nmailLocalAddress: nb2@example.org\n' |
            ldap_do "$D" ldapmodify
        ldap_do "$D" ldapdelete uid=hired,ou=people,dc=example,dc=org
        sr "slapd restarted, a change and a delete"
        check_grep "$V: slapd restarted: the change and the delete by name" "$W/sr.err" \
            "syncrepl: 1 changed, 1 deleted"
        check "$V: slapd restarted: no present phase" bash -c "! grep -q 'present phase' '$W/sr.err'"
    fi

    "$TOP/scripts/test-slapd" stop "$D" >/dev/null
done

# ---------------------------------------------------------------- faults (plain syncprov)
V=faults
D=$W/ldap-plain
S=$W/sr-plain
TEST_SLAPD_SYNCPROV='' "$TOP/scripts/test-slapd" start "$D" >/dev/null
secret "$W/pw" "$(envget "$D" LDAP_BIND_PW)"
sr_conf "$W/sr.conf" "$S" syncrepl
sr_conf "$W/paged.conf" "$W/paged" paged
sr "slapd restarted (clean)"
dump "$S" "$W/before"
pid=$(envget "$D" SLAPD_PID)
kill -STOP "$pid"
TIMEOUT=2 sr_conf "$W/hung.conf" "$S" syncrepl
run_syncd "$W/hung.conf"
kill -CONT "$pid"
check_rc "hung provider (SIGSTOP): exit 75 within the timeout" 75
check_grep "hung provider: the reason" "$ERR" "no message from the provider|Timed out|Can't contact"
dump "$S" "$W/after"
check_same "hung provider: store unchanged" "$W/before" "$W/after"

kill -STOP "$pid"
TIMEOUT=10 sr_conf "$W/hung.conf" "$S" syncrepl
timeout 60 "$SYNCD" -c "$W/hung.conf" -d >"$W/kill.out" 2>"$W/kill.err" &
spid=$!
wait_until 5 bash -c "ss -tnH state established '( dport = :$(envget "$D" LDAP_PORT) )' | grep -q ."
kill -KILL "$pid"
wait "$spid"
RC=$?
ERR=$W/kill.err
check_rc "slapd killed during the sync: exit 75" 75
dump "$S" "$W/after"
check_same "slapd killed: store unchanged" "$W/before" "$W/after"
"$TOP/scripts/test-slapd" start "$D" >/dev/null
sr_conf "$W/sr.conf" "$S" syncrepl # the port may have changed
sr_conf "$W/paged.conf" "$W/paged" paged
sr_user late late@example.org | ldap_do "$D" ldapadd
sr "slapd killed and started again, then an add"

# the account with slapd's default sizelimit 500: fine for small refreshes, not a full reload
for i in $(seq 1 520); do sr_user "bulk$i" "bulk$i@example.org"; done | ldap_do "$D" ldapadd
secret "$W/pwl" limited-secret
BINDDN=cn=limited,ou=services,dc=example,dc=org PWFILE=$W/pwl sr_conf "$W/lim.conf" "$W/lim" syncrepl
run_syncd "$W/lim.conf"
check_rc "size limit on the full reload: exit 75" 75
check_grep "size limit: the error names the limits fix" "$ERR" "Size limit exceeded.*limits dn.exact"
check "size limit: nothing committed" bash -c "[ -z \"\$('$DUMP' '$W/lim' 2>/dev/null | grep '^bulk')\" ]"

# sync = auto picks syncrepl here (the root DSE lists the control)
sr_conf "$W/auto.conf" "$W/auto" auto
run_syncd "$W/auto.conf"
check_rc "auto: exit 0" 0
check_grep "auto: syncrepl chosen" "$ERR" "sync = auto: syncrepl"
"$DUMP" -e "$W/auto" >"$W/got" 2>&1
rm -rf "$W/paged"
run_syncd "$W/paged.conf"
"$DUMP" -e "$W/paged" >"$W/want" 2>&1
check_same "auto: the store equals a fresh paged sync" "$W/want" "$W/got"

# ---------------------------------------------------------------- --watch: persist
sr "before --watch (so that its refresh finds no change)"
write_conf live "$S"
if lookupd_start live; then
    "$SYNCD" -c "$W/sr.conf" -d --watch >"$W/watch.log" 2>&1 &
    wpid=$!
    PIDS+=("$wpid")
    sr_user live1 live1@example.org | ldap_do "$D" ldapadd
    t0=$EPOCHREALTIME
    check "persist: ldapadd -> lookupd OK within 5 s" wait_until 5 sm_answers "$SMPORT_live" rcpt live1@example.org "OK live1@example.org"
    echo "# persist: add answered after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.3f", b-a}') s"
    check "persist: nothing held back or refused" bash -c "! grep -E 'held back|refused' '$W/watch.log'"
    ldap_do "$D" ldapdelete uid=live1,ou=people,dc=example,dc=org
    check "persist: ldapdelete -> NOTFOUND within 5 s" wait_until 5 sm_answers "$SMPORT_live" rcpt live1@example.org "NOTFOUND "
    curl -s "http://127.0.0.1:$HTTPPORT_live/v1/status" >"$W/status.json"
    check_grep "status: sync mode persist" "$W/status.json" '"mode": *"persist"'
    check_grep "status: persist connection up" "$W/status.json" '"persist": *true'
    check_grep "status: age of the last change" "$W/status.json" '"last_change_age": *[0-9]'
    "$TOP/scripts/test-slapd" stop "$D" >/dev/null
    "$TOP/scripts/test-slapd" start "$D" >/dev/null
    sr_user live2 live2@example.org | ldap_do "$D" ldapadd
    check "persist: slapd restarted -> reconnects, the next add answered OK within 30 s" \
        wait_until 30 sm_answers "$SMPORT_live" rcpt live2@example.org "OK live2@example.org"
    kill -TERM "$wpid"
    wait "$wpid"
    check_eq "persist: --watch exits 0 on SIGTERM" 0 "$?"
    cat "$W/watch.log" >>"$W/syncd.log"
    same "after persist"
else
    not_ok "lookupd started"
fi
done_testing
