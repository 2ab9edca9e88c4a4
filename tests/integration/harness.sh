#!/bin/bash
# harness.sh - the test harness itself: scripts/run-tests counts passed, failed and skipped
# checks (a skip is never a pass; a plan that does not match, or a non-zero exit without a
# failure, is a failure) and ends with "N passed, M failed, K skipped"; TEST_FILTER runs one
# cmocka test by name; tests/lib/tap.sh's skip, wait_until and wait_exit. Fake unit tests
# (shell scripts printing TAP) in a BUILD of our own. Prints TAP.
# shellcheck source=tests/lib/rcptdir.sh
. "$(dirname "$0")/../lib/rcptdir.sh"

# fake NAME LINES... - a fake unit test $T/build/tests/test_NAME printing LINES
fake() {
    local name=$1 f=$T/build/tests/test_$1
    shift
    mkdir -p "$T/build/tests"
    {
        echo '#!/bin/sh'
        printf "printf '%%s\\\\n' %s\n" "$(printf "'%s' " "$@")"
    } >"$f"
    chmod +x "$f"
}
fake pass '1..2' 'ok 1 - a' 'ok 2 - b'
fake skips '1..4' 'ok 1 - a' 'ok 2 - b # SKIP not here' 'not ok 3 # SKIP cmocka_style' 'ok 4 - # skip old style'
fake fails '1..2' 'ok 1 - a' 'not ok 2 - b'
fake noplan '1..3' 'ok 1 - a' 'ok 2 - b'
fake skipall '1..0 # SKIP nothing to run here'
printf '#!/bin/sh\necho "1..1"\necho "ok 1 - a"\nexit 3\n' >"$T/build/tests/test_crash"
chmod +x "$T/build/tests/test_crash"

scripts/run-tests --unit-only "$T/build" test_pass test_skips >"$T/r1.out" 2>&1
check_eq "passes and skips: exit 0" 0 "$?"
check_eq "  ... the last line counts a skip as skipped, not passed" \
    "3 passed, 0 failed, 3 skipped" "$(tail -n 1 "$T/r1.out")"
scripts/run-tests --unit-only "$T/build" test_skipall >"$T/r2.out" 2>&1
check_eq "a plan of 1..0 with a reason to skip: one skipped" "0 passed, 0 failed, 1 skipped" "$(tail -n 1 "$T/r2.out")"
scripts/run-tests --unit-only "$T/build" test_fails >"$T/r3.out" 2>&1
check_eq "a failure: exit 1" 1 "$?"
check_eq "  ... counted" "1 passed, 1 failed, 0 skipped" "$(tail -n 1 "$T/r3.out")"
check "  ... and shown" grep -q '^    not ok 2 - b' "$T/r3.out"
scripts/run-tests --unit-only "$T/build" test_noplan >"$T/r4.out" 2>&1
check_eq "a plan of 3 with 2 lines printed: a failure" "2 passed, 1 failed, 0 skipped" \
    "$(tail -n 1 "$T/r4.out")"
scripts/run-tests --unit-only "$T/build" test_crash >"$T/r5.out" 2>&1
check_eq "exit 3 after only passes: a failure" "1 passed, 1 failed, 0 skipped" "$(tail -n 1 "$T/r5.out")"
scripts/run-tests --unit-only "$T/build" >"$T/r6.out" 2>&1
check_eq "no names: every test" "7 passed, 3 failed, 4 skipped" "$(tail -n 1 "$T/r6.out")"
check_match "the count line is what CI reads: 'N passed, N failed' first" \
    '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$(tail -n 1 "$T/r6.out")"

# one cmocka test by name
out=$(CMOCKA_MESSAGE_OUTPUT=TAP TEST_FILTER=test_truncation "$BUILD/tests/test_rcpt" 2>&1)
check_eq "TEST_FILTER=test_truncation runs that test alone" "$(printf '1..1\nok 1 - test_truncation')" \
    "$(grep -E '^(1\.\.|ok|not ok)' <<<"$out")"

# the library
check_eq "skip prints a TAP skip" "ok 1 - x # SKIP why" "$(TESTNO=0 skip x why)"
t0=$(tap_now_us)
wait_until 0.5 false
rc=$?
ms=$((($(tap_now_us) - t0) / 1000))
check_eq "wait_until: a condition never met returns 1" 1 "$rc"
check "  ... after its deadline (0.5 s: $ms ms)" test "$ms" -ge 500
( sleep 0.3 && touch "$T/later" ) &
PIDS+=("$!")
check "wait_until: returns once the condition holds" wait_until 30 test -e "$T/later"
sh -c 'exit 7' &
wait_exit 30 "$!"
check_eq "wait_exit: the exit status" 7 "$?"
sleep 100 &
sp=$!
PIDS+=("$sp")
wait_exit 0.2 "$sp"
check_eq "wait_exit: 124 when it is still running" 124 "$?"
finish
