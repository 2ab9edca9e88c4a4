#!/bin/bash
# docs_recipes: the recipes of docs/operations.md run as written. Every block marked
# "<!-- test: NAME -->" there (quick start, without systemd, hub tokens, hub [lookupd], edge
# configuration, edge) is taken from the file and run with `bash -e` in a throwaway root: the
# paths /etc/rcptdir, /etc/cron.d, /var/lib/rcptdir, /run/rcptdir, /usr/lib/sysusers.d under a
# temporary directory (make install gets DESTDIR), the user rcptdir played by nobody, the
# directory by a throwaway slapd (scripts/test-slapd), `editor` by a function that puts its
# URI and free ports into the file, systemd-sysusers by a check that the user exists. A hub and
# an edge are installed side by side; the edge pulls from the hub. Needs root. Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

[ "$(id -u)" = 0 ] || skip_all "not root: the recipes run as root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
command -v openssl >/dev/null || skip_all "no openssl"
U=nobody
G=$(id -gn nobody)
H=$T/hub
E=$T/edge
want_port=$(free_port)
export TEST_SLAPD_PORT=$want_port # the port the docs say can be chosen
require "a throwaway slapd (scripts/test-slapd)" slapd_up
unset TEST_SLAPD_PORT
check_eq "  ... on the port chosen with TEST_SLAPD_PORT" "ldap://127.0.0.1:$want_port" "$LDAP_URI"
HSM=$(free_port) && HHTTP=$(free_port) && ESM=$(free_port) && EHTTP=$(free_port)
marked=$(grep -c '^<!-- test: ' docs/operations.md)
check "docs/operations.md marks its recipes (<!-- test: NAME -->)" test "$marked" -ge 6

# recipe NAME - the fenced block after "<!-- test: NAME -->" in docs/operations.md
recipe() {
    awk -v m="<!-- test: $1 -->" '$0 == m { s = 1; next }
        s == 1 && /^```/ { s = 2; next }
        s == 2 && /^```/ { exit }
        s == 2 { print }' docs/operations.md
}

# rewrite_sed ROOT - a sed script: the recipe's paths under ROOT, the rcptdir user the test's
rewrite_sed() {
    cat >"$T/rewrite-${1##*/}.sed" <<SED
s|make install PREFIX=/usr|make -s install PREFIX=/usr DESTDIR=$1 BUILD=$BUILD|
s|/etc/rcptdir|$1/etc/rcptdir|g
s|/etc/cron\.d|$1/etc/cron.d|g
s|/var/lib/rcptdir|$1/var/lib/rcptdir|g
s|/run/rcptdir|$1/run/rcptdir|g
s|/usr/lib/sysusers\.d|$1/usr/lib/sysusers.d|g
s/-o rcptdir /-o $U /g
s/-g rcptdir /-g $G /g
s/-u rcptdir /-u $U /g
s/^user = rcptdir/user = $U/
s/the-bind-password/$LDAP_BIND_PW/
SED
    echo "$T/rewrite-${1##*/}.sed"
}
HSED=$(rewrite_sed "$H")
ESED=$(rewrite_sed "$E")
# what `editor` does to the hub's configuration: the test's directory and ports
cat >"$T/editor.sed" <<SED
s|^uri = .*|uri = $LDAP_URI|
s|^starttls = yes|starttls = no|
s|inet:127\.0\.0\.1:8641|inet:127.0.0.1:$HSM|
s|^http_listen = 127\.0\.0\.1:8642|http_listen = 127.0.0.1:$HHTTP|
SED

# run_recipe NAME ROOT SED [DIR] - run the recipe, rewritten by SED, with bash -e in DIR (the
# checkout); its output in $T/NAME.out, a job it left in the background in $T/NAME.bg
run_recipe() {
    local name=$1 root=$2 sedf=$3 dir=${4:-$TOP}
    mkdir -p "$root/etc/cron.d" "$root/run"
    {
        echo "cd '$dir'"
        echo "export PATH='$root/usr/sbin':\$PATH"
        echo "editor() { sed -i -f '$sedf' -f '$T/editor.sed' \"\$1\"; }"
        echo "systemd-sysusers() { id '$U' >/dev/null; }"
        echo "systemctl() { echo \"systemctl \$*\" >>'$T/systemctl.log'; }"
        recipe "$name" | sed -f "$sedf"
        echo "echo \"\${!:-}\" >'$T/$name.bg'"
    } >"$T/$name.sh"
    bash -e "$T/$name.sh" >"$T/$name.out" 2>&1
}

# check_recipe DESC NAME ROOT SED [DIR] - run_recipe as a check; its output's tail on failure
check_recipe() {
    local desc=$1 name=$2
    shift
    if run_recipe "$@"; then ok "$desc"; else not_ok "$desc" "$(tail -n 20 "$T/$name.out")"; fi
}

# --- the hub ------------------------------------------------------------------------------------
check_recipe "quick start runs as written" quickstart "$H" "$HSED"
check_grep "  ... rcptdir-syncd -n: configuration OK" "$T/quickstart.out" '^configuration OK$'
check_grep "  ... the sync" "$T/quickstart.out" 'sync: generation 1: \+37 '
check_grep "  ... -q postmaster@example.org: valid" "$T/quickstart.out" '"result":"valid"'
check_eq "  ... the secret is the user's, mode 600" "$U 600" \
    "$(stat -c '%U %a' "$H/etc/rcptdir/ldap.secret" 2>&1)"

check_recipe "quick start without systemd runs" quickstart-nosystemd "$H" "$HSED"
hpid=$(cat "$T/quickstart-nosystemd.bg" 2>/dev/null)
[ -n "$hpid" ] && PIDS+=("$hpid")
check "  ... the cron example in place" test -f "$H/etc/cron.d/rcptdir"
check "  ... lookupd answers on the socketmap" \
    wait_until 20 sm_answers "$HSM" rcpt postmaster@example.org "OK oscar@example.org"
check "  ... and created the Unix socket's directory" test -S "$H/run/rcptdir/socketmap"

check_recipe "hub tokens recipe runs" tokens-hub "$H" "$HSED"
# the hub's [lookupd] keys, set in its configuration (192.0.2.10: this host's loopback here)
recipe hub-lookupd | sed -f "$HSED" | sed -e 's/[[:space:]]*;.*//' \
    -e "s/192\.0\.2\.10:8642/127.0.0.1:$HHTTP/" | grep ' = ' >"$T/hub-keys"
while IFS= read -r line; do
    sed -i "/^${line%% =*} *=/d" "$H/etc/rcptdir/rcptdir.conf"
    echo "$line" >>"$H/etc/rcptdir/rcptdir.conf"
done <"$T/hub-keys"
check_eq "hub [lookupd] block: rcptdir-lookupd -n" "configuration OK" \
    "$("$H/usr/sbin/rcptdir-lookupd" -n -c "$H/etc/rcptdir/rcptdir.conf" 2>&1)"
[ -n "$hpid" ] && kill "$hpid" && wait_until 10 gone "$hpid"
run_recipe quickstart-nosystemd "$H" "$HSED"
hpid=$(cat "$T/quickstart-nosystemd.bg" 2>/dev/null)
[ -n "$hpid" ] && PIDS+=("$hpid")
check "  ... restarted, it serves HTTP" wait_until 20 port_open "$HHTTP"
check_eq "  ... /v1/snapshot without the token: 401" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HHTTP/v1/snapshot")"

# --- the edge -----------------------------------------------------------------------------------
make -s install PREFIX=/usr DESTDIR="$E" BUILD="$BUILD" >"$T/edge-install.out" 2>&1
recipe edge-conf | sed -f "$ESED" | sed -e "s|^url = https://hub.example.org:8642|url = http://127.0.0.1:$HHTTP|" \
    -e 's|^ca_file = .*|ca_file =|' -e "s|127\.0\.0\.1:8641|127.0.0.1:$ESM|" \
    -e "s|127\.0\.0\.1:8642|127.0.0.1:$EHTTP|" >"$E/etc/rcptdir/rcptdir.conf"
check_grep "the edge configuration has its own [lookupd]" "$E/etc/rcptdir/rcptdir.conf" '^\[lookupd\]$'
mkdir -p "$T/edge-cwd"
cp "$H/etc/rcptdir/feed.token" "$T/edge-cwd/hub-feed.token"
check_recipe "edge recipe runs as written" edge "$E" "$ESED" "$T/edge-cwd"
check_grep "  ... -n: configuration OK" "$T/edge.out" '^configuration OK$'
check_grep "  ... the first pull took the hub's snapshot" "$T/edge.out" 'upstream snapshot from generation 0 to 1'
check_grep "  ... the edge answers postmaster@example.org" "$T/edge.out" '"result":"valid"'
check_eq "  ... its token is the user's, mode 600" "$U 600" \
    "$(stat -c '%U %a' "$E/etc/rcptdir/feed.token" 2>&1)"
check "  ... hub-feed.token removed" test ! -e "$T/edge-cwd/hub-feed.token"

done_testing
