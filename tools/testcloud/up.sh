#!/usr/bin/env bash
# Start a real, small OpenStack on 127.0.0.1 and seed caso's accounting
# scenario into it (issue #2). See docs/testcloud.md.
#
#   tools/testcloud/up.sh            start and seed; quick no-op if already up
#   tools/testcloud/up.sh --reseed   stop, wipe and start a freshly seeded cloud
#
# Everything lives under .testcloud/ at the repository root; the
# virtualenv .testcloud/venv survives restarts, the rest is rebuilt.
set -euo pipefail

# shellcheck source=tools/testcloud/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tools/testcloud/configs.sh
source "$TESTCLOUD_TOOLS/configs.sh"

DEBIAN_PACKAGES=(rabbitmq-server mariadb-server)
# Nova, Cinder and Neutron need MariaDB: under concurrent services sqlite
# answers "database is locked" and Neutron's migrations need ALTER.
DATABASES=(nova_api nova_cell0 nova placement glance neutron cinder)
API_SERVICES=(placement glance-api neutron-api nova-api cinder-api)

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "$0"
}

on_error() {
    echo "testcloud: ERROR: start-up failed (exit $1); read $STEP_LOG" >&2
    echo "testcloud: then stop what did start: make testcloud-down" >&2
}

already_up() {
    local name
    [[ -s $TC/truth.json ]] || return 1
    for name in "${DAEMONS[@]}"; do
        is_running "$name" || return 1
    done
    curl -s -m 3 -o /dev/null "$KEYSTONE_URL"
}

install_debian_packages() {
    local package missing=0
    for package in "${DEBIAN_PACKAGES[@]}"; do
        # "dpkg -s" also succeeds for a removed package whose
        # configuration files are left ("rc"): ask for the status.
        [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) == \
            "install ok installed" ]] || missing=1
    done
    ((missing)) || return 0
    step apt "installing ${DEBIAN_PACKAGES[*]} from Debian"
    mkdir -p "$LOGS"
    {
        apt-get update -q
        # policy-rc.d (or its absence of systemd) keeps the packaged
        # services from starting; we run our own instances below.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${DEBIAN_PACKAGES[@]}"
    } >"$LOGS/apt.log" 2>&1 </dev/null || die "apt-get install failed"
}

install_python_packages() {
    local requirements=$TESTCLOUD_TOOLS/requirements.txt stamp
    stamp=$VENV/.requirements-$(sha256sum "$requirements" | cut -c1-12)
    [[ -f $stamp ]] && return
    step pip "installing OpenStack into $VENV (about 80 s)"
    mkdir -p "$LOGS"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" >"$LOGS/pip.log" 2>&1
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r "$requirements" >>"$LOGS/pip.log" 2>&1 || die "pip install failed"
    rm -f "$VENV"/.requirements-*
    touch "$stamp"
}

# Refuse to start when somebody else listens on one of our ports: the
# services would fail later with far less obvious errors.
check_ports_free() {
    local name holder
    for name in "${!PORTS[@]}"; do
        holder=$(port_holder "${PORTS[$name]}")
        [[ -z $holder ]] && continue
        echo "testcloud: ERROR: port ${PORTS[$name]} ($name) is taken:" >&2
        echo "  $holder" >&2
        echo "testcloud: stop that process, then run make testcloud again" >&2
        exit 1
    done
}

fresh_state() {
    "$TESTCLOUD_TOOLS/down.sh" --quiet
    rm -rf "$ETC" "$DATA" "$LOGS" "$RUN" "$TC/wsgi" "$TC/truth.json"
    mkdir -p "$ETC" "$DATA" "$LOGS" "$RUN"
}

mysql_root() {
    mariadb --defaults-file="$MYCNF" "$@"
}

start_mariadb() {
    step mysqld "starting MariaDB (unix socket only)"
    mkdir -p "$DATA/mysql"
    mariadb-install-db --defaults-file="$MYCNF" --skip-test-db \
        --auth-root-authentication-method=normal \
        >"$LOGS/mysqld-install.log" 2>&1 || die "mariadb-install-db failed"
    start_daemon mysqld /usr/sbin/mariadbd --defaults-file="$MYCNF"
}

create_databases() {
    local deadline=$((SECONDS + 60)) sql db
    STEP_LOG=$LOGS/mysqld.log
    until mysql_root -e 'SELECT 1' >/dev/null 2>&1; do
        is_running mysqld || die "MariaDB exited"
        ((SECONDS < deadline)) || die "MariaDB did not open $MYSQL_SOCK"
        sleep 0.2
    done
    sql="CREATE USER 'openstack'@'localhost' IDENTIFIED BY '$DB_PASSWORD';"
    sql+="GRANT ALL ON *.* TO 'openstack'@'localhost';"
    for db in "${DATABASES[@]}"; do
        sql+="CREATE DATABASE $db;"
    done
    mysql_root -e "$sql"
}

# epmd is started by us, not by RabbitMQ, so that its PID is ours to stop.
start_rabbitmq() {
    step rabbitmq "starting RabbitMQ"
    mkdir -p "$DATA/rabbitmq"
    (
        # Erlang writes its cookie to $HOME and crash dumps to the cwd.
        cd "$DATA/rabbitmq"
        set -a
        # shellcheck source=/dev/null
        source "$ETC/rabbitmq/env"
        set +a
        start_daemon epmd /usr/bin/epmd -address 127.0.0.1 -port "${PORTS[epmd]}"
        # The /usr/lib script runs as root; /usr/sbin's wrapper would su.
        start_daemon rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
    )
}

wait_rabbitmq() {
    local deadline=$((SECONDS + 60))
    STEP_LOG=$LOGS/rabbitmq.out
    until [[ -s $RUN/rabbitmq-beam.pid ]] && [[ -n $(port_holder "${PORTS[rabbitmq]}") ]]; do
        is_running rabbitmq || die "RabbitMQ exited"
        ((SECONDS < deadline)) || die "RabbitMQ did not listen on ${PORTS[rabbitmq]}"
        sleep 0.3
    done
}

gunicorn_daemon() {
    local name=$1 module=$2 port=$3
    # --no-control-socket: gunicorn's default socket is shared machine-wide.
    # --keep-alive 75: clients polling every few seconds otherwise race
    # the 2 s default and get "connection reset".
    # --limit-request-line 0: nova asks neutron for ports of 150 servers in
    # one URL, longer than the 4094-byte default.
    start_daemon "$name" "$VENV/bin/gunicorn" --no-control-socket \
        --keep-alive 75 --limit-request-line 0 --timeout 300 \
        --workers 1 --threads 8 --worker-class gthread \
        --pythonpath "$TC/wsgi" --bind "127.0.0.1:$port" "$module:application"
}

start_keystone() {
    step keystone-manage "setting up Keystone"
    local manage=(keystone-manage --config-file "$ETC/keystone/keystone.conf")
    local owner=(--keystone-user root --keystone-group root)
    {
        # Independent of each other, and each pays 4 s of imports.
        local pids=()
        "${manage[@]}" db_sync &
        pids+=($!)
        "${manage[@]}" fernet_setup "${owner[@]}" &
        pids+=($!)
        "${manage[@]}" credential_setup "${owner[@]}" &
        pids+=($!)
        wait "${pids[0]}" && wait "${pids[1]}" && wait "${pids[2]}"
        "${manage[@]}" bootstrap \
            --bootstrap-password "$ADMIN_PASSWORD" \
            --bootstrap-region-id RegionOne \
            --bootstrap-admin-url "$KEYSTONE_URL" \
            --bootstrap-internal-url "$KEYSTONE_URL" \
            --bootstrap-public-url "$KEYSTONE_URL"
    } >"$LOGS/keystone-manage.log" 2>&1 || die "keystone-manage failed"
    gunicorn_daemon keystone keystone_wsgi "${PORTS[keystone]}"
}

# The schema migrations take 15 s together; they run in the background
# while Keystone starts and gets its catalog.
sync_schemas() {
    local nova=(nova-manage --config-file "$ETC/nova/nova.conf")
    (
        placement-manage --config-file "$ETC/placement/placement.conf" db sync
    ) >"$LOGS/placement-dbsync.log" 2>&1 &
    SYNC_PIDS=($!)
    (
        "${nova[@]}" api_db sync
        "${nova[@]}" cell_v2 map_cell0 --database_connection "$(db_url nova_cell0)"
        "${nova[@]}" cell_v2 create_cell --name cell1
        "${nova[@]}" db sync
    ) >"$LOGS/nova-dbsync.log" 2>&1 &
    SYNC_PIDS+=($!)
    (
        glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync
    ) >"$LOGS/glance-dbsync.log" 2>&1 &
    SYNC_PIDS+=($!)
    (
        neutron-db-manage --config-file "$ETC/neutron/neutron.conf" \
            --config-file "$ETC/neutron/plugins/ml2/ml2_conf.ini" upgrade heads
    ) >"$LOGS/neutron-dbsync.log" 2>&1 &
    SYNC_PIDS+=($!)
    (
        cinder-manage --config-file "$ETC/cinder/cinder.conf" db sync
    ) >"$LOGS/cinder-dbsync.log" 2>&1 &
    SYNC_PIDS+=($!)
}

wait_schemas() {
    local pid
    STEP_LOG="$LOGS/*-dbsync.log"
    for pid in "${SYNC_PIDS[@]}"; do
        wait "$pid" || die "a database schema sync failed"
    done
    say "database schemas ready"
}

start_services() {
    step services "starting Placement, Glance, Neutron, Nova and Cinder"
    gunicorn_daemon placement placement_wsgi "${PORTS[placement]}"
    gunicorn_daemon glance-api glance_wsgi "${PORTS[glance-api]}"
    gunicorn_daemon neutron-api neutron_wsgi "${PORTS[neutron-api]}"
    gunicorn_daemon nova-api nova_wsgi "${PORTS[nova-api]}"
    gunicorn_daemon cinder-api cinder_wsgi "${PORTS[cinder-api]}"
    start_daemon nova-conductor nova-conductor --config-file "$ETC/nova/nova.conf"
    start_daemon nova-scheduler nova-scheduler --config-file "$ETC/nova/nova.conf"
    start_daemon cinder-scheduler cinder-scheduler --config-file "$ETC/cinder/cinder.conf"
    start_daemon cinder-volume cinder-volume --config-file "$ETC/cinder/cinder.conf"
    # nova-compute registers its resource provider at start-up.
    wait_http placement "http://127.0.0.1:${PORTS[placement]}/"
    start_daemon nova-compute nova-compute --config-file "$ETC/nova/nova-compute.conf"
}

wait_services() {
    local name
    for name in "${API_SERVICES[@]}"; do
        wait_http "$name" "http://127.0.0.1:${PORTS[$name]}/"
    done
    say "APIs answer"
}

# A boot fails with "Host ... is not mapped to any cell" until the compute
# node, once registered, is mapped into cell1.
map_compute_host() {
    local deadline=$((SECONDS + 90)) count=0
    STEP_LOG=$LOGS/nova-compute.log
    while ((count < 1)); do
        is_running nova-compute || die "nova-compute exited"
        ((SECONDS < deadline)) || die "nova-compute did not register"
        sleep 0.5
        count=$(mysql_root -N -e \
            'SELECT COUNT(*) FROM nova.compute_nodes WHERE deleted = 0')
    done
    STEP_LOG=$LOGS/nova-discover.log
    nova-manage --config-file "$ETC/nova/nova.conf" cell_v2 discover_hosts \
        >"$STEP_LOG" 2>&1 || die "nova-manage cell_v2 discover_hosts failed"
    say "nova-compute registered and mapped"
}

main() {
    local reseed=false
    case "${1:-}" in
        --reseed) reseed=true ;;
        "") ;;
        -h | --help) usage && exit 0 ;;
        *) usage >&2 && exit 2 ;;
    esac

    # Order matters for down.sh, which stops them in reverse.
    DAEMONS=(mysqld epmd rabbitmq rabbitmq-beam keystone placement glance-api
        neutron-api nova-api cinder-api nova-conductor nova-scheduler
        cinder-scheduler cinder-volume nova-compute)

    if ! $reseed && already_up; then
        say "already up and seeded; nothing to do (reseed: make testcloud-seed)"
        return
    fi
    trap 'on_error $?' ERR

    install_debian_packages
    install_python_packages
    export PATH=$VENV/bin:$PATH PYTHONWARNINGS=ignore
    # nova 34's native-threading mode; the eventlet one is deprecated.
    export OS_NOVA_DISABLE_EVENTLET_PATCHING=true
    export OS_KEYSTONE_CONFIG_DIR=$ETC/keystone \
        OS_PLACEMENT_CONFIG_DIR=$ETC/placement OS_NOVA_CONFIG_DIR=$ETC/nova \
        OS_GLANCE_CONFIG_DIR=$ETC/glance OS_NEUTRON_CONFIG_DIR=$ETC/neutron

    fresh_state
    check_ports_free
    write_all_configs
    say "configuration written to $ETC"

    start_mariadb
    start_rabbitmq
    create_databases
    say "MariaDB up"
    sync_schemas
    start_keystone
    wait_http keystone "$KEYSTONE_URL"
    say "Keystone up"
    step catalog "registering service users and endpoints"
    python "$TESTCLOUD_TOOLS/catalog.py" >"$LOGS/catalog.log" 2>&1 \
        || die "catalog registration failed"

    wait_schemas
    wait_rabbitmq
    start_services
    wait_services
    map_compute_host

    step seed "seeding the accounting scenario (about 30 s)"
    python "$TESTCLOUD_TOOLS/seed.py" 2>&1 | tee "$LOGS/seed.log" \
        | sed -u 's/^/  /' || die "seeding failed"
    say "ready: source .testcloud/env.sh; truth in .testcloud/truth.json"
}

main "$@"
