# syslog.sh - a private /dev/log for the shell tests (sourced by tests/lib/rcptdir.sh), to see
# what a daemon logs to syslog, and whether it reopens its log on SIGHUP.
#
# syslog_ns_start: a private mount namespace whose /dev is a tmpfs of our own (null, zero,
# random, urandom, and no log socket yet); the host's /dev is never touched. Run a daemon in it
# with in_syslog_ns CMD... ; syslog_sink NAME puts a socket at its /dev/log whose messages land
# in $TEST_DIR/NAME.syslog, one a line; syslog_move_away renames that socket to /dev/log.old, as a
# restarted syslog daemon leaves the old one behind. Needs root (unshare -m); the namespace's
# holder is stopped at exit.
# shellcheck shell=bash

SYSLOG_NS=
SYSLOG_DEV=

# syslog_ns_start - create the namespace; sets SYSLOG_NS (its holder's pid) and SYSLOG_DEV
# (its /dev, as seen from here through /proc/PID/root)
syslog_ns_start() {
    rm -f "$TEST_DIR/ns.ready"
    # shellcheck disable=SC2016 # $1 is the inner shell's
    unshare -m --propagation private sh -c 'mkdir -p "$1/ns-dev" &&
        mount -t tmpfs -o mode=755,size=1m tmpfs "$1/ns-dev" &&
        cp -a /dev/null /dev/zero /dev/random /dev/urandom "$1/ns-dev/" &&
        mount --move "$1/ns-dev" /dev && touch "$1/ns.ready" && exec sleep 100000' \
        sh "$TEST_DIR" >"$TEST_DIR/ns.out" 2>&1 &
    SYSLOG_NS=$!
    PIDS+=("$SYSLOG_NS")
    wait_until 10 test -e "$TEST_DIR/ns.ready" && SYSLOG_DEV=/proc/$SYSLOG_NS/root/dev && return 0
    tap_detail "$(cat "$TEST_DIR/ns.out")"
    return 1
}

# in_syslog_ns CMD... - run CMD in the namespace (exec: $! of `in_syslog_ns ... &` is CMD's pid)
in_syslog_ns() {
    exec nsenter -t "$SYSLOG_NS" -m -r -- "$@" # -r: its root (a chroot stays one), our cwd
}

# syslog_sink NAME - a syslog socket at the namespace's /dev/log, its messages in
# $TEST_DIR/NAME.syslog; waits until it listens
syslog_sink() {
    python3 "$TEST_LIB/syslog_sink.py" "$SYSLOG_DEV/log" "$TEST_DIR/$1.syslog" \
        2>>"$TEST_DIR/sink.out" &
    PIDS+=("$!")
    wait_until 10 test -e "$TEST_DIR/$1.syslog"
}

# syslog_move_away - rename the namespace's /dev/log to /dev/log.old (its sink keeps
# receiving what is sent on connections made before)
syslog_move_away() {
    mv -f "$SYSLOG_DEV/log" "$SYSLOG_DEV/log.old"
}
