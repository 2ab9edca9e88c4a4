#!/bin/bash
# syncd_diskfull: a sync that runs out of disk fails with exit 74 and leaves the store as it
# was (the store is written through its memory map, so a full disk raises SIGBUS, which
# syncd turns into a clean exit). Needs root to mount a tiny tmpfs; skipped without.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

mkdir -p "$T/small"
mount -t tmpfs -o size=96k tmpfs "$T/small" 2>/dev/null || skip_all "cannot mount a tmpfs here"
# shellcheck disable=SC2016 # expanded at exit
on_exit 'umount "$TEST_DIR/small"'
cat >"$T/c.conf" <<CONF
[store]
path = $T/small/store
[ldif]
path = $TOP/schema/ldap/sample.ldif
[lookupd]
user =
CONF
check "a first sync into the 96 kB tmpfs" "$SYNCD" -c "$T/c.conf" -d 2>"$T/first.err"
before=$("$DUMP" -m "$T/small/store")
scripts/gen-ldif 5000 >"$T/big.ldif"
sed -i "s|^path = .*sample.ldif|path = $T/big.ldif|" "$T/c.conf"
out=$("$SYNCD" -c "$T/c.conf" --force 2>&1)
check_eq "disk full: exit 74" 74 "$?"
check_match "disk full: the message says so" "disk full" "$out"
after=$("$DUMP" -m "$T/small/store")
check "disk full: store unchanged (generation and every address)" test -n "$before" -a "$before" = "$after"
finish
