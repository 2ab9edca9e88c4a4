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
