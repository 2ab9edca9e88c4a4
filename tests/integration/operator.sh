#!/bin/bash
# shellcheck disable=SC2154 # HTTPPORT_m is set by lookupd_start (tests/lib/lookupd.sh)
# operator: the tools an operator reaches for, against a known store (schema/ldap/sample.ldif
# synced by rcptdir-syncd): rcptdir-lookupd --list/--domains/--entries/--count [--domain D]
# [--json] and -q ADDRESS --explain, with golden answers in tests/data/operator; --version
# of both programs; the /metrics series of the last sync after a good, a refused and a failed
# sync. Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

G=$TOP/tests/data/operator
S=$T/store
cp schema/ldap/sample.ldif "$T/dir.ldif"
cat >"$T/c.conf" <<CONF
[store]
path = $S
[ldif]
path = $T/dir.ldif
disabled_filter = (description=disabled)
[lookupd]
user =
CONF
run_syncd "$T/c.conf"
check_rc "a store from schema/ldap/sample.ldif" 0
L() { "$LOOKUPD" -c "$T/c.conf" "$@"; }

# --- listings ----------------------------------------------------------------------------------
L --list >"$T/list"
check_same "--list: every address, kind, state, primary (schema/ldap/sample.expected)" \
    schema/ldap/sample.expected "$T/list"
L --count >"$T/count"
check_same "--count" "$G/count.ref" "$T/count"
L --count --domain example.com --json >"$T/count.json"
check_same "--count --domain example.com --json" "$G/count-example.com.json" "$T/count.json"
L --domains --json >"$T/domains.json"
check_same "--domains --json" "$G/domains.json" "$T/domains.json"
L --entries >"$T/entries"
check_same "--entries: id, state, kind, addresses (the primary first)" "$G/entries.ref" "$T/entries"
L --list --domain Example.NET --json >"$T/list.json"
check_same "--list --domain Example.NET --json (JSON Lines)" "$G/list-example.net.json" "$T/list.json"
check_eq "--list --domain with no such domain: nothing" "" "$(L --list --domain example.invalid)"
L --list --json | jq -e . >/dev/null 2>&1
check_eq "--list --json: every line is JSON (jq)" 0 "$?"
L --count --domain nowhere.test -c /nonexistent >/dev/null 2>"$T/nostore.err"
check_eq "no configuration file: exit 78" 78 "$?"
sed "s|^path = $S|path = $T/none|" "$T/c.conf" >"$T/none.conf"
"$LOOKUPD" -c "$T/none.conf" --list >/dev/null 2>"$T/none.err"
check_eq "--list without a store: exit 75" 75 "$?"
check_grep "  ... an error naming the store" "$T/none.err" "error: store $T/none: "

# --- -q --explain ------------------------------------------------------------------------------
for a in alice@example.org Alice+news@Example.org al@example.org anyone@example.net \
    dave@example.com nobody@example.org x@foreign.test; do
    L -q "$a" --explain | jq -c -S 'del(.age, .last_success)'
done >"$T/explain"
check_same "-q --explain: exact, +extension, alias, catch-all, disabled, unknown, foreign" \
    "$G/explain.ref" "$T/explain"
out=$(L -q dave@example.com --explain)
check_eq "  ... disabled: exit 1" 1 "$?"
check_match "  ... the store's age and last success" '"age":[0-9]+,.*"last_success":[1-9][0-9]+' "$out"
L -q alice@example.org --explain >/dev/null
check_eq "  ... valid: exit 0" 0 "$?"
check_eq "--explain without -q: usage, exit 64" 64 "$(L --explain >/dev/null 2>&1; echo $?)"

# --- --version ---------------------------------------------------------------------------------
version=$(sed -n '1s/^rcptdir (\([^)]*\)).*/\1/p' debian/changelog)
check_eq "rcptdir-lookupd --version (debian/changelog's)" "rcptdir-lookupd $version" \
    "$("$LOOKUPD" --version)"
check_eq "rcptdir-syncd --version" "rcptdir-syncd $version" "$("$SYNCD" --version)"

# --- the last sync in /metrics -----------------------------------------------------------------
write_conf m "$S"
require "lookupd for /metrics" lookupd_start m
metrics() { curl -s "http://127.0.0.1:$HTTPPORT_m/metrics"; }
m=$(metrics)
check_match "good sync: rcptdir_sync_last_result{result=\"ok\"} 1" '^rcptdir_sync_last_result\{result="ok"\} 1$' "$m"
check_match "  ... refused 0" '^rcptdir_sync_last_result\{result="refused"\} 0$' "$m"
check_match "  ... rcptdir_sync_last_changes added 37" '^rcptdir_sync_last_changes\{change="added"\} 37$' "$m"
check_match "  ... its duration" '^rcptdir_sync_last_duration_seconds [0-9]+\.[0-9]{3}$' "$m"
check_match "  ... the attempt's time" '^rcptdir_sync_last_attempt_timestamp_seconds [1-9][0-9]+$' "$m"
check_match "  ... no refusals yet" '^rcptdir_sync_refusals_total 0$' "$m"

awk 'BEGIN { RS = ""; ORS = "\n\n" } NR <= 3' schema/ldap/sample.ldif >"$T/dir.ldif"
run_syncd "$T/c.conf"
check_rc "a sync that would remove most addresses: refused, exit 65" 65
m=$(metrics)
check_match "refused sync: result refused 1" '^rcptdir_sync_last_result\{result="refused"\} 1$' "$m"
check_match "  ... ok 0" '^rcptdir_sync_last_result\{result="ok"\} 0$' "$m"
check_match "  ... rcptdir_sync_refusals_total 1" '^rcptdir_sync_refusals_total 1$' "$m"
check_match "  ... the last good sync's changes stay" '^rcptdir_sync_last_changes\{change="added"\} 37$' "$m"

rm -f "$T/dir.ldif"
run_syncd "$T/c.conf"
check_rc "a sync whose LDIF is missing: exit 75" 75
m=$(metrics)
check_match "failed sync: result failed 1" '^rcptdir_sync_last_result\{result="failed"\} 1$' "$m"
check_match "  ... refusals stay 1" '^rcptdir_sync_refusals_total 1$' "$m"
lookupd_stop m

done_testing
