# rcptdir.sh - the one library of the shell tests (sourced, not run):
#
#   . "$(dirname "$0")/../lib/rcptdir.sh"
#
# loads tap.sh (TAP output, checks, skips, wait_until, cleanup), slapd.sh (throwaway slapds),
# syncd.sh (rcptdir-syncd runs, store dumps), lookupd.sh (rcptdir-lookupd instances,
# socketmap clients), mta.sh (docs/operations.md snippets, unpacked .debs), syslog.sh (a
# private /dev/log), samba.sh (a throwaway Active Directory) and syncrepl.sh (the syncrepl
# tests' configuration and paged comparison). Each file says what it
# gives. Sets TOP (the checkout), BUILD (absolute; the environment's or build) and works
# from TOP. tests/data/lookupd/lib.sh and
# tests/data/syncd/lib.bash load this too, for tests written against them.
# shellcheck shell=bash

[ -n "${RCPTDIR_SH_LOADED:-}" ] && return 0
RCPTDIR_SH_LOADED=1
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
cd "$TOP" || exit 1

TEST_LIB=$TOP/tests/lib
# shellcheck source=tests/lib/tap.sh
. "$TEST_LIB/tap.sh"
# shellcheck source=tests/lib/slapd.sh
. "$TEST_LIB/slapd.sh"
# shellcheck source=tests/lib/syncd.sh
. "$TEST_LIB/syncd.sh"
# shellcheck source=tests/lib/lookupd.sh
. "$TEST_LIB/lookupd.sh"
# shellcheck source=tests/lib/mta.sh
. "$TEST_LIB/mta.sh"
# shellcheck source=tests/lib/syslog.sh
. "$TEST_LIB/syslog.sh"
# shellcheck source=tests/lib/samba.sh
. "$TEST_LIB/samba.sh"
# shellcheck source=tests/lib/syncrepl.sh
. "$TEST_LIB/syncrepl.sh"
