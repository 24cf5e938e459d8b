#!/usr/bin/env bash
# Stop the test cloud: exactly the processes up.sh started, found by the
# PIDs it recorded in .testcloud/run/, never by name. Waits until each one
# is gone. Data and the virtualenv stay; up.sh rebuilds the data anyway.
#
#   tools/testcloud/down.sh [--quiet]
set -euo pipefail

# shellcheck source=tools/testcloud/lib.sh
source "$(dirname "$0")/lib.sh"

QUIET=false
[[ ${1:-} == --quiet ]] && QUIET=true

note() {
    $QUIET || say "$@"
}

main() {
    if [[ ! -d $RUN ]] || ! compgen -G "$RUN/*.pid" >/dev/null; then
        note "nothing to stop"
        return
    fi
    note "stopping the test cloud"

    # Clients of the database and the message bus first, so they do not
    # spend their shutdown retrying connections. nova-compute and
    # cinder-volume take longest to stop gracefully: in parallel.
    local name
    for name in nova-compute cinder-volume cinder-scheduler nova-scheduler \
        nova-conductor; do
        stop_daemon "$name" 20 &
    done
    for name in nova-api cinder-api neutron-api glance-api placement keystone; do
        stop_daemon "$name" 15 &
    done
    wait

    # RabbitMQ: the Erlang VM (its own pid file), then the shell script
    # that started it, then the epmd we started for it.
    stop_daemon rabbitmq-beam 30
    stop_daemon rabbitmq 10
    stop_daemon epmd 5
    stop_daemon mysqld 30

    if compgen -G "$RUN/*.pid" >/dev/null; then
        # mariadbd's own pid file duplicates mysqld.pid, already handled.
        rm -f "$RUN/mysqld.mariadb.pid"
    fi
    local left
    left=$(compgen -G "$RUN/*.pid" || true)
    if [[ -n $left ]]; then
        echo "testcloud: unknown pid files left in $RUN: $left" >&2
        exit 1
    fi
    note "stopped"
}

main
