#!/usr/bin/env bash
# Run the whole product locally.
#
#   deploy/local/run.sh           infra up, migrate every service, create its Kafka topics, then
#                                 serve all five under honcho (one terminal, per-service log
#                                 prefixes; Ctrl-C stops them all)
#   deploy/local/run.sh migrate   infra up, migrate every service and create its topics, nothing else
#   deploy/local/run.sh --test-clock
#                                 serve as above, all five on one movable clock kept in
#                                 .local/test-clock.json (conveyor_kit.shared_clock): it runs on from
#                                 the wall clock's time (or from where it was left), and
#                                 POST /v1/test/clock on the gateway moves it for every service
#                                 (`make run ARGS=--test-clock`; README, "Trying things on a moved clock")
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

MODE=serve
TEST_CLOCK=false
for arg in "$@"; do
    case "$arg" in
        serve | migrate) MODE="$arg" ;;
        --test-clock) TEST_CLOCK=true ;;
        *) die "usage: run.sh [migrate] [--test-clock]" ;;
    esac
done

# Each service's HTTP port; docs/local-infrastructure.md lists the same.
declare -A HTTP_PORT=([entities]=8001 [pipelines]=8002 [automation]=8003 [notifications]=8004 [reporting]=8005)
# Where the service kit (libs/servicekit, conveyor_kit.app) serves the OpenAPI UI.
DOCS_PATH=/v1/docs
# The one public origin: nginx routes each path to the service that owns it
# (deploy/helm/conveyor/public-paths.yaml), as the chart's Ingress does in a cluster.
GATEWAY_PORT="${CONVEYOR_GATEWAY_PORT:-8000}"

"$DEPLOY_DIR/infra.sh" up
cd "$REPO_ROOT"
# One sync up front (a no-op when nothing changed); the services then start with --no-sync.
uv sync --frozen --quiet

# Every service reads only its own prefix, so exporting all of them to all is harmless.
export KAFKA_BOOTSTRAP_SERVERS="$HOST:$KAFKA_PORT"
export CONVEYOR_ENVIRONMENT=development
# A console or a frontend on any localhost port may call the APIs from the browser (unless set).
export CONVEYOR_CORS_ORIGINS="${CONVEYOR_CORS_ORIGINS:-http://localhost:*,http://127.0.0.1:*}"
for svc in "${SERVICES[@]}"; do
    upper="${svc^^}"
    export "${upper}_DATABASE_URL=postgresql://$PG_SUPERUSER@$HOST:$PG_PORT/conveyor_$svc"
    export "${upper}_PORT=${HTTP_PORT[$svc]}"
done

for svc in "${SERVICES[@]}"; do
    log "migrating $svc (database conveyor_$svc)"
    uv run --frozen --no-sync python -m "$svc" migrate
done
# The topics exist before the services start: no consumer waits on "topic not found" for a relay
# to auto-create it with the broker's defaults (docs/operations.md, "Topics and partitions").
for svc in "${SERVICES[@]}"; do
    uv run --frozen --no-sync python -m "$svc" topics --partitions 3
done

if [[ "$MODE" == migrate ]]; then
    exit 0
fi

upstreams=()
for svc in "${SERVICES[@]}"; do
    upstreams+=(--upstream "$svc=$HOST:${HTTP_PORT[$svc]}")
done
gateway_flags=()
if [[ "$TEST_CLOCK" == true ]]; then
    # Every service reads this file for the time (the kit's FileClock); the gateway routes /v1/test/clock.
    export CONVEYOR_TEST_CLOCK_FILE="$LOCAL_DIR/test-clock.json"
    if [[ ! -f "$CONVEYOR_TEST_CLOCK_FILE" ]]; then
        log "a new shared clock, running on from now: $CONVEYOR_TEST_CLOCK_FILE"
        uv run --frozen --no-sync python -m conveyor_kit.shared_clock "$CONVEYOR_TEST_CLOCK_FILE" --ticking >/dev/null
    fi
    gateway_flags+=(--test-clock)
fi
uv run --frozen --no-sync python deploy/gateway/gateway.py nginx \
    --listen "$HOST:$GATEWAY_PORT" "${upstreams[@]}" "${gateway_flags[@]}" --home "$LOCAL_DIR/gateway" >/dev/null
CONVEYOR_NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
export CONVEYOR_NGINX CONVEYOR_GATEWAY_HOME="$LOCAL_DIR/gateway"

echo
echo "Conveyor API, all five services on one origin: http://$HOST:$GATEWAY_PORT"
echo "  (docs: http://$HOST:$GATEWAY_PORT$DOCS_PATH, OpenAPI: http://$HOST:$GATEWAY_PORT/openapi.json)"
echo "Each service on its own port (Ctrl-C stops them all):"
for svc in "${SERVICES[@]}"; do
    printf '  %-14s http://%s:%s   docs: http://%s:%s%s\n' \
        "$svc" "$HOST" "${HTTP_PORT[$svc]}" "$HOST" "${HTTP_PORT[$svc]}" "$DOCS_PATH"
done
echo "  postgres       postgresql://$PG_SUPERUSER@$HOST:$PG_PORT/conveyor_<service>"
echo "  kafka          $KAFKA_BOOTSTRAP_SERVERS"
if [[ "$TEST_CLOCK" == true ]]; then
    echo "  test clock     $CONVEYOR_TEST_CLOCK_FILE, now $(uv run --frozen --no-sync python -m conveyor_kit.shared_clock "$CONVEYOR_TEST_CLOCK_FILE")"
    echo "                 move it: curl -X POST http://$HOST:$GATEWAY_PORT/v1/test/clock -H 'content-type: application/json' -d '{\"advance_seconds\": 86400}'"
fi
echo

# exec: honcho becomes the foreground process, gets Ctrl-C and stops every service.
exec uv run --frozen --no-sync honcho start --procfile "$DEPLOY_DIR/Procfile" --app-root "$REPO_ROOT"
