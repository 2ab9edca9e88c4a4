# lib.bash - the helpers the syncd tests were written against; they live in tests/lib/ now
# (rcptdir.sh loads them all). Kept so that a test sourcing this path works; as before, it
# leaves `set -u` to the test.
# shellcheck shell=bash
case $- in *u*) lib_bash_nounset=1 ;; *) lib_bash_nounset= ;; esac
# shellcheck source=tests/lib/rcptdir.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lib" && pwd)/rcptdir.sh"
[ -n "$lib_bash_nounset" ] || set +u
