# syncrepl.sh - what the syncrepl tests share (sourced by tests/lib/rcptdir.sh): a
# configuration against a test slapd, a user entry as LDIF, and the check that a store equals
# a fresh paged full sync of the same directory, key by key.
#
# sr_conf FILE STORE MODE [LDAP_LINES]: [ldap] against $D's slapd (scripts/test-slapd DIR) with
# both filters, sync = MODE; the variables BINDDN, PWFILE (default $TEST_DIR/pw), TIMEOUT (30),
# RATIO (max_delete_ratio, 0.2) and SYNC_LINES ([sync] extra lines), set for the call,
# override the defaults. sr_user UID MAIL: an inetOrgPerson under ou=people as LDIF.
# sr_same DESC STORE: a paged sync into $TEST_DIR/paged, then check_same of the entry dumps.
# sr_set_meta STORE NAME VALUE: overwrite one meta value with mdb_load (lmdb-utils; no syncd
# running on STORE).
# shellcheck shell=bash

sr_conf() {
    cat >"$1" <<CONF
[store]
path = $2
[ldap]
uri = $(envget "$D" LDAP_URI)
bind_dn = ${BINDDN:-$(envget "$D" LDAP_BIND_DN)}
bind_pw_file = ${PWFILE:-$TEST_DIR/pw}
base = dc=example,dc=org
disabled_filter = (description=disabled)
group_filter = (objectClass=groupOfNames)
sync = $3
timeout = ${TIMEOUT:-30}
${4:-}
[sync]
max_delete_ratio = ${RATIO:-0.2}
${SYNC_LINES:-}
[lookupd]
user =
CONF
}

sr_user() {
    printf 'dn: uid=%s,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n' "$1"
    printf 'objectClass: inetLocalMailRecipient\nuid: %s\ncn: %s\nsn: %s\nmail: %s\n\n' \
        "$1" "$1" "$1" "$2"
}

sr_same() {
    rm -rf "$TEST_DIR/paged"
    sr_conf "$TEST_DIR/paged.conf" "$TEST_DIR/paged" paged
    run_syncd "$TEST_DIR/paged.conf"
    "$DUMP" -e "$TEST_DIR/paged" >"$TEST_DIR/want" 2>&1
    "$DUMP" -e "$2" >"$TEST_DIR/got" 2>&1
    check_same "$1: the store equals a fresh paged sync" "$TEST_DIR/want" "$TEST_DIR/got"
}

sr_set_meta() {
    printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n' "$2" "$3" |
        mdb_load -s meta "$1"
}
