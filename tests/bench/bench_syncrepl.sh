#!/bin/bash
# bench_syncrepl - [ldap] sync = syncrepl against the paged full re-sync, same directory, per
# provider configuration (plain syncprov: a present phase; syncprov-sessionlog; the session
# log from an accesslog database, syncprov-sessionlog-source): a refresh
# with no change, a refresh after CHANGES modified entries (with the CPU seconds slapd and syncd
# spent on it), the same changes read by OpenLDAP's own client first (ldapsearch -E sync=ro
# with syncd's stored cookie: what the provider's side costs whatever the consumer does), the
# paged re-sync;
# then --watch:
# time from ldapadd returning to lookupd answering OK, and from ldapdelete to NOTFOUND, over
# PERSIST changes (p50, p99), and syncd's CPU over IDLE seconds with nothing changing.
#
#   BENCH_SIZES=100000 CHANGES=1000 PERSIST=200 tests/bench/bench_syncrepl.sh [BUILD]
#   BENCH_SIZES=1000000 ...                      the issue's size (slapadd and two paged syncs
#                                                of 1M entries per provider: minutes each)
#   VARIANTS='plain sessionlog accesslog'        the provider configurations (default: all three)
# Prints markdown tables on stdout; progress on stderr.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd)
SIZES=${BENCH_SIZES:-100000}
CHANGES=${CHANGES:-1000}
PERSIST=${PERSIST:-200}
IDLE=${IDLE:-10}
VARIANTS=${VARIANTS:-plain sessionlog accesslog}
work=$(mktemp -d /tmp/rcptdir-bench.XXXXXX)
LK=
SY=
cleanup() {
    [ -n "$SY" ] && kill "$SY" 2>/dev/null
    [ -n "$LK" ] && kill "$LK" 2>/dev/null
    "$top/scripts/test-slapd" stop "$work/ldap" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # a process's CPU (user + system)
# run CONF [ARGS] - one syncd run, prints its seconds; the CPU seconds slapd and syncd spent
# on it go into $work/cpu ("slapd syncd")
run() {
    local t0=$EPOCHREALTIME s0 s1 sy
    s0=$(ticks "$SLAPD_PID")
    # the subshell's waited-for children's CPU (field 16 + 17: cutime, cstime) is syncd's
    sy=$(
        "$BUILD/rcptdir-syncd" -c "$@" -d >/dev/null 2>"$work/err" || exit 1
        awk '{ print $16 + $17 }' "/proc/$BASHPID/stat"
    ) || {
        echo "bench: syncd $* failed: $(tail -3 "$work/err")" >&2
        return 1
    }
    secs "$t0" "$EPOCHREALTIME"
    s1=$(ticks "$SLAPD_PID")
    awk -v a="$((s1 - s0))" -v b="$sy" -v hz="$HZ" 'BEGIN { printf "%.2f %.2f\n", a / hz, b / hz }' >"$work/cpu"
    sed -n 's/.*sync: \(syncrepl: .*\)/bench:   \1/p' "$work/err" >&2 # what it read, on stderr
}
# reference STORE - the refresh syncd's next run will get, read by ldapsearch with the cookie in
# STORE (nothing stored): prints its seconds; slapd's CPU seconds go into $work/cpu
reference() {
    local ck t0 s0 s1
    ck=$(mdb_dump -p -s meta "$1" | grep -A1 -x ' sync_cookie' | tail -1 | sed 's/^ //')
    case $ck in rid=*) ;; *)
        echo "bench: no cookie in $1 ('$ck'): the reference would time a full refresh" >&2
        return 1
        ;;
    esac
    s0=$(ticks "$SLAPD_PID")
    t0=$EPOCHREALTIME
    ldapsearch -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PW" -b ou=people,dc=example,dc=org \
        -E "sync=ro/$ck" '(objectClass=inetOrgPerson)' mail mailLocalAddress mailAlternateAddress \
        entryUUID >"$work/ref.ldif" || {
        echo "bench: ldapsearch -E sync=ro failed" >&2
        return 1
    }
    secs "$t0" "$EPOCHREALTIME"
    echo "bench:   the reference read $(grep -c '^dn:' "$work/ref.ldif") changed entries" >&2
    s1=$(ticks "$SLAPD_PID")
    awk -v a="$((s1 - s0))" -v hz="$HZ" 'BEGIN { printf "%.2f\n", a / hz }' >"$work/cpu"
}
conf() { # FILE STORE MODE
    cat >"$1" <<CONF
[store]
path = $2
[ldap]
uri = $LDAP_URI
bind_dn = $LDAP_BIND_DN
bind_pw_file = $work/pw
base = ou=people,dc=example,dc=org
filter = (objectClass=inetOrgPerson)
address_attrs = mail, mailLocalAddress, mailAlternateAddress
disabled_filter = (description=disabled)
page_size = 1000
sync = $3
timeout = 300
[sync]
max_delete_ratio = 0.5
[lookupd]
user =
socketmap_listen = inet:127.0.0.1:$SMPORT
http_listen =
CONF
}
modify() { # FIRST COUNT TAG - change the description of COUNT entries
    local i
    for i in $(seq "$1" $(($1 + $2 - 1))); do
        printf 'dn: uid=user%d,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: mailAlternateAddress\nmailAlternateAddress: %s%d@example.org\n\n' "$i" "$3" "$i"
    done | ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" >/dev/null
}
answer() { # KEY - lookupd's socketmap reply
    local s="rcpt $1"
    printf '%d:%s,' "${#s}" "$s" | "$BUILD/tools/sockmap_raw" -w "inet:127.0.0.1:$SMPORT" 2>/dev/null |
        tr ',' '\n' | sed -e 's/^[0-9]*://' | head -1
}
pct() { sort -g | awk -v p="$1" '{v[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; print v[i]}'; }

SMPORT=$("$top/scripts/free-port")
echo "| entries | provider | paged full re-sync | syncrepl: initial refresh | no-change refresh | $CHANGES changed entries | the same: CPU of slapd / syncd | the same read by ldapsearch: wall / slapd CPU |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $SIZES; do
    "$top/scripts/gen-ldif" "$n" >"$work/data.ldif"
    for v in $VARIANTS; do
        sp='' al=0
        case $v in
        sessionlog) sp="syncprov-sessionlog $((CHANGES * 4))" ;;
        accesslog) sp='syncprov-sessionlog-source cn=accesslog' al=1 ;;
        esac
        echo "bench: $n entries, $v: loading" >&2
        "$top/scripts/test-slapd" stop "$work/ldap" >/dev/null 2>&1 || true
        rm -rf "$work/ldap" "$work"/st-*
        TEST_SLAPD_ACCESSLOG=$al TEST_SLAPD_SYNCPROV=$sp \
            "$top/scripts/test-slapd" start "$work/ldap" "$work/data.ldif" >/dev/null
        # shellcheck disable=SC1091
        . "$work/ldap/env"
        printf '%s' "$LDAP_BIND_PW" >"$work/pw"
        chmod 600 "$work/pw"
        conf "$work/p.conf" "$work/st-p" paged
        conf "$work/s.conf" "$work/st-s" syncrepl
        run "$work/p.conf" >/dev/null
        tp=$(run "$work/p.conf")
        ti=$(run "$work/s.conf")
        # one change first: a cookie from before the first write the log holds (slapadd wrote
        # none) gets a present phase; the log covers the cookies after it
        modify "$n" 1 w
        run "$work/s.conf" >/dev/null
        tn=$(run "$work/s.conf")
        modify 1 "$CHANGES" x
        tl=$(reference "$work/st-s")
        read -r cl <"$work/cpu"
        tc=$(run "$work/s.conf")
        read -r cs cy <"$work/cpu"
        echo "| $n | $v | $tp s | $ti s | $tn s | $tc s | $cs s / $cy s | $tl s / $cl s |"
    done
done

# --watch: persist latency and idle CPU (the last provider of the loop above)
echo "bench: persist latency over $PERSIST changes" >&2
sed -i 's/^http_listen =$/http_listen = 127.0.0.1:'"$("$top/scripts/free-port")"'/' "$work/s.conf"
"$BUILD/rcptdir-lookupd" -c "$work/s.conf" -d >"$work/lk.log" 2>&1 &
LK=$!
"$BUILD/rcptdir-syncd" -c "$work/s.conf" -d --watch >"$work/sy.log" 2>&1 &
SY=$!
until grep -q "ready" "$work/lk.log" && [ -n "$(answer user1@example.org)" ]; do sleep 0.1; done
sleep 1 # the refresh stage done
: >"$work/add"
: >"$work/del"
for i in $(seq 1 "$PERSIST"); do
    printf 'dn: uid=p%d,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\nuid: p%d\ncn: p\nsn: p\nmail: p%d@example.org\n' "$i" "$i" "$i" |
        ldapadd -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" >/dev/null
    t0=$EPOCHREALTIME
    until [ "$(answer "p$i@example.org")" = "OK p$i@example.org" ]; do :; done
    secs "$t0" "$EPOCHREALTIME" >>"$work/add"
    ldapdelete -x -H "$LDAP_URI" -D "$LDAP_ROOTDN" -w "$LDAP_ROOTPW" "uid=p$i,ou=people,dc=example,dc=org"
    t0=$EPOCHREALTIME
    until [ "$(answer "p$i@example.org")" = "NOTFOUND " ]; do :; done
    secs "$t0" "$EPOCHREALTIME" >>"$work/del"
done
c0=$(awk '{print $14 + $15}' "/proc/$SY/stat")
sleep "$IDLE"
c1=$(awk '{print $14 + $15}' "/proc/$SY/stat")
echo
echo "| --watch ($PERSIST changes) | p50 | p99 | max |"
echo "| --- | ---: | ---: | ---: |"
echo "| ldapadd returned -> lookupd OK | $(pct 50 <"$work/add") s | $(pct 99 <"$work/add") s | $(pct 100 <"$work/add") s |"
echo "| ldapdelete returned -> NOTFOUND | $(pct 50 <"$work/del") s | $(pct 99 <"$work/del") s | $(pct 100 <"$work/del") s |"
echo
echo "syncd CPU while nothing changed: $((c1 - c0)) ticks (1/$(getconf CLK_TCK) s) in $IDLE s"
