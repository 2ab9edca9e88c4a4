# mta.sh - what the MTA tests (tests/integration/mta_*.sh) share (sourced by
# tests/lib/rcptdir.sh): the snippets of docs/operations.md, and MTAs that cannot be
# installed next to Postfix, unpacked from their Debian packages.
# shellcheck shell=bash

# doc_block HEADING - the first fenced block after the line "## HEADING..." of
# docs/operations.md
doc_block() {
    awk -v h="## $1" 'index($0, h) == 1 { s = 1; next }
        s == 1 && /^```/ { s = 2; next }
        s == 2 && /^```/ { exit }
        s == 2 { print }' "$TOP/docs/operations.md"
}

# deb_unpack DIR PACKAGE... - unpack Debian packages that cannot be installed next to
# postfix (Exim, Sendmail) into DIR, downloading each .deb into the cache
# ${RCPTDIR_TEST_CACHE:-/var/cache/rcptdir-test} once (scripts/deps fills it); apt's
# output in $TEST_DIR/apt.out
deb_unpack() {
    local dir=$1 cache=${RCPTDIR_TEST_CACHE:-/var/cache/rcptdir-test} p deb
    shift
    mkdir -p "$cache" "$dir" 2>>"$TEST_DIR/apt.out" || return 1
    for p in "$@"; do
        # shellcheck disable=SC2012 # Debian package file names: no blanks
        deb=$(ls -t "$cache/${p}_"*.deb 2>/dev/null | head -1)
        if [ -z "$deb" ]; then
            (cd "$cache" && apt-get download -q "$p") >>"$TEST_DIR/apt.out" 2>&1 || return 1
            # shellcheck disable=SC2012
            deb=$(ls -t "$cache/${p}_"*.deb 2>/dev/null | head -1)
        fi
        [ -n "$deb" ] && dpkg -x "$deb" "$dir" || return 1
    done
}
