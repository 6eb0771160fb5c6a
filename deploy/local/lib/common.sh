# shellcheck shell=bash
# Shared settings and helpers for the deploy/local scripts. Sourced, never run.
#
# Everything the local stack writes lives under "$REPO_ROOT/.local" (git-ignored),
# so deleting that folder is a full reset and two checkouts never share state.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DEPLOY_DIR="$REPO_ROOT/deploy/local"
LOCAL_DIR="$REPO_ROOT/.local"

# Ports. Precedence: environment > .local/ports.env (what this checkout used last) > defaults.
# The override exists so a second checkout (e.g. CI's fresh clone) can run next to this one.
PORTS_FILE="$LOCAL_DIR/ports.env"
_env_pg_port="${CONVEYOR_PG_PORT:-}"
_env_kafka_port="${CONVEYOR_KAFKA_PORT:-}"
_env_kafka_controller_port="${CONVEYOR_KAFKA_CONTROLLER_PORT:-}"
if [[ -f "$PORTS_FILE" ]]; then
    # shellcheck source=/dev/null
    source "$PORTS_FILE"
fi
# Ports sit below 32768, outside Linux's ephemeral range (32768-60999): a port in that range can be
# taken by any outgoing connection while a server is restarting, and the server then fails to bind.
PG_PORT="${_env_pg_port:-${CONVEYOR_PG_PORT:-15432}}"
KAFKA_PORT="${_env_kafka_port:-${CONVEYOR_KAFKA_PORT:-19092}}"
KAFKA_CONTROLLER_PORT="${_env_kafka_controller_port:-${CONVEYOR_KAFKA_CONTROLLER_PORT:-19093}}"
# What this script resolved is what the scripts it runs use: sourcing ports.env above also changed the
# exported variables, and run.sh's infra.sh would otherwise take the file's ports for the environment's.
export CONVEYOR_PG_PORT=$PG_PORT CONVEYOR_KAFKA_PORT=$KAFKA_PORT CONVEYOR_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
HOST=127.0.0.1

# The five service databases; each service owns exactly one.
SERVICES=(entities pipelines automation notifications reporting)

# Unprivileged OS user that owns the PostgreSQL data dir when we run as root
# (initdb and postgres refuse to run as root).
PG_OS_USER="${CONVEYOR_PG_OS_USER:-conveyor}"
# PostgreSQL superuser inside the cluster.
PG_SUPERUSER=conveyor

log() { printf '[local] %s\n' "$*" >&2; }
die() { printf '[local] ERROR: %s\n' "$*" >&2; exit 1; }

save_ports() {
    mkdir -p "$LOCAL_DIR"
    cat >"$PORTS_FILE" <<PORTS
# Written by deploy/local; the ports this checkout's infrastructure uses.
CONVEYOR_PG_PORT=$PG_PORT
CONVEYOR_KAFKA_PORT=$KAFKA_PORT
CONVEYOR_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
PORTS
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# pid_alive PIDFILE PATTERN: true if PIDFILE names a live process whose command
# line contains PATTERN (guards against a stale pid reused by an unrelated process).
pid_alive() {
    local pidfile=$1 pattern=$2 pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# with_lock CMD...: serialise start/stop of this checkout's infrastructure, so two
# `make test` runs started together do not both try to initdb or start Kafka.
with_lock() {
    mkdir -p "$LOCAL_DIR"
    # Daemons must be started with 9>&- so they don't inherit (and keep holding) the lock.
    # ("lock2": brokers started by a first version of these scripts may still hold infra.lock.)
    exec 9>"$LOCAL_DIR/infra.lock2"
    if ! flock -w 300 9; then
        die "timed out waiting for $LOCAL_DIR/infra.lock2 (another infra.sh is running?)"
    fi
    "$@"
}

# Python of the project's virtualenv: used for the Kafka readiness probe (aiokafka).
venv_python() { printf '%s/.venv/bin/python' "$REPO_ROOT"; }
