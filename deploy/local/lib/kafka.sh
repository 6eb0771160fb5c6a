# shellcheck shell=bash
# Single-node Apache Kafka (KRaft, broker+controller in one JVM) of this checkout.
# Jars come from Maven Central via deploy/local/kafka/pom.xml; state under .local/kafka.
# Sourced by infra.sh after lib/common.sh.

KAFKA_ROOT="$LOCAL_DIR/kafka"
KAFKA_LIB="$KAFKA_ROOT/lib"
KAFKA_DATA="$KAFKA_ROOT/data"
KAFKA_LOGS="$KAFKA_ROOT/logs"
KAFKA_CONFIG="$KAFKA_ROOT/server.properties"
KAFKA_PIDFILE="$KAFKA_ROOT/kafka.pid"
KAFKA_POM="$DEPLOY_DIR/kafka/pom.xml"
# How long start/restart waits for the broker to serve metadata before giving up.
KAFKA_READY_TIMEOUT="${CONVEYOR_KAFKA_READY_TIMEOUT:-120}"
KAFKA_HEAP_OPTS="${CONVEYOR_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"

kafka_install_jars() {
    # The pom's hash is stored next to the jars: unchanged pom, nothing to do (no JVM, no mvn).
    local want have
    want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
    have="$(cat "$KAFKA_LIB/.pom.sha256" 2>/dev/null || true)"
    if [[ "$want" == "$have" ]]; then
        return
    fi
    command -v mvn >/dev/null 2>&1 || die "maven not found; run deploy/local/bootstrap.sh"
    local tmp="$KAFKA_ROOT/lib.tmp"
    rm -rf "$tmp"
    mkdir -p "$KAFKA_ROOT"
    local mvn_args=(-q -B --no-transfer-progress -f "$KAFKA_POM" dependency:copy-dependencies
        -DincludeScope=runtime "-DoutputDirectory=$tmp")
    # Offline first: when ~/.m2 already has everything (a second checkout, CI on a used
    # machine) this avoids any network round trip. Fall back to Maven Central.
    log "resolving Kafka jars with maven (deploy/local/kafka/pom.xml -> $KAFKA_LIB)"
    if ! mvn -o "${mvn_args[@]}" >/dev/null 2>&1; then
        rm -rf "$tmp"
        mvn "${mvn_args[@]}" >"$KAFKA_ROOT/maven.log" 2>&1 ||
            die "maven could not resolve the Kafka jars; see $KAFKA_ROOT/maven.log"
    fi
    echo "$want" >"$tmp/.pom.sha256"
    rm -rf "$KAFKA_LIB"
    mv "$tmp" "$KAFKA_LIB"
}

# kafka_java_cmd MAINCLASS ARGS...: the full java command line, in the array JAVA_CMD.
kafka_java_cmd() {
    local heap
    read -r -a heap <<<"$KAFKA_HEAP_OPTS"
    # -cp with a wildcard: the JVM expands lib/* itself (the quotes keep bash from doing it).
    JAVA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true
        "-Dkafka.logs.dir=$KAFKA_LOGS"
        "-Dlog4j2.configurationFile=$DEPLOY_DIR/kafka/log4j2.xml"
        -cp "$KAFKA_LIB/*" "$@")
}

kafka_java() {
    kafka_java_cmd "$@"
    "${JAVA_CMD[@]}"
}

kafka_write_config() {
    # Regenerated on every start so a port or setting change here applies on restart.
    mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
    cat >"$KAFKA_CONFIG" <<CONF
# Written by deploy/local/lib/kafka.sh on each start -- edit that file, not this one.
node.id=1
process.roles=broker,controller
# Static single-voter quorum: this node is its own controller.
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA

# One broker: every internal topic has exactly one replica.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests create consumer groups all the time; don't wait 3 s for more members to join.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true

# Sized for a 2-core machine.
num.network.threads=3
num.io.threads=4
CONF
}

kafka_format() {
    # KRaft needs its log dir formatted once with a cluster id; after that, never again
    # (formatting would lose data). meta.properties is the marker the tool itself writes.
    if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
        return
    fi
    local cluster_id
    if [[ ! -s "$KAFKA_ROOT/cluster-id" ]]; then
        kafka_java kafka.tools.StorageTool random-uuid >"$KAFKA_ROOT/cluster-id"
    fi
    cluster_id="$(tr -d '[:space:]' <"$KAFKA_ROOT/cluster-id")"
    log "formatting Kafka storage (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" >>"$KAFKA_LOGS/format.log" 2>&1 ||
        die "kafka storage format failed; see $KAFKA_LOGS/format.log"
}

kafka_running() {
    pid_alive "$KAFKA_PIDFILE" "$KAFKA_CONFIG"
}

kafka_pid() {
    head -n1 "$KAFKA_PIDFILE" 2>/dev/null || true
}

kafka_probe() {
    local py
    py="$(venv_python)"
    [[ -x "$py" ]] || die "no project virtualenv at $REPO_ROOT/.venv; run deploy/local/bootstrap.sh"
    "$py" "$DEPLOY_DIR/lib/kafka_probe.py" "$HOST:$KAFKA_PORT" "${1:-5}"
}

# The JVM we started is alive. Not kafka_running: right after the fork the child is still the
# shell on its way to exec java, and its command line does not name the config yet, so that check
# failed a start on a loaded machine ("Kafka exited during startup" while it was starting).
kafka_started_alive() {
    local pid
    pid="$(kafka_pid)"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

kafka_wait_ready() {
    local deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kafka_started_alive; then
            tail -n 30 "$KAFKA_LOGS/server.log" "$KAFKA_LOGS/kafka.out" >&2 2>/dev/null || true
            die "Kafka exited during startup; see $KAFKA_LOGS/server.log and $KAFKA_LOGS/kafka.out"
        fi
        if port_open "$KAFKA_PORT" && kafka_probe 5 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    kafka_probe 5 || true
    die "Kafka did not serve metadata on $HOST:$KAFKA_PORT within ${KAFKA_READY_TIMEOUT}s; see $KAFKA_LOGS/server.log"
}

kafka_start() {
    kafka_install_jars
    if kafka_running; then
        log "kafka already running (pid $(kafka_pid), port $KAFKA_PORT)"
        kafka_wait_ready
        return
    fi
    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_open "$port"; then
            die "port $port is taken by another process (another checkout's infra? run its 'infra.sh down', or set CONVEYOR_KAFKA_PORT/CONVEYOR_KAFKA_CONTROLLER_PORT)"
        fi
    done
    kafka_write_config
    kafka_format
    log "starting kafka on $HOST:$KAFKA_PORT (log: $KAFKA_LOGS/server.log)"
    local started=$SECONDS
    # setsid + nohup: the broker outlives this script, make, and a Ctrl-C in the terminal.
    # (A script has no job control, so the background child is not a process-group leader
    # and setsid execs in place: $! is the JVM's pid.)
    kafka_java_cmd kafka.Kafka "$KAFKA_CONFIG"
    # 9>&- : don't hand infra.sh's lock file descriptor to the long-lived broker.
    setsid nohup "${JAVA_CMD[@]}" >>"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    echo $! >"$KAFKA_PIDFILE"
    kafka_wait_ready
    log "kafka ready after $((SECONDS - started))s (pid $(kafka_pid))"
}

kafka_stop() {
    if ! kafka_running; then
        log "kafka not running"
        rm -f "$KAFKA_PIDFILE"
        return
    fi
    local pid
    pid="$(kafka_pid)"
    log "stopping kafka (pid $pid)"
    # SIGTERM runs the broker's controlled shutdown (flushes logs, closes the quorum).
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "kafka still alive after 60s; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
    fi
    rm -f "$KAFKA_PIDFILE"
}

kafka_status() {
    local state answers
    if kafka_running; then state="running pid $(kafka_pid)"; else state="stopped"; fi
    if port_open "$KAFKA_PORT" && kafka_probe 3 2>/dev/null; then answers="answers"; else answers="no answer"; fi
    printf '%-10s %-22s %-22s %s\n' kafka "$state" "$HOST:$KAFKA_PORT" "$answers"
}
