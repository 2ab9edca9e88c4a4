# hostile.sh - helpers for tests/integration/hostile_*.sh (sourced after lib.sh): misbehaving
# clients (build/tools/hostile) run in the background and stopped by the EXIT trap.
# shellcheck shell=bash
HOSTILE=${HOSTILE:-$BUILD/tools/hostile}
HPIDS=()

# hostile_run NAME ARGS... - build/tools/hostile ARGS in the background, its output in $T/NAME.out
hostile_run() {
    local name=$1
    shift
    "$HOSTILE" "$@" >"$T/$name.out" 2>&1 &
    HPIDS+=($!)
    PIDS+=($!)
}

# hostile_ready N GLOB - wait (20 s at most) until N of $T/GLOB.out say "ready"; print how many
hostile_ready() {
    local n=0
    for _ in $(seq 200); do
        # shellcheck disable=SC2086 # GLOB is a pattern
        n=$(cat "$T"/$2.out 2>/dev/null | grep -c '^ready')
        [ "$n" -ge "$1" ] && break
        sleep 0.1
    done
    echo "$n"
}

# hostile_stop - end every client hostile_run started
hostile_stop() {
    local p
    for p in "${HPIDS[@]}"; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    HPIDS=()
}

# conns PORT [SRC] - established server-side TCP connections of PORT (from address SRC)
conns() {
    if [ $# -gt 1 ]; then
        ss -Htn state established "( sport = :$1 and dst $2 )" | wc -l
    else
        ss -Htn state established "( sport = :$1 )" | wc -l
    fi
}
