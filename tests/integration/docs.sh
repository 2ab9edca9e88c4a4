#!/bin/bash
# docs: the documentation that is generated from code matches the code.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."

if scripts/gen-conf-man "$BUILD" | diff -u docs/rcptdir.conf.5 - >/tmp/rcptdir-docs.diff; then
    echo "ok - docs/rcptdir.conf.5 matches the key table (scripts/gen-conf-man)"
else
    echo "not ok - docs/rcptdir.conf.5 differs from the key table: run scripts/gen-conf-man"
    sed 's/^/# /' /tmp/rcptdir-docs.diff | head -20
fi

# every key in the example configuration is a real key: -n accepts it (with a store path)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|^path = /var/lib/rcptdir|path = $tmp/store|" -e 's|^bind_pw_file.*|bind_pw_file =|' \
    -e 's|^bind_dn.*|bind_dn =|' -e 's|^token_file.*|token_file =|' docs/rcptdir.conf.example \
    >"$tmp/example.conf"
if out=$("$BUILD/rcptdir-syncd" -n -c "$tmp/example.conf" 2>&1) && [ "$out" = "configuration OK" ]; then
    echo "ok - docs/rcptdir.conf.example passes rcptdir-syncd -n"
else
    echo "not ok - docs/rcptdir.conf.example rejected by rcptdir-syncd -n"
    printf '%s\n' "$out" | sed 's/^/# /'
fi

# make install puts every documented file in place
inst="$tmp/inst"
if make -s install DESTDIR="$inst" PREFIX=/usr BUILD="$BUILD" >/dev/null 2>&1; then
    missing=""
    for f in usr/sbin/rcptdir-syncd usr/sbin/rcptdir-lookupd usr/share/man/man5/rcptdir.conf.5 \
        usr/share/man/man8/rcptdir-syncd.8 usr/share/man/man8/rcptdir-lookupd.8 \
        etc/rcptdir/rcptdir.conf.example etc/rcptdir/rcptdir.cron.example \
        usr/lib/systemd/system/rcptdir-lookupd.service usr/lib/systemd/system/rcptdir-syncd.service \
        usr/lib/systemd/system/rcptdir-syncd.timer usr/lib/systemd/system/rcptdir-syncd-watch.service \
        usr/lib/sysusers.d/rcptdir.conf; do
        [ -f "$inst/$f" ] || missing="$missing $f"
    done
    if [ -z "$missing" ]; then
        echo "ok - make install DESTDIR= installs binaries, man pages, config, units"
    else
        echo "not ok - make install misses:$missing"
    fi
else
    echo "not ok - make install DESTDIR=$inst failed"
fi

# the systemd units parse (systemd-analyze is part of Debian's systemd)
if command -v systemd-analyze >/dev/null; then
    bad=$(cd contrib && for u in *.service *.timer; do
        systemd-analyze verify --man=no "./$u" 2>&1 | grep -vE 'Cannot find|not found|No such file|/usr/sbin/rcptdir|Failed to prepare filename|Command .* is not executable'
    done)
    if [ -z "$bad" ]; then
        echo "ok - systemd units in contrib/ verify"
    else
        echo "not ok - systemd-analyze verify complains"
        printf '%s\n' "$bad" | sed 's/^/# /' | head -10
    fi
fi

# docs/operations.md's configuration reference is the key table, as generated
gen=$("$BUILD/tools/confref" md)
have=$(sed -n '/<!-- keys:begin -->/,/<!-- keys:end -->/p' docs/operations.md | sed '1d;$d')
if [ -n "$gen" ] && [ "$gen" = "$have" ]; then
    echo "ok - docs/operations.md configuration reference matches the key table"
else
    echo "not ok - docs/operations.md configuration reference differs: regenerate with build/tools/confref md"
    diff <(printf '%s\n' "$have") <(printf '%s\n' "$gen") | head -10 | sed 's/^/# /'
fi
