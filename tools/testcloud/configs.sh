# Configuration files for every service, written fresh on each start.
# Sourced by up.sh after lib.sh. Only the options that differ from the
# services' defaults, each with the reason it is set.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are used by the sourcing scripts

KEYSTONE_URL=http://127.0.0.1:5000/v3
AMQP_URL=rabbit://guest:guest@127.0.0.1:5672/
MYSQL_SOCK=$RUN/mysqld.sock
MYCNF=$ETC/mysql/my.cnf
# Throw-away credentials of a loopback-only cloud, shared with seed.py.
ADMIN_PASSWORD=admin-secret
DB_PASSWORD=db-secret

db_url() {
    echo "mysql+pymysql://openstack:$DB_PASSWORD@localhost/$1?unix_socket=$MYSQL_SOCK&charset=utf8"
}

# Service users all live in project `service`, domain Default; seed.py
# creates them with the password "<user>-secret".
authtoken_section() {
    cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE_URL
auth_url = $KEYSTONE_URL
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = $1
password = $1-secret
EOF
}

# A [group] through which one service calls another as its service user.
client_section() {
    cat <<EOF
[$1]
auth_type = password
auth_url = $KEYSTONE_URL
user_domain_name = Default
project_domain_name = Default
project_name = service
username = $2
password = $2-secret
region_name = RegionOne
EOF
}

write_mysql_config() {
    mkdir -p "$ETC/mysql"
    # skip-networking: the database is reachable only through its socket.
    cat >"$MYCNF" <<EOF
[mysqld]
datadir = $DATA/mysql
socket = $MYSQL_SOCK
pid-file = $RUN/mysqld.mariadb.pid
log-error = $LOGS/mysqld.log
skip-networking
skip-name-resolve
user = root
max_connections = 1000
innodb_buffer_pool_size = 256M
innodb_flush_log_at_trx_commit = 2
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
[client]
socket = $MYSQL_SOCK
user = root
EOF
}

# RabbitMQ is configured through the environment of its start script.
write_rabbitmq_config() {
    mkdir -p "$ETC/rabbitmq"
    echo '[].' >"$ETC/rabbitmq/enabled_plugins"
    cat >"$ETC/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:${PORTS[rabbitmq]}
loopback_users.guest = true
EOF
    cat >"$ETC/rabbitmq/env" <<EOF
# Sourced with set -a by up.sh, so plain shell assignments.
HOME=$DATA/rabbitmq
RABBITMQ_NODENAME=testcloud@localhost
RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
RABBITMQ_NODE_PORT=${PORTS[rabbitmq]}
RABBITMQ_DIST_PORT=${PORTS[rabbitmq-dist]}
ERL_EPMD_ADDRESS=127.0.0.1
ERL_EPMD_PORT=${PORTS[epmd]}
RABBITMQ_MNESIA_BASE=$DATA/rabbitmq/mnesia
RABBITMQ_LOG_BASE=$LOGS/rabbitmq
RABBITMQ_PID_FILE=$RUN/rabbitmq-beam.pid
RABBITMQ_ENABLED_PLUGINS_FILE=$ETC/rabbitmq/enabled_plugins
RABBITMQ_CONFIG_FILE=$ETC/rabbitmq/rabbitmq
RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
}

write_keystone_config() {
    mkdir -p "$ETC/keystone" "$DATA/keystone"
    # sqlite is enough: only the one Keystone process writes to it.
    cat >"$ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LOGS/keystone.log
[database]
connection = sqlite:///$DATA/keystone/keystone.db
[token]
provider = fernet
expiration = 86400
[fernet_tokens]
key_repository = $DATA/keystone/fernet-keys
[fernet_receipts]
key_repository = $DATA/keystone/fernet-keys
[credential]
key_repository = $DATA/keystone/credential-keys
EOF
}

write_placement_config() {
    mkdir -p "$ETC/placement"
    cat >"$ETC/placement/placement.conf" <<EOF
[DEFAULT]
log_file = $LOGS/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = $(db_url placement)
$(authtoken_section placement)
EOF
}

write_glance_config() {
    mkdir -p "$ETC/glance" "$DATA/glance"/{images,staging,tasks}
    cp "$VENV/etc/glance/glance-api-paste.ini" "$ETC/glance/"
    cat >"$ETC/glance/glance-api.conf" <<EOF
[DEFAULT]
log_file = $LOGS/glance-api.log
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $DATA/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $DATA/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $DATA/glance/tasks
[database]
connection = $(db_url glance)
[paste_deploy]
flavor = keystone
config_file = $ETC/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $DATA/locks
$(authtoken_section glance)
EOF
}

# Neutron runs as an API server only: no agents, no mechanism drivers.
# Nova asks it for ports and security groups on every server listing, and
# the floating IPs are plain database records.
write_neutron_config() {
    mkdir -p "$ETC/neutron/plugins/ml2" "$DATA/neutron"
    cp "$VENV/etc/neutron/api-paste.ini" "$ETC/neutron/"
    cat >"$ETC/neutron/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $AMQP_URL
state_path = $DATA/neutron
log_file = $LOGS/neutron-api.log
api_paste_config = $ETC/neutron/api-paste.ini
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
[database]
connection = $(db_url neutron)
[oslo_concurrency]
lock_path = $DATA/locks
$(authtoken_section neutron)
EOF
    # `private` carries the port a floating IP is associated with.
    cat >"$ETC/neutron/plugins/ml2/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat
tenant_network_types =
mechanism_drivers =
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public,private
EOF
}

write_cinder_config() {
    mkdir -p "$ETC/cinder" "$DATA/cinder"
    cp "$VENV/etc/cinder/api-paste.ini" "$VENV/etc/cinder/resource_filters.json" \
        "$ETC/cinder/"
    # The fake driver (shipped in the cinder wheel) logs calls instead of
    # touching LVM or iSCSI.
    cat >"$ETC/cinder/cinder.conf" <<EOF
[DEFAULT]
transport_url = $AMQP_URL
auth_strategy = keystone
enabled_backends = fake
default_volume_type = fake
state_path = $DATA/cinder
log_dir = $LOGS
my_ip = 127.0.0.1
host = testcloud-volume
api_paste_config = $ETC/cinder/api-paste.ini
resource_query_filters_file = $ETC/cinder/resource_filters.json
[database]
connection = $(db_url cinder)
[oslo_concurrency]
lock_path = $DATA/locks
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
$(authtoken_section cinder)
$(client_section nova cinder)
EOF
}

# nova-compute gets a file without database sections: it must reach the
# database through nova-conductor and complains at start-up otherwise.
write_nova_config() {
    mkdir -p "$ETC/nova" "$DATA/nova"
    cp "$VENV/etc/nova/api-paste.ini" "$ETC/nova/"
    local common
    # FakeDriverWithoutFakeNodes keeps its node identity in state_path, so
    # nova-compute restarts cleanly. shelved_offload_time = -1: a shelved
    # server stays SHELVED until seed.py offloads it on purpose.
    common=$(
        cat <<EOF
[DEFAULT]
transport_url = $AMQP_URL
compute_driver = fake.FakeDriverWithoutFakeNodes
host = testcloud-compute
my_ip = 127.0.0.1
state_path = $DATA/nova
log_dir = $LOGS
allow_resize_to_same_host = true
shelved_offload_time = -1
[api]
auth_strategy = keystone
[oslo_concurrency]
lock_path = $DATA/locks
[scheduler]
workers = 1
[conductor]
workers = 1
[quota]
driver = nova.quota.NoopQuotaDriver
[compute]
initial_cpu_allocation_ratio = 16.0
initial_ram_allocation_ratio = 16.0
initial_disk_allocation_ratio = 16.0
[vnc]
enabled = false
[wsgi]
api_paste_config = $ETC/nova/api-paste.ini
$(authtoken_section nova)
$(client_section placement nova)
$(client_section neutron nova)
$(client_section cinder nova)
os_region_name = RegionOne
[glance]
region_name = RegionOne
EOF
    )
    printf '%s\n' "$common" >"$ETC/nova/nova-compute.conf"
    printf '%s\n[api_database]\nconnection = %s\n[database]\nconnection = %s\n' \
        "$common" "$(db_url nova_api)" "$(db_url nova)" >"$ETC/nova/nova.conf"
}

# WSGI entry points for gunicorn. The services parse sys.argv with
# oslo.config and would die on gunicorn's own options, hence the reset.
write_wsgi_modules() {
    mkdir -p "$TC/wsgi"
    local name module
    for name in keystone:keystone.wsgi.api placement:placement.wsgi.api \
        nova:nova.wsgi.osapi_compute glance:glance.wsgi.api \
        neutron:neutron.wsgi.api; do
        module=${name#*:}
        printf 'import sys\n\nsys.argv = sys.argv[:1]\nfrom %s import application  # noqa: E402,F401\n' \
            "$module" >"$TC/wsgi/${name%%:*}_wsgi.py"
    done
    # With SQLAlchemy 2.1, Port.port_forwardings is a backref that exists
    # only once all mappers are configured; every port listing fails
    # without this.
    printf 'from sqlalchemy import orm\n\norm.configure_mappers()\n' \
        >>"$TC/wsgi/neutron_wsgi.py"
    # cinder's application reads its config file name from sys.argv.
    printf 'import sys\n\nsys.argv = [sys.argv[0], "--config-file", "%s"]\nfrom cinder.wsgi.api import application  # noqa: E402,F401\n' \
        "$ETC/cinder/cinder.conf" >"$TC/wsgi/cinder_wsgi.py"
}

write_all_configs() {
    mkdir -p "$DATA/locks" "$LOGS/rabbitmq"
    write_mysql_config
    write_rabbitmq_config
    write_keystone_config
    write_placement_config
    write_glance_config
    write_neutron_config
    write_cinder_config
    write_nova_config
    write_wsgi_modules
}
