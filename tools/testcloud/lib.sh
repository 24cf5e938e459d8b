# Shared helpers for up.sh and down.sh. Sourced, never run.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the sourcing scripts

TESTCLOUD_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TESTCLOUD_TOOLS/../.." && pwd)
TC=$REPO_ROOT/.testcloud
VENV=$TC/venv
ETC=$TC/etc
DATA=$TC/data
LOGS=$TC/log
RUN=$TC/run

# Every TCP listener the cloud opens, all on 127.0.0.1. Keystone's port is
# also in the auth_url that caso's tests read from truth.json.
declare -A PORTS=(
    [keystone]=5000 [nova-api]=8774 [cinder-api]=8776 [placement]=8778
    [glance-api]=9292 [neutron-api]=9696
    [rabbitmq]=5672 [epmd]=4369 [rabbitmq-dist]=25672
)

# The log a person should read when the current step fails.
STEP_LOG=$LOGS

T_START=$(date +%s)

say() {
    echo "[testcloud +$(($(date +%s) - T_START))s] $*"
}

die() {
    echo "testcloud: ERROR: $*" >&2
    echo "testcloud: read $STEP_LOG" >&2
    echo "testcloud: then stop what did start: make testcloud-down" >&2
    exit 1
}

# step NAME MESSAGE: announce a step and remember which log explains its failure.
step() {
    STEP_LOG=$LOGS/$1.log
    say "$2"
}

pid_of() {
    local file=$RUN/$1.pid
    [[ -s $file ]] && cat "$file"
}

is_running() {
    local pid
    pid=$(pid_of "$1") || return 1
    alive "$pid"
}

# start_daemon NAME CMD...: detach CMD from this shell and from the CI
# job's process group, so a finished `make` leaves it running; record its
# PID for down.sh. setsid does not fork for a non-leader, so $! is the
# daemon itself. Its output goes to log/NAME.out; the OpenStack services
# also write their own log/NAME.log.
start_daemon() {
    local name=$1
    shift
    setsid nohup "$@" >"$LOGS/$name.out" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

# wait_http NAME URL [SECONDS]: any HTTP answer means the API listens.
wait_http() {
    local name=$1 url=$2 deadline=$((SECONDS + ${3:-90}))
    STEP_LOG="$LOGS/$name.out (and $name.log)"
    until curl -s -m 3 -o /dev/null "$url"; do
        is_running "$name" || die "$name exited before answering on $url"
        ((SECONDS < deadline)) || die "$name did not answer on $url"
        sleep 0.3
    done
}

# port_holder PORT: the listener on 127.0.0.1:PORT or *:PORT, if any.
port_holder() {
    ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1
}

# alive PID: running, and not a zombie waiting for init to reap it (a
# zombie still answers kill -0).
alive() {
    kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]
}

# stop_pid NAME PID GRACE: SIGTERM, wait GRACE seconds, then SIGKILL, and
# wait until the process is really gone.
stop_pid() {
    local name=$1 pid=$2 grace=$3 deadline
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if alive "$pid"; then
        echo "testcloud: $name ($pid) ignored SIGTERM for ${grace}s, killing"
        kill -KILL "$pid" 2>/dev/null || true
        while alive "$pid"; do
            sleep 0.2
        done
    fi
}

stop_daemon() {
    local name=$1 grace=${2:-20} pid
    if pid=$(pid_of "$name"); then
        stop_pid "$name" "$pid" "$grace"
    fi
    rm -f "$RUN/$name.pid"
}
