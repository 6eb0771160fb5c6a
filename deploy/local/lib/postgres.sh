# shellcheck shell=bash
# PostgreSQL of this checkout: own data dir under .local/postgres, own port, own OS user.
# Sourced by infra.sh after lib/common.sh. Never touches a system cluster.

PG_ROOT="$LOCAL_DIR/postgres"
PGDATA_DIR="$PG_ROOT/data"
PG_LOG="$PG_ROOT/log/postgres.log"

pg_bin() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [[ -n "$d" && -x "$d/pg_ctl" ]] || die "PostgreSQL server binaries not found; run deploy/local/bootstrap.sh"
    printf '%s/%s' "$d" "$1"
}

# as_pg_user CMD...: initdb/postgres refuse to run as root, so as root we run them as
# an unprivileged system user; as a normal user we simply run them as ourselves.
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

pg_ensure_os_user() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating system user $PG_OS_USER (owns the PostgreSQL data dir)"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
    # The postgres process must be able to reach its data dir: every parent folder
    # needs the execute (traverse) bit for "other" (mktemp -d folders are 0700).
    local dir="$PG_ROOT"
    while [[ "$dir" != "/" ]]; do
        dir="$(dirname "$dir")"
        if ! runuser -u "$PG_OS_USER" -- test -x "$dir"; then
            log "chmod o+x $dir (so $PG_OS_USER can reach .local/postgres)"
            chmod o+x "$dir"
        fi
    done
}

pg_write_config() {
    # Regenerated on every start, so changing a setting here takes effect on restart.
    cat >"$PGDATA_DIR/conf.d/conveyor.conf" <<CONF
# Written by deploy/local/lib/postgres.sh on each start -- edit that file, not this one.
listen_addresses = '$HOST'
port = $PG_PORT
# TCP only: a unix socket path inside a deep checkout can exceed the 107-byte limit.
unix_socket_directories = ''
# Tests, services and benchmarks each hold pools; 300 leaves head room on a small box.
max_connections = 300
shared_buffers = 256MB
# Durability settings (fsync, synchronous_commit, full_page_writes) stay at their
# defaults on purpose: benchmarks here must measure what production would do.
log_min_duration_statement = 1000
# Which statements the time goes to (bench/system reads it when it is there; about 1-2 % of a
# statement's cost, as most production servers run it).
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

pg_init() {
    pg_ensure_os_user
    if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
        return
    fi
    log "initdb $PGDATA_DIR (superuser $PG_SUPERUSER, trust auth on loopback)"
    mkdir -p "$PGDATA_DIR" "$(dirname "$PG_LOG")"
    if [[ $EUID -eq 0 ]]; then
        chown -R "$PG_OS_USER:" "$PG_ROOT"
    fi
    chmod 700 "$PGDATA_DIR"
    as_pg_user "$(pg_bin initdb)" -D "$PGDATA_DIR" -U "$PG_SUPERUSER" --auth=trust \
        -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
    mkdir -p "$PGDATA_DIR/conf.d"
    [[ $EUID -ne 0 ]] || chown "$PG_OS_USER:" "$PGDATA_DIR/conf.d"
    echo "include_dir = 'conf.d'" >>"$PGDATA_DIR/postgresql.conf"
}

pg_pid() {
    head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true
}

pg_running() {
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] && as_pg_user "$(pg_bin pg_ctl)" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_answers() {
    "$(pg_bin pg_isready)" -q -h "$HOST" -p "$PG_PORT" -t 2
}

pg_start() {
    pg_init
    if pg_running; then
        log "postgres already running (pid $(pg_pid), port $PG_PORT)"
        return
    fi
    if port_open "$PG_PORT"; then
        die "port $PG_PORT is taken by another process (another checkout's infra? run its 'infra.sh down', or set CONVEYOR_PG_PORT)"
    fi
    pg_write_config
    log "starting postgres on $HOST:$PG_PORT (log: $PG_LOG)"
    # 9>&- : don't hand infra.sh's lock file descriptor to the long-lived postmaster.
    if ! as_pg_user "$(pg_bin pg_ctl)" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null 9>&-; then
        tail -n 20 "$PG_LOG" >&2 || true
        die "postgres did not start; see $PG_LOG"
    fi
}

pg_stop() {
    if ! pg_running; then
        log "postgres not running"
        return
    fi
    log "stopping postgres (pid $(pg_pid))"
    # fast: roll back open transactions and disconnect clients, then a clean shutdown.
    as_pg_user "$(pg_bin pg_ctl)" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
}

pg_psql() {
    "$(pg_bin psql)" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres "$@"
}

pg_create_databases() {
    local existing svc db
    existing="$(pg_psql -At -c "SELECT datname FROM pg_database")"
    for svc in "${SERVICES[@]}"; do
        db="conveyor_$svc"
        if ! grep -qx "$db" <<<"$existing"; then
            log "creating database $db"
            pg_psql -c "CREATE DATABASE \"$db\""
        fi
        # Closed to PUBLIC, so that a login made for one database (reporting's analysts) cannot connect
        # to the others; the owner keeps its rights (docs/analysts.md). Repeated on every start: idempotent.
        pg_psql -c "REVOKE CONNECT, TEMPORARY ON DATABASE \"$db\" FROM PUBLIC"
    done
}

pg_status() {
    local state answers
    if pg_running; then state="running pid $(pg_pid)"; else state="stopped"; fi
    if pg_answers; then answers="answers"; else answers="no answer"; fi
    printf '%-10s %-22s %-22s %s\n' postgres "$state" "$HOST:$PG_PORT" "$answers"
}
