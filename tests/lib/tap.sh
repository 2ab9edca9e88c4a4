# tap.sh - the TAP helpers of every shell test (sourced, not run; tests/lib/rcptdir.sh loads
# it with the helpers for our daemons and their peers).
#
# Output, counted by scripts/run-tests:
#   ok N - DESC                     a check that passed
#   not ok N - DESC                 one that failed, followed by "#   " detail lines
#   ok N - DESC # SKIP REASON       one that could not run here: counted as skipped
#   1..N                            the plan, printed by done_testing (or finish)
# Checks: ok, not_ok, skip, check, require, check_eq, check_match, check_same, check_grep,
# check_nogrep, check_line; skip_all ends a test that cannot run at all.
# Waiting: wait_until SECONDS CMD... polls CMD until it succeeds or the deadline passes; no
# test sleeps a fixed time for a state to arrive. wait_exit SECONDS PID waits for a process.
# Cleanup: a throwaway directory $TEST_DIR, mode 755, removed at exit (also $T and $W, the
# names older tests use; the helpers use only $TEST_DIR, so a test may give T another
# meaning). Every pid in PIDS (or BG_PIDS) gets SIGTERM at exit and is waited for (SIGKILL
# after 10 s); on_exit CMD adds a command run after that (last added first). A test that
# sets its own EXIT trap calls tap_cleanup (or its older names lib_cleanup, syncd_cleanup).
# shellcheck shell=bash disable=SC2034 # variables for the tests that source this

[ -n "${TAP_SH_LOADED:-}" ] && return 0
TAP_SH_LOADED=1
set -u
export LC_ALL=C

TEST_NAME=$(basename "${0%.sh}")
TEST_DIR=$(mktemp -d "/tmp/rcptdir-$TEST_NAME.XXXXXX") || exit 1
chmod 755 "$TEST_DIR" # an unprivileged daemon (user = nobody) must reach its files
T=$TEST_DIR
W=$TEST_DIR
PIDS=()
BG_PIDS=()
TAP_EXIT_HOOKS=()
TAP_CLEANED=
TESTNO=0
FAILED=0
SKIPPED=0

# on_exit CMD - run CMD (a string, eval'd) at exit, after the processes in PIDS are stopped
on_exit() {
    TAP_EXIT_HOOKS+=("$1")
}

# tap_cleanup - the EXIT trap: stop PIDS and BG_PIDS, run the hooks (last added first),
# remove $TEST_DIR; runs once
tap_cleanup() {
    local i p
    [ -n "$TAP_CLEANED" ] && return 0
    TAP_CLEANED=1
    for p in "${PIDS[@]}" "${BG_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}" "${BG_PIDS[@]}"; do
        wait_until 10 gone "$p" || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for ((i = ${#TAP_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${TAP_EXIT_HOOKS[i]}" >/dev/null 2>&1
    done
    rm -rf "$TEST_DIR"
}
# the names the two libraries this one replaced gave it
lib_cleanup() { tap_cleanup; }
syncd_cleanup() { tap_cleanup; }
trap tap_cleanup EXIT
trap 'exit 143' TERM INT HUP # run the EXIT trap when killed, e.g. by run-tests' timeout

# --- results ------------------------------------------------------------------------------

# tap_detail TEXT... - each TEXT (may be several lines) as "#   " lines, 30 lines at most each
tap_detail() {
    local d
    for d in "$@"; do
        printf '%s\n' "$d" | head -n 30 | sed 's/^/#   /'
    done
}

# ok DESC... - a check that passed
ok() {
    TESTNO=$((TESTNO + 1))
    echo "ok $TESTNO - $*"
}

# not_ok DESC [DETAIL...] - a check that failed; each DETAIL is shown as "#   " lines
not_ok() {
    local desc=$1
    shift
    TESTNO=$((TESTNO + 1))
    FAILED=$((FAILED + 1))
    echo "not ok $TESTNO - $desc"
    tap_detail "$@"
}
notok() { not_ok "$@"; }

# skip DESC REASON - a check that cannot run here (no root, a package that cannot be had):
# counted as skipped, never as passed
skip() {
    TESTNO=$((TESTNO + 1))
    SKIPPED=$((SKIPPED + 1))
    echo "ok $TESTNO - $1 # SKIP $2"
}

# skip_all REASON - the whole test cannot run here: one skip, the plan, exit 0
skip_all() {
    skip "$TEST_NAME" "$1"
    echo "1..$TESTNO"
    exit 0
}

# finish - print the plan; returns non-zero when a check failed (the test's exit status)
finish() {
    echo "1..$TESTNO"
    [ "$FAILED" -eq 0 ]
}

# done_testing - one more check: no sanitizer report in $TEST_DIR/*.log (the daemons' logs);
# then the plan, like finish
done_testing() {
    local bad
    bad=$(grep -lE 'Sanitizer|runtime error:' "$TEST_DIR"/*.log 2>/dev/null)
    if [ -z "$bad" ]; then
        ok "no sanitizer reports in the daemons' logs"
    else
        # shellcheck disable=SC2086 # file names from mktemp: no blanks
        not_ok "no sanitizer reports in the daemons' logs" \
            "$(grep -hE -A5 'Sanitizer|runtime error:' $bad | head -40)"
    fi
    finish
}

# --- checks -------------------------------------------------------------------------------

# check DESC CMD... - ok when CMD succeeds
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# require DESC CMD... - like check, but a failure ends the test: nothing after it could run
require() {
    local desc=$1
    shift
    if "$@"; then
        ok "$desc"
    else
        not_ok "$desc"
        done_testing
        exit 1
    fi
}

# check_eq DESC WANT GOT
check_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "want: $(printf '%q' "$2")" "got:  $(printf '%q' "$3")"
    fi
}

# check_match DESC ERE GOT - ok when GOT has a line matching the extended regex ERE
check_match() {
    if grep -qE -- "$2" <<<"$3"; then
        ok "$1"
    else
        not_ok "$1" "want: /$2/" "got:  $(printf '%q' "$3")"
    fi
}

# check_same DESC EXPECTED_FILE ACTUAL_FILE - byte-identical, else the diff is shown
check_same() {
    if cmp -s "$2" "$3"; then
        ok "$1"
    else
        not_ok "$1" "diff expected actual:" "$(diff "$2" "$3" | head -n 40)"
    fi
}

# check_grep DESC FILE ERE - FILE has a line matching ERE
check_grep() {
    if grep -Eq -- "$3" "$2"; then
        ok "$1"
    else
        not_ok "$1" "no line matching /$3/ in:" "$(head -n 20 "$2")"
    fi
}

# check_nogrep DESC FILE ERE - no line of FILE matches ERE
check_nogrep() {
    if grep -Eq -- "$3" "$2"; then
        not_ok "$1" "unexpected line(s) matching /$3/:" "$(grep -E -- "$3" "$2" | head -n 10)"
    else
        ok "$1"
    fi
}

# check_line DESC FILE LINE - FILE holds exactly LINE (a fixed string, the whole line)
check_line() {
    if grep -Fxq -- "$3" "$2"; then
        ok "$1"
    else
        not_ok "$1" "missing line: $3"
    fi
}

# --- waiting ------------------------------------------------------------------------------

# tap_now_us - the wall clock in microseconds
tap_now_us() {
    local t=$EPOCHREALTIME
    echo "${t/[.,]/}"
}

# wait_until SECONDS CMD... - run CMD until it succeeds (return 0) or SECONDS have passed
# (return 1, after one last try); polls every 20 ms at first, every 200 ms at most
wait_until() {
    local deadline pause=0.02 secs=$1 frac=000000
    [[ $secs == *.* ]] && frac=${secs#*.}000000
    deadline=$(($(tap_now_us) + ${secs%%.*} * 1000000 + 10#${frac:0:6}))
    shift
    until "$@"; do
        [ "$(tap_now_us)" -ge "$deadline" ] && {
            "$@"
            return
        }
        sleep "$pause"
        case $pause in 0.02) pause=0.05 ;; 0.05) pause=0.1 ;; *) pause=0.2 ;; esac
    done
}
# wait_for SECONDS CMD... - the same (the name lookupd_workers.sh gave it)
wait_for() { wait_until "$@"; }

# running PID - the process is still there
running() { kill -0 "$1" 2>/dev/null; }
# gone PID - the process has exited
gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_exit SECONDS PID - wait for a background child to exit; returns its exit status, or
# 124 when it is still running after SECONDS (it is left running)
wait_exit() {
    wait_until "$1" gone "$2" || return 124
    wait "$2"
}

# file_has FILE ERE - FILE exists and has a line matching ERE (for wait_until)
file_has() {
    grep -Eq -- "$2" "$1" 2>/dev/null
}

# has_open PID PATH - the process has PATH open (for wait_until)
has_open() {
    local fd
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
    done
    return 1
}

# quiet CMD... - CMD with its output discarded: for check, whose own "ok" line a redirection
# of the whole call would swallow (check DESC quiet CMD..., never check DESC CMD >/dev/null)
quiet() {
    "$@" >/dev/null 2>&1
}
# logged FILE CMD... - CMD with its output appended to FILE (check DESC logged FILE CMD...)
logged() {
    local f=$1
    shift
    "$@" >>"$f" 2>&1
}
