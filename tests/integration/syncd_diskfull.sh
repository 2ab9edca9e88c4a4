#!/bin/bash
# syncd_diskfull: a sync that runs out of disk fails with exit 74 and leaves the store as it
# was (the store is written through its memory map, so a full disk raises SIGBUS, which
# syncd turns into a clean exit). Needs root to mount a tiny tmpfs.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
T=$(mktemp -d /tmp/rcptdir-diskfull.XXXXXX)
cleanup() {
    umount "$T/small" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/small"
if ! mount -t tmpfs -o size=96k tmpfs "$T/small" 2>/dev/null; then
    echo "ok - disk full # SKIP cannot mount a tmpfs here"
    exit 0
fi
cat >"$T/c.conf" <<CONF
[store]
path = $T/small/store
[ldif]
path = $top/schema/ldap/sample.ldif
[lookupd]
user =
CONF
"$BUILD/rcptdir-syncd" -c "$T/c.conf" >/dev/null 2>&1
before=$("$BUILD/tools/dumpstore" -m "$T/small/store")
scripts/gen-ldif 5000 >"$T/big.ldif"
sed -i "s|^path = .*sample.ldif|path = $T/big.ldif|" "$T/c.conf"
out=$("$BUILD/rcptdir-syncd" -c "$T/c.conf" --force 2>&1)
rc=$?
if [ "$rc" -eq 74 ]; then
    echo "ok - disk full: exit 74"
else
    echo "not ok - disk full: exit $rc, want 74"
    printf '%s\n' "$out" | tail -3 | sed 's/^/# /'
fi
if grep -q "disk full" <<<"$out"; then
    echo "ok - disk full: the message says so"
else
    echo "not ok - disk full: message does not mention it"
    printf '%s\n' "$out" | tail -3 | sed 's/^/# /'
fi
after=$("$BUILD/tools/dumpstore" -m "$T/small/store")
if [ -n "$before" ] && [ "$before" = "$after" ]; then
    echo "ok - disk full: store unchanged (generation and every address)"
else
    echo "not ok - disk full: store changed"
fi
