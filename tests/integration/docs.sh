#!/bin/bash
# docs: the documentation that is generated from code matches the code; the example
# configuration is accepted; make install puts every documented file in place; the systemd
# units verify (skipped without systemd-analyze). Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

scripts/gen-conf-man "$BUILD" | diff -u docs/rcptdir.conf.5 - >"$T/conf5.diff"
check "docs/rcptdir.conf.5 matches the key table (else run scripts/gen-conf-man)" \
    test ! -s "$T/conf5.diff"
[ -s "$T/conf5.diff" ] && tap_detail "$(head -20 "$T/conf5.diff")"

# every key in the example configuration is a real key: -n accepts it (with a store path)
sed -e "s|^path = /var/lib/rcptdir|path = $T/store|" -e 's|^bind_pw_file.*|bind_pw_file =|' \
    -e 's|^bind_dn.*|bind_dn =|' -e 's|^token_file.*|token_file =|' -e 's|^user = .*|user =|' \
    docs/rcptdir.conf.example \
    >"$T/example.conf"
check_eq "docs/rcptdir.conf.example passes rcptdir-syncd -n" "configuration OK" \
    "$("$SYNCD" -n -c "$T/example.conf" 2>&1)"

# make install puts every documented file in place
inst=$T/inst
if make -s install DESTDIR="$inst" PREFIX=/usr BUILD="$BUILD" >"$T/install.out" 2>&1; then
    missing=""
    for f in usr/sbin/rcptdir-syncd usr/sbin/rcptdir-lookupd usr/share/man/man5/rcptdir.conf.5 \
        usr/share/man/man8/rcptdir-syncd.8 usr/share/man/man8/rcptdir-lookupd.8 \
        etc/rcptdir/rcptdir.conf.example etc/rcptdir/rcptdir.cron.example \
        usr/lib/systemd/system/rcptdir-lookupd.service usr/lib/systemd/system/rcptdir-syncd.service \
        usr/lib/systemd/system/rcptdir-syncd.timer usr/lib/systemd/system/rcptdir-syncd-watch.service \
        usr/lib/sysusers.d/rcptdir.conf; do
        [ -f "$inst/$f" ] || missing="$missing $f"
    done
    check_eq "make install DESTDIR= installs binaries, man pages, config, units (missing:)" "" "$missing"
else
    not_ok "make install DESTDIR=$inst" "$(tail -n 10 "$T/install.out")"
fi

# PREFIX, DESTDIR and SYSCONFDIR as documented (README.md, docs/operations.md): the
# configuration under PREFIX unless PREFIX=/usr, the units naming the installed paths
inst2=$T/inst-local
if make -s install DESTDIR="$inst2" PREFIX=/usr/local BUILD="$BUILD" >"$T/install2.out" 2>&1; then
    check "make install PREFIX=/usr/local: the example in /usr/local/etc/rcptdir" \
        test -f "$inst2/usr/local/etc/rcptdir/rcptdir.conf.example"
    check "  ... nothing in /etc" test ! -e "$inst2/etc"
    check_eq "  ... the lookupd unit runs the installed program with the installed configuration" \
        "ExecStart=/usr/local/sbin/rcptdir-lookupd -c /usr/local/etc/rcptdir/rcptdir.conf" \
        "$(grep '^ExecStart' "$inst2/usr/local/lib/systemd/system/rcptdir-lookupd.service")"
    check_match "  ... and so does the cron example" ' /usr/local/sbin/rcptdir-syncd -c /usr/local/etc/rcptdir/rcptdir.conf$' \
        "$(cat "$inst2/usr/local/etc/rcptdir/rcptdir.cron.example")"
else
    not_ok "make install DESTDIR=$inst2 PREFIX=/usr/local" "$(tail -n 10 "$T/install2.out")"
fi
make -s install DESTDIR="$T/inst-sc" PREFIX=/opt/rcptdir SYSCONFDIR=/etc/rcptdir-test BUILD="$BUILD" \
    >"$T/install3.out" 2>&1
check "make install SYSCONFDIR=/etc/rcptdir-test: the example there" \
    test -f "$T/inst-sc/etc/rcptdir-test/rcptdir.conf.example"

# the systemd units parse (systemd-analyze is part of Debian's systemd)
if command -v systemd-analyze >/dev/null; then
    bad=$(cd contrib && for u in *.service *.timer; do
        systemd-analyze verify --man=no "./$u" 2>&1 | grep -vE 'Cannot find|not found|No such file|/usr/sbin/rcptdir|Failed to prepare filename|Command .* is not executable'
    done)
    check_eq "systemd units in contrib/ verify (systemd-analyze complaints:)" "" "$bad"
else
    skip "systemd units in contrib/ verify" "no systemd-analyze here"
fi

# docs/operations.md's configuration reference is the key table, as generated
"$BUILD/tools/confref" md >"$T/keys.gen"
sed -n '/<!-- keys:begin -->/,/<!-- keys:end -->/p' docs/operations.md | sed '1d;$d' >"$T/keys.have"
check "build/tools/confref md prints the key table" test -s "$T/keys.gen"
check_same "docs/operations.md configuration reference matches the key table (build/tools/confref md)" \
    "$T/keys.gen" "$T/keys.have"
finish
