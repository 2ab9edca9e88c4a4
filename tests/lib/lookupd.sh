# lookupd.sh - rcptdir-lookupd instances and socketmap clients for the shell tests (sourced
# by tests/lib/rcptdir.sh).
#
# write_conf NAME STORE [lines]: $TEST_DIR/NAME.conf; lookupd_start NAME: an instance on free
# loopback ports (SMPORT_NAME, HTTPPORT_NAME, PID_NAME), its log $TEST_DIR/NAME.log (scanned by
# done_testing), stopped at exit; lookupd_stop NAME. Netstring helpers for raw socketmap
# requests; $MKSTORE, $RAW, $IDLE, $LOOKUPD; $DATA (tests/data/lookupd).
# Postfix is only a client here (postmap, postconf): it reads an empty main.cf of our own
# ($MAIL_CONFIG), so a system without /etc/postfix/main.cf or with an unusual one answers
# the same.
# shellcheck shell=bash disable=SC2034 # variables for the tests that source this

DATA=$TOP/tests/data/lookupd
LOOKUPD=$BUILD/rcptdir-lookupd
MKSTORE=$BUILD/tools/mkstore
RAW=$BUILD/tools/sockmap_raw
IDLE=$BUILD/tools/idleconns
mkdir -p "$TEST_DIR/postfix" && : >"$TEST_DIR/postfix/main.cf"
export MAIL_CONFIG=$TEST_DIR/postfix

# port_free PORT - nothing listens on 127.0.0.1:PORT
port_free() {
    ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# port_open PORT - something listens on 127.0.0.1:PORT
port_open() { ! port_free "$1"; }
# free_port - print a port that was free a moment ago, below the ephemeral range
free_port() { "$TOP/scripts/free-port"; }

# write_conf NAME STORE [extra lines...] - $TEST_DIR/NAME.conf.in, ports filled in by lookupd_start
# (and $TEST_DIR/NAME.conf with placeholder ports, for -n and -q)
write_conf() {
    local name=$1 store=$2 l
    shift 2
    {
        echo "[store]"
        echo "path = $store"
        echo "[lookupd]"
        echo "socketmap_listen = inet:127.0.0.1:@SMPORT@, unix:$TEST_DIR/$name.sock"
        echo "http_listen = 127.0.0.1:@HTTPPORT@"
        case " $* " in *" user ="*) ;; *) echo "user =" ;; esac
        case " $* " in *" idle_timeout ="*) ;; *) echo "idle_timeout = 60" ;; esac
        for l in "$@"; do echo "$l"; done
    } >"$TEST_DIR/$name.conf.in"
    sed -e "s/@SMPORT@/1/" -e "s/@HTTPPORT@/2/" "$TEST_DIR/$name.conf.in" >"$TEST_DIR/$name.conf"
}

# lookupd_ready NAME PID - the instance logged that it is ready, or has exited
lookupd_ready() {
    grep -q "lookupd: ready" "$TEST_DIR/$1.log" 2>/dev/null || gone "$2"
}

# lookupd_start NAME - start lookupd with $TEST_DIR/NAME.conf on free ports (SMPORT_NAME,
# HTTPPORT_NAME), wait until it is ready; sets PID_NAME. Tries other ports when one was taken.
lookupd_start() {
    local name=$1 pid sp hp status=
    for _attempt in 1 2 3 4 5; do
        sp=$(free_port) && hp=$(free_port) || return 1
        [ "$sp" = "$hp" ] && continue
        printf -v "SMPORT_$name" '%s' "$sp"
        printf -v "HTTPPORT_$name" '%s' "$hp"
        sed -e "s/@SMPORT@/$sp/" -e "s/@HTTPPORT@/$hp/" "$TEST_DIR/$name.conf.in" \
            >"$TEST_DIR/$name.conf"
        "$LOOKUPD" -c "$TEST_DIR/$name.conf" -d >"$TEST_DIR/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        printf -v "PID_$name" '%s' "$pid"
        wait_until 30 lookupd_ready "$name" "$pid"
        running "$pid" && grep -q "lookupd: ready" "$TEST_DIR/$name.log" && return 0
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        status=$?
        grep -q "Address already in use" "$TEST_DIR/$name.log" || break
    done
    echo "# lookupd $name did not start (exit status $status):"
    sed 's/^/#   /' "$TEST_DIR/$name.log"
    return 1
}

# lookupd_stop NAME - SIGTERM and wait; returns the exit status
lookupd_stop() {
    local pidvar="PID_$1"
    kill -TERM "${!pidvar}" 2>/dev/null
    wait "${!pidvar}"
}

# netstrings MAP - each line of stdin as the request netstring "MAP line"
netstrings() {
    local k s
    while IFS= read -r k; do
        s="$1 $k"
        printf '%d:%s,' "${#s}" "$s"
    done
}

# sm_replies - sockmap_raw's output (stdin) as one reply a line, netstring lengths stripped,
# then its [closed]/[open] marker
sm_replies() {
    tr ',' '\n' | sed -e 's/^[0-9]*://' -e '/^$/d'
}

# sm_query FD MAP KEY - ask over an open connection (exec FD<>/dev/tcp/...), print the reply
sm_query() {
    local fd=$1 s="$2 $3" reply
    printf '%d:%s,' "${#s}" "$s" >&"$fd" || return 1
    IFS= read -r -d , -t 3 reply <&"$fd" || return 1
    printf '%s\n' "${reply#*:}"
}

# sm_ask PORT MAP KEY - one request on a new connection to 127.0.0.1:PORT; prints the reply
sm_ask() {
    printf '%s\n' "$3" | netstrings "$2" | "$RAW" -w "inet:127.0.0.1:$1" | sm_replies | head -1
}
# sm_answers PORT MAP KEY WANT - sm_ask's reply is WANT (for wait_until)
sm_answers() {
    [ "$(sm_ask "$1" "$2" "$3")" = "$4" ]
}
