#!/usr/bin/env bash
# Local PostgreSQL + Kafka for development, tests and benchmarks (no Docker needed).
#
#   infra.sh up                 install what is missing, start both (reuses running ones)
#   infra.sh down               stop both (data is kept under .local/)
#   infra.sh status             pid, port and whether each component answers
#   infra.sh start-kafka | stop-kafka | restart-kafka     (fault-injection in tests)
#   infra.sh stop-postgres | start-postgres | restart-postgres
#   infra.sh reset              down, then delete all local data (jars are kept)
#
# State lives in "$REPO_ROOT/.local"; see docs/local-infrastructure.md.
set -euo pipefail

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib/common.sh
source "$(dirname "$SELF")/lib/common.sh"
# shellcheck source=lib/postgres.sh
source "$DEPLOY_DIR/lib/postgres.sh"
# shellcheck source=lib/kafka.sh
source "$DEPLOY_DIR/lib/kafka.sh"

INFRA_JSON="$LOCAL_DIR/infra.json"

write_infra_json() {
    # The contract with the test plugin (libs/testing) and anything else that needs
    # to find this checkout's infrastructure.
    cat >"$INFRA_JSON.tmp" <<JSON
{
  "postgres_dsn": "postgresql://$PG_SUPERUSER@$HOST:$PG_PORT/postgres",
  "kafka_bootstrap": "$HOST:$KAFKA_PORT",
  "control": "$SELF"
}
JSON
    mv "$INFRA_JSON.tmp" "$INFRA_JSON"
}

ensure_venv() {
    # The Kafka readiness probe runs on the project's virtualenv (aiokafka).
    if ! "$(venv_python)" -c "import aiokafka" >/dev/null 2>&1; then
        log "project virtualenv missing or incomplete: uv sync --frozen"
        (cd "$REPO_ROOT" && uv sync --frozen --quiet)
    fi
}

cmd_up() {
    local started=$SECONDS
    "$DEPLOY_DIR/bootstrap.sh" --system-only
    ensure_venv
    save_ports
    pg_start
    pg_create_databases
    kafka_start
    write_infra_json
    log "infrastructure up in $((SECONDS - started))s: postgres $HOST:$PG_PORT, kafka $HOST:$KAFKA_PORT ($INFRA_JSON)"
}

cmd_down() {
    kafka_stop
    pg_stop
    rm -f "$INFRA_JSON"
}

cmd_status() {
    printf '%-10s %-22s %-22s %s\n' COMPONENT STATE ADDRESS HEALTH
    pg_status
    kafka_status
    if [[ -f "$INFRA_JSON" ]]; then
        echo "infra.json: $INFRA_JSON"
    else
        echo "infra.json: missing (run: infra.sh up)"
    fi
}

cmd_restart_kafka() {
    kafka_stop
    kafka_start
}

cmd_restart_postgres() {
    pg_stop
    pg_start
}

cmd_reset() {
    cmd_down
    log "deleting $PG_ROOT, $KAFKA_DATA, $KAFKA_LOGS"
    rm -rf "$PG_ROOT" "$KAFKA_DATA" "$KAFKA_LOGS" "$KAFKA_ROOT/cluster-id" "$KAFKA_CONFIG"
}

usage() {
    sed -n '2,11p' "$SELF" | sed 's/^# \{0,1\}//'
    exit 2
}

case "${1:-}" in
    up) with_lock cmd_up ;;
    down) with_lock cmd_down ;;
    status) cmd_status ;;
    start-kafka) with_lock kafka_start ;;
    stop-kafka) with_lock kafka_stop ;;
    restart-kafka) with_lock cmd_restart_kafka ;;
    stop-postgres) with_lock pg_stop ;;
    start-postgres) with_lock pg_start ;;
    restart-postgres) with_lock cmd_restart_postgres ;;
    reset) with_lock cmd_reset ;;
    *) usage ;;
esac
