# lib.bash - the helpers the syncd tests were written against; they live in tests/lib/ now
# (rcptdir.sh loads them all). Kept so that a test sourcing this path works.
# shellcheck shell=bash
# shellcheck source=tests/lib/rcptdir.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../lib" && pwd)/rcptdir.sh"
