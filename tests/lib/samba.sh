# samba.sh - a throwaway Active Directory (Samba's AD DC) for the shell tests (sourced by
# tests/lib/rcptdir.sh).
#
# samba_up [TEMPLATE]: start scripts/test-samba-ad in $TEST_DIR/ad (or skip_all when this
# machine cannot run it: not root, Samba not installed), source its env (AD_URI, AD_LDAPS_URI,
# AD_IP, AD_BASE, AD_BIND_DN, AD_BIND_PW, AD_ADMIN_DN, AD_ADMIN_PW, AD_CA_FILE, AD_USERS),
# write the service account's password to $TEST_DIR/adpw (mode 600). samba_start DIR
# [TEMPLATE]: one more server. Every server is stopped at exit. ad_do TOOL ARGS...: an ldap
# tool as the domain's Administrator (LDIF on stdin); ad_add_user: one user. mkconf_ad FILE
# STORE: a configuration
# with [ldap] preset = ad; AD_EXTRA and SYNC_EXTRA add lines, URI overrides the URI.
# The test directory is the one tests/data/ad/load.py describes.
# shellcheck shell=bash

TEST_SAMBA_AD=$TOP/scripts/test-samba-ad
SAMBA_DIRS=()

samba_stop_all() {
    local d
    for d in "${SAMBA_DIRS[@]}"; do
        "$TEST_SAMBA_AD" stop "$d" >/dev/null 2>&1
    done
}
on_exit samba_stop_all

# samba_can_run - this machine can run a test AD; otherwise prints why
samba_can_run() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs root (AD's LDAP port 389 is fixed)"
        return 1
    fi
    if ! command -v samba >/dev/null || ! command -v samba-tool >/dev/null; then
        echo "Samba's AD DC is not installed (scripts/deps)"
        return 1
    fi
}

# samba_start DIR [TEMPLATE] - start a server in DIR, stopped at exit; 1 on failure
samba_start() {
    SAMBA_DIRS+=("$1")
    if ! "$TEST_SAMBA_AD" start "$@" >"$TEST_DIR/samba-start.log" 2>&1; then
        tap_detail "$(cat "$TEST_DIR/samba-start.log")"
        return 1
    fi
}

# samba_up [TEMPLATE] - the test AD in $TEST_DIR/ad, its env sourced
samba_up() {
    local why
    why=$(samba_can_run) || skip_all "$why"
    require "start a throwaway Samba AD DC (scripts/test-samba-ad)" \
        samba_start "$TEST_DIR/ad" "${1:-dc1}"
    # shellcheck disable=SC1091
    . "$TEST_DIR/ad/env"
    secret "$TEST_DIR/adpw" "$AD_BIND_PW"
}

# ad_do TOOL ARGS... - an ldap tool as the domain's Administrator; output in $TEST_DIR/ad-tools.log
ad_do() {
    local tool=$1
    shift
    "$tool" -x -H "$AD_URI" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PW" "$@" >>"$TEST_DIR/ad-tools.log" 2>&1
}

# ad_add_user CN OU MAIL PROXYADDRESS... - an enabled user (userAccountControl 512) with mail
# and these proxyAddresses values, as the Administrator
ad_add_user() {
    local cn=$1 ou=$2 mail=$3 p
    shift 3
    {
        printf 'dn: CN=%s,OU=%s,%s\nobjectClass: user\n' "$cn" "$ou" "$AD_BASE"
        printf 'sAMAccountName: %s\n' "$cn"
        printf 'userAccountControl: 512\nmail: %s\n' "$mail"
        for p in "$@"; do printf 'proxyAddresses: %s\n' "$p"; done
    } | ad_do ldapadd
}

# mkconf_ad FILE STORE - a configuration for the test AD with the AD preset
mkconf_ad() {
    cat >"$1" <<CONF
[store]
path = $2
[ldap]
preset = ad
uri = ${URI:-$AD_URI}
bind_dn = $AD_BIND_DN
bind_pw_file = $TEST_DIR/adpw
base = $AD_BASE
${AD_EXTRA:-}
[sync]
${SYNC_EXTRA:-}
[lookupd]
user =
CONF
}

# ad_expected N - the address lines (dumpstore's format, sorted) a full sync of the test
# directory of load.py gives, with users u0001..uN
ad_expected() {
    awk -v n="$1" 'BEGIN {
        for (i = 1; i <= n; i++) {
            u = sprintf("u%04d", i)
            printf "%s@example.test\tuser\tactive\t%s@example.test\n", u, u
            printf "%s.alias@example.test\talias\tactive\t%s@example.test\n", u, u
        }
        print "disabled1@example.test\tuser\tdisabled\tdisabled1@example.test"
        print "disabled1.old@example.test\talias\tdisabled\tdisabled1@example.test"
        print "proxyonly@example.test\tuser\tactive\tproxyonly@example.test"
        print "sales@example.test\tgroup\tactive\tsales@example.test"
        print "sales.team@example.test\talias\tactive\tsales@example.test"
        print "partner@partner.example\tuser\tactive\tpartner@partner.example"
        # OU=Exchange: disabled accounts; msExchRecipientTypeDetails shared (4), room (16),
        # equipment (32) receive mail, a user mailbox (1) does not
        print "shared1@example.test\tuser\tactive\tshared1@example.test"
        print "room1@example.test\tuser\tactive\troom1@example.test"
        print "equip1@example.test\tuser\tactive\tequip1@example.test"
        print "gone1@example.test\tuser\tdisabled\tgone1@example.test"
    }' | sort
}
