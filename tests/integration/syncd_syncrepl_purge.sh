#!/bin/bash
# syncd_syncrepl_purge.sh -- syncrepl with the session log from an accesslog database
# (syncprov-sessionlog-source, slapd 2.5) when the cookie is older than what the log's
# logpurge kept (issue 13): while the log covers the cookie the changes come by name (no
# present phase); once slapd purged the log entries after the cookie (its minCSN moved past
# it), the same cookie gets a present phase: a full refresh under the safety rules -- a mass
# delete in it is held back (exit 65) while an add goes live, --force applies it, and the
# store equals a fresh paged sync, key by key. Prints TAP.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

# old_run NAME [ARGS] - a cron run on a copy of the store with the old cookie ($W/old)
old_run() {
    local name=$1
    shift
    [ -d "$W/$name" ] || cp -r "$W/old" "$W/$name"
    sr_conf "$W/$name.conf" "$W/$name" syncrepl
    run_syncd "$W/$name.conf" "$@"
    cat "$ERR" >>"$W/syncd.log"
}

# log_writes - the write operations the accesslog still holds
log_writes() {
    ldapsearch -x -LLL -H "$(envget "$D" LDAP_URI)" -D "$(envget "$D" LDAP_BIND_DN)" \
        -y "$W/pw" -b cn=accesslog -s one '(objectClass=auditWriteObject)' 1.1 2>/dev/null |
        grep -c '^dn:'
}

D=$W/ldap
SP='syncprov-sessionlog-source cn=accesslog'
TEST_SLAPD_ACCESSLOG=1 TEST_SLAPD_SYNCPROV=$SP slapd_start "$D" || {
    done_testing
    exit 1
}
secret "$W/pw" "$(envget "$D" LDAP_BIND_PW)"
sr_conf "$W/sr.conf" "$W/sr" syncrepl
run_syncd "$W/sr.conf"
check_rc "first refresh: exit 0" 0
# one change, so the log is in use (a cookie from before the log gets a present phase anyway)
sr_user first first@example.org | ldap_do "$D" ldapadd
run_syncd "$W/sr.conf"
check_rc "a change: exit 0" 0
cp -r "$W/sr" "$W/old" # the store with the cookie that the purge will outlive

# log_empty - the accesslog holds no write any more (for wait_until)
log_empty() { [ "$(log_writes)" = 0 ]; }

# a mass delete and an add after the cookie
for u in alice bob grace heidi ivan; do
    ldap_do "$D" ldapdelete "uid=$u,ou=people,dc=example,dc=org"
done
sr_user hired hired@example.org | ldap_do "$D" ldapadd
check "the accesslog holds the writes" test "$(log_writes)" -ge 6

# control: while the log covers the cookie, the deletes come by name
old_run covered --dry-run --force
check_grep "log covers the cookie: the changes by name" "$ERR" "syncrepl: 1 changed, 5 deleted"
check_nogrep "log covers the cookie: no present phase" "$ERR" "present phase"

# the provider purges its log: entries older than 1 s, every second
"$TOP/scripts/test-slapd" stop "$D" >/dev/null
TEST_SLAPD_ACCESSLOG=1 TEST_SLAPD_SYNCPROV=$SP TEST_SLAPD_LOGPURGE='00:00:01 00:00:01' \
    "$TOP/scripts/test-slapd" start "$D" >/dev/null
check "logpurge emptied the log within 30 s" wait_until 30 log_empty

old_run purged
check_rc "cookie older than the log: the mass delete held back, exit 65" 65
check_grep "cookie older than the log: a present phase (a sweep of the entries not named)" "$ERR" \
    "the sweep of the entries not named is held back"
check_grep "cookie older than the log: the sweep held back, said so" "$ERR" "held back"
check "cookie older than the log: the add went live" grep -q '^hired@example.org' <("$DUMP" "$W/purged")
check "cookie older than the log: the deleted entries stay" grep -q '^alice@example.org' <("$DUMP" "$W/purged")
old_run purged --force
check_rc "cookie older than the log: --force, exit 0" 0
check "cookie older than the log: --force: alice gone" bash -c "! '$DUMP' '$W/purged' | grep -q '^alice@'"
sr_same "cookie older than the log, after --force" "$W/purged"

# a small change after the purge, from the cookie the full refresh left: equal again
sr_user later later@example.org | ldap_do "$D" ldapadd
old_run purged
check_rc "after the purge: the next run, exit 0" 0
sr_same "after the purge, the next run" "$W/purged"

done_testing
