#!/bin/bash
# syncd_tls.sh -- rcptdir-syncd over TLS against a real throwaway slapd (issue 3 point 1):
# ldaps:// and StartTLS with tls_ca_file succeed, paged and syncrepl (an incremental add and
# delete too); without the CA, with a wrong CA, with a
# certificate for another host name, or StartTLS against a server without TLS, the sync
# fails with exit 75 and leaves the store unchanged.  A throwaway CA and server
# certificates are made with openssl; slapd (GnuTLS on Debian) listens on ldap:// and
# ldaps://.  The LDAP library's environment (LDAP* variables, ldaprc in cwd or $HOME)
# is kept out of every run.  Prints TAP.  Needs slapd, ldap-utils, openssl.
set -u
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

EXPECTED=$TOP/schema/ldap/sample.expected
SLAPD_BIN=${SLAPD:-/usr/sbin/slapd}
SYNCD_ABS=$(readlink -f "$SYNCD")
TLS_PIDS=() # slapds started by hand here (with TLS); the lib's trap stops the others

tls_cleanup() {
    local p
    for p in "${TLS_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${TLS_PIDS[@]}"; do
        wait_until 5 gone "$p"
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    syncd_cleanup
}
trap tls_cleanup EXIT

# Every syncd runs in an empty cwd, with HOME there (no ldaprc/.ldaprc) and without any
# LDAP* variable (LDAPTLS_REQCERT, LDAPTLS_CACERT, LDAPCONF, LDAPRC, ...).
mkdir -p "$W/home"
LDAP_UNSET=(-u LDAPTLS_REQCERT -u LDAPTLS_CACERT)
for v in $(compgen -e); do
    case $v in LDAP*) LDAP_UNSET+=(-u "$v") ;; esac
done

# run_tls CONF [VAR=VALUE...]: one sync, isolated as above (VAR=VALUE added to its
# environment, HOME=... overrides the default); sets RC, OUT, ERR like run_syncd
run_tls() {
    local conf=$1 home=$W/home
    shift
    local a
    for a in "$@"; do
        case $a in HOME=*) home=${a#HOME=} ;; esac
    done
    OUT=$W/last.out
    ERR=$W/last.err
    (cd "$home" && env "${LDAP_UNSET[@]}" HOME="$home" "$@" \
        timeout --kill-after=5 30 "$SYNCD_ABS" -c "$conf" -d) >"$OUT" 2>"$ERR"
    RC=$?
}

# tlsconf FILE STORE URI [EXTRA_LINE...]: an LDAP config for the sample directory
tlsconf() {
    local f=$1 st=$2 u=$3
    shift 3
    local extra
    extra=$(printf '%s\n' "$@")
    URI=$u LDAP_EXTRA=$extra mkconf "$f" "$st"
}

N_CONF=0
# expect_ok NAME URI [EXTRA_LINE...]: sync into a fresh store: exit 0, equals sample.expected
expect_ok() {
    local name=$1 u=$2
    shift 2
    N_CONF=$((N_CONF + 1))
    local st=$W/store-ok$N_CONF conf=$W/ok$N_CONF.conf
    tlsconf "$conf" "$st" "$u" "$@"
    run_tls "$conf"
    check_rc "$name: exit 0" 0
    addrs "$st" "$W/ok-addrs"
    check_same "$name: store equals schema/ldap/sample.expected" "$EXPECTED" "$W/ok-addrs"
}

# expect_fail NAME URI ERE [EXTRA_LINE...] [-- VAR=VALUE...]: sync into the baseline
# store F: exit 75, message matches ERE, dump (meta, addresses, domains, entries) unchanged
expect_fail() {
    local name=$1 u=$2 ere=$3
    shift 3
    local lines=() envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        lines+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    envs=("$@")
    N_CONF=$((N_CONF + 1))
    local conf=$W/fail$N_CONF.conf
    tlsconf "$conf" "$F" "$u" "${lines[@]}"
    run_tls "$conf" "${envs[@]}"
    check_rc "$name: exit 75" 75
    check_grep "$name: message says why (/$ere/)" "$ERR" "$ere"
    dump "$F" "$W/f-after"
    check_same "$name: store unchanged (dumpstore -m -e)" "$W/f-base" "$W/f-after"
}

free_port() { "$TOP/scripts/free-port"; }

# tls_slapd_answers PID: slapd PID has exited (stop waiting), or answers a search on
# ldap://127.0.0.1:$P1 and, verified with the test CA, on ldaps://127.0.0.1:$P2
tls_slapd_answers() {
    gone "$1" && return 0
    ldapsearch -x -LLL -o nettimeout=1 -H "ldap://127.0.0.1:$P1" -b '' -s base \
        '(objectClass=*)' namingContexts >/dev/null 2>&1 &&
        LDAPTLS_CACERT=$W/tls/ca.pem LDAPTLS_REQCERT=demand ldapsearch -x -LLL -o nettimeout=1 \
            -H "ldaps://127.0.0.1:$P2" -b '' -s base '(objectClass=*)' namingContexts >/dev/null 2>&1
}

# tls_slapd_start CERT KEY: start slapd on the test-slapd database ($W/ldap) with TLS
# on ldap://127.0.0.1:$P1/ (StartTLS) and ldaps://127.0.0.1:$P2/; sets TLS_PID
TLS_PID=''
tls_slapd_start() {
    local cert=$1 key=$2 conf=$W/ldap/slapd-tls.conf
    {
        echo "# $0: the test-slapd configuration plus TLS"
        echo "TLSCACertificateFile $W/tls/ca.pem"
        echo "TLSCertificateFile $cert"
        echo "TLSCertificateKeyFile $key"
        cat "$W/ldap/slapd.conf"
    } >"$conf"
    for _ in 1 2 3 4 5; do
        P2=$(free_port) || break
        [ -n "$(ss -ltnH "sport = :$P1" 2>/dev/null)" ] && P1=$(free_port)
        echo "=== $(date '+%F %T') TLS start on $P1 $P2" >>"$W/tls-slapd.log"
        "$SLAPD_BIN" -d none -f "$conf" -h "ldap://127.0.0.1:$P1/ ldaps://127.0.0.1:$P2/" \
            </dev/null >>"$W/tls-slapd.log" 2>&1 &
        TLS_PID=$!
        TLS_PIDS+=("$TLS_PID")
        wait_until 30 tls_slapd_answers "$TLS_PID"
        running "$TLS_PID" && tls_slapd_answers "$TLS_PID" && return 0
        tls_slapd_stop
        tail -n 3 "$W/tls-slapd.log" | grep -q 'Address already in use' || break
    done
    return 1
}

tls_slapd_stop() {
    [ -n "$TLS_PID" ] || return 0
    kill -TERM "$TLS_PID" 2>/dev/null
    wait_until 5 gone "$TLS_PID"
    kill -KILL "$TLS_PID" 2>/dev/null
    wait "$TLS_PID" 2>/dev/null
    TLS_PID=''
    TLS_PIDS=() # one at a time: nothing left for the EXIT trap
}

# ---------------------------------------------------------------- certificates
# CA, wrong CA, server cert for IP 127.0.0.1 + DNS localhost, and one for
# IP 127.0.0.1 + DNS other.example (CN other.example) only.
#
# libldap checks a connection to "localhost" against the local host name instead
# (ldap_int_tls_start: host "localhost" -> ldap_int_hostname, the canonical name of
# gethostname()), so the localhost certificate also names this machine.
mkdir -p "$W/tls"
LOCAL_SAN='IP:127.0.0.1,DNS:localhost'
for n in $(hostname 2>/dev/null) $(hostname -f 2>/dev/null) \
    $(getent hosts "$(hostname 2>/dev/null)" 2>/dev/null | awk '{ print $2 }'); do
    case $n in
    *[!A-Za-z0-9.-]* | '' | localhost) ;;
    *) case ,$LOCAL_SAN, in *,DNS:$n,*) ;; *) LOCAL_SAN=$LOCAL_SAN,DNS:$n ;; esac ;;
    esac
done
cat >"$W/tls/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[srv_local]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $LOCAL_SAN
[srv_other]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:other.example
EOF
mkcerts() {
    local d=$W/tls c=$W/tls/openssl.cnf
    command -v openssl >/dev/null || {
        echo "openssl not found (scripts/deps installs it)"
        return 1
    }
    for k in ca wrongca srv other; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$k.key" || return 1
    done
    openssl req -x509 -config "$c" -extensions ca_ext -key "$d/ca.key" -subj '/CN=rcptdir test CA' \
        -days 2 -out "$d/ca.pem" || return 1
    openssl req -x509 -config "$c" -extensions ca_ext -key "$d/wrongca.key" \
        -subj '/CN=rcptdir wrong CA' -days 2 -out "$d/wrongca.pem" || return 1
    openssl req -new -config "$c" -key "$d/srv.key" -subj '/CN=localhost' -out "$d/srv.csr" || return 1
    openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 2 -days 2 \
        -extfile "$c" -extensions srv_local -out "$d/srv.pem" || return 1
    openssl req -new -config "$c" -key "$d/other.key" -subj '/CN=other.example' -out "$d/other.csr" || return 1
    openssl x509 -req -in "$d/other.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 3 -days 2 \
        -extfile "$c" -extensions srv_other -out "$d/other.pem" || return 1
    openssl verify -CAfile "$d/ca.pem" "$d/srv.pem" "$d/other.pem" || return 1
}
if mkcerts >"$W/tls/mkcerts.log" 2>&1; then
    ok "throwaway CA, wrong CA and two server certificates generated (openssl)"
else
    notok "throwaway CA, wrong CA and two server certificates generated (openssl)" "$(cat "$W/tls/mkcerts.log")"
    finish
    exit 1
fi
CA=$W/tls/ca.pem
WRONGCA=$W/tls/wrongca.pem
TLSERR='[Tt][Ll][Ss]|[Cc]ertificate|[Hh]ost ?name'

# ---------------------------------------------------------------- plain slapd, baseline store
if ! slapd_start "$W/ldap"; then
    finish
    exit 1
fi
# shellcheck disable=SC1091
. "$W/ldap/env"
secret "$W/pw" "$LDAP_BIND_PW"
P1=$LDAP_PORT
P2=''

# F: the store every failing sync must leave alone.  Synced from the sample LDIF without
# oscar, so that a sync that wrongly succeeded would change it (+4 addresses).
F=$W/store-fail
awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^dn: uid=oscar,/' "$TOP/schema/ldap/sample.ldif" >"$W/base.ldif"
cat >"$W/base.conf" <<EOF
[store]
path = $F
[ldif]
path = $W/base.ldif
disabled_filter = (description=disabled)
[lookupd]
user =
EOF
run_tls "$W/base.conf"
check_rc "baseline store (sample LDIF without oscar): exit 0" 0
dump "$F" "$W/f-base"
check_grep "baseline store: 33 addresses (4 fewer than the sample directory)" "$W/f-base" \
    '^meta	generation=1 addresses=33 domains=3'

# 7. StartTLS against a server without TLS
expect_ok "control: plain ldap:// (no TLS) to the server without TLS" "ldap://127.0.0.1:$P1"
expect_fail "starttls = yes against a server without TLS" "ldap://127.0.0.1:$P1" "$TLSERR" \
    "starttls = yes" "tls_ca_file = $CA"

"$TEST_SLAPD" stop "$W/ldap" >/dev/null 2>&1

# ---------------------------------------------------------------- slapd with TLS (IP + localhost cert)
if tls_slapd_start "$W/tls/srv.pem" "$W/tls/srv.key"; then
    ok "slapd with TLS answers on ldap://127.0.0.1:$P1 (StartTLS) and ldaps://127.0.0.1:$P2"

    # 1-3. ldaps://
    expect_ok "ldaps:// with tls_ca_file = the CA" "ldaps://127.0.0.1:$P2" "tls_ca_file = $CA"
    expect_fail "ldaps:// without tls_ca_file (system CAs do not know the test CA)" \
        "ldaps://127.0.0.1:$P2" "$TLSERR"
    expect_fail "ldaps:// with a wrong CA" "ldaps://127.0.0.1:$P2" "$TLSERR" "tls_ca_file = $WRONGCA"

    # 4-5. StartTLS
    expect_ok "ldap:// + starttls = yes + tls_ca_file" "ldap://127.0.0.1:$P1" "starttls = yes" \
        "tls_ca_file = $CA"
    expect_fail "ldap:// + starttls = yes without tls_ca_file" "ldap://127.0.0.1:$P1" "$TLSERR" \
        "starttls = yes"
    expect_fail "ldap:// + starttls = yes with a wrong CA" "ldap://127.0.0.1:$P1" "$TLSERR" \
        "starttls = yes" "tls_ca_file = $WRONGCA"

    # 6a. by name, the name is in the certificate
    expect_ok "ldaps://localhost (DNS:localhost and this host's name in the certificate)" "ldaps://localhost:$P2" \
        "tls_ca_file = $CA"
    expect_ok "ldap://localhost + starttls = yes (DNS:localhost and this host's name in the certificate)" \
        "ldap://localhost:$P1" "starttls = yes" "tls_ca_file = $CA"

    # syncrepl over TLS: a first refresh, then an add and a delete (a present phase with plain
    # syncprov) read incrementally; each message must arrive whole through the TLS layer
    expect_ok "sync = syncrepl over ldaps://" "ldaps://127.0.0.1:$P2" "tls_ca_file = $CA" \
        "sync = syncrepl"
    SR_CONF=$W/ok$N_CONF.conf SR_STORE=$W/store-ok$N_CONF
    expect_ok "sync = syncrepl over StartTLS" "ldap://127.0.0.1:$P1" "starttls = yes" \
        "tls_ca_file = $CA" "sync = syncrepl"
    printf 'dn: uid=tlsnew,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\nuid: tlsnew\ncn: tlsnew\nsn: tlsnew\nmail: tlsnew@example.org\n' |
        ldapadd -x -H "ldap://127.0.0.1:$P1" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" >/dev/null
    run_tls "$SR_CONF"
    check_rc "syncrepl over ldaps://, an add: exit 0" 0
    check_grep "syncrepl over ldaps://, an add: read as a change" "$ERR" "syncrepl: 1 changed"
    check "syncrepl over ldaps://, an add: tlsnew@ in the store" grep -q '^tlsnew@example.org' \
        <("$DUMP" "$SR_STORE")
    ldapdelete -x -H "ldap://127.0.0.1:$P1" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" \
        uid=tlsnew,ou=people,dc=example,dc=org
    run_tls "$SR_CONF"
    check_rc "syncrepl over ldaps://, a delete: exit 0" 0
    addrs "$SR_STORE" "$W/sr-addrs"
    check_same "syncrepl over ldaps://, a delete: the store equals schema/ldap/sample.expected again" \
        "$EXPECTED" "$W/sr-addrs"

    # verification cannot be switched off by the library's environment or ldaprc
    mkdir -p "$W/hostile"
    printf 'TLS_REQCERT never\nTLS_CACERT %s\n' "$WRONGCA" >"$W/hostile/.ldaprc"
    cp "$W/hostile/.ldaprc" "$W/hostile/ldaprc"
    expect_fail "ldaps:// without tls_ca_file, LDAPTLS_REQCERT=never and ldaprc 'TLS_REQCERT never'" \
        "ldaps://127.0.0.1:$P2" "$TLSERR" -- LDAPTLS_REQCERT=never HOME="$W/hostile"
    expect_fail "starttls = yes without tls_ca_file, LDAPTLS_REQCERT=allow and ldaprc 'TLS_REQCERT never'" \
        "ldap://127.0.0.1:$P1" "$TLSERR" "starttls = yes" -- LDAPTLS_REQCERT=allow HOME="$W/hostile"

    tls_slapd_stop
else
    notok "slapd with TLS answers on ldap:// (StartTLS) and ldaps://" "$(tail -n 20 "$W/tls-slapd.log")"
fi

# ---------------------------------------------------------------- slapd with a cert not for localhost
if tls_slapd_start "$W/tls/other.pem" "$W/tls/other.key"; then
    ok "slapd restarted with the certificate for 127.0.0.1 + other.example (not localhost)"
    expect_ok "control: ldaps://127.0.0.1 with that certificate (IP:127.0.0.1 in it)" \
        "ldaps://127.0.0.1:$P2" "tls_ca_file = $CA"
    # 6b. host name verification
    expect_fail "host name verification: ldaps://localhost, certificate without localhost" \
        "ldaps://localhost:$P2" "$TLSERR" "tls_ca_file = $CA"
    expect_fail "host name verification: ldap://localhost + starttls = yes, certificate without localhost" \
        "ldap://localhost:$P1" "$TLSERR" "starttls = yes" "tls_ca_file = $CA"

    # the failure store was syncable all along: the same sync with the CA changes it
    N_CONF=$((N_CONF + 1))
    tlsconf "$W/final.conf" "$F" "ldaps://127.0.0.1:$P2" "tls_ca_file = $CA"
    run_tls "$W/final.conf"
    check_rc "baseline store, ldaps:// with the CA: exit 0" 0
    addrs "$F" "$W/f-addrs"
    check_same "baseline store, ldaps:// with the CA: now equals schema/ldap/sample.expected" \
        "$EXPECTED" "$W/f-addrs"
    tls_slapd_stop
else
    notok "slapd restarted with the certificate not for localhost" "$(tail -n 20 "$W/tls-slapd.log")"
fi

finish
