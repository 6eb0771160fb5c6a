#!/usr/bin/env bash
# Install what the local stack needs and is missing, then sync the Python workspace.
#
#   deploy/local/bootstrap.sh                # system prerequisites + `uv sync --frozen`
#   deploy/local/bootstrap.sh --system-only  # system prerequisites only (used by infra.sh up)
#
# Idempotent: every step first checks whether its tool is already there, so a second
# run does no installing and takes about a second. A new machine may lack any of
# PostgreSQL, a JDK, Maven, uv, nginx or Node.js, so this script is the one place that installs them.
# nginx is the local gateway: one origin (:8000) for the five APIs (deploy/gateway).
# Node.js (and npm) serve two checks and the client: tools/bpmn-check reads docs/examples/*.bpmn the
# way standard BPMN modellers do, tools/asyncapi-check reads docs/asyncapi.yaml with the official
# AsyncAPI parser, clients/typescript is the typed client generated from docs/openapi.json; their
# node_modules come from their package-lock.json files (`npm ci`).
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SYSTEM_ONLY=false
if [[ "${1:-}" == "--system-only" ]]; then
    SYSTEM_ONLY=true
fi

UV_VERSION=0.13.8
# Kafka 4.x brokers need Java 17 or newer.
MIN_JAVA=17

# apt-get update is slow and needed at most once per run, and only if we install something.
APT_UPDATED=false
apt_install() {
    if [[ $EUID -ne 0 ]]; then
        die "need to install: $* -- run this script as root, or install them yourself"
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [[ $APT_UPDATED == false ]]; then
        log "apt-get update"
        apt-get update -qq
        APT_UPDATED=true
    fi
    log "apt-get install $*"
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bindir() {
    # Highest installed major version of the Debian PostgreSQL server packages.
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
        printf '%s' "$d"
    fi
}

ensure_postgres() {
    if [[ -n "$(pg_bindir)" ]]; then
        return
    fi
    # The Debian package would otherwise create and start a system cluster on 5432.
    # We run our own cluster under .local/, so ask postgresql-common not to make one.
    mkdir -p /etc/postgresql-common/createcluster.d
    if [[ ! -e /etc/postgresql-common/createcluster.d/conveyor-no-main.conf ]]; then
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/conveyor-no-main.conf
    fi
    apt_install postgresql
    [[ -n "$(pg_bindir)" ]] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
}

java_major() {
    # `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15  (to stderr)
    java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

ensure_java() {
    if command -v java >/dev/null 2>&1 && [[ "$(java_major)" -ge $MIN_JAVA ]]; then
        return
    fi
    apt_install openjdk-17-jre-headless
}

ensure_maven() {
    if command -v mvn >/dev/null 2>&1; then
        return
    fi
    apt_install maven
}

ensure_misc() {
    # flock (util-linux) guards concurrent infra.sh runs; it is on every Debian, but check.
    if ! command -v flock >/dev/null 2>&1; then
        apt_install util-linux
    fi
}

ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        local have
        have="$(uv --version | awk '{print $2}')"
        if [[ "$have" != "$UV_VERSION" ]]; then
            log "note: uv $have found (project pins $UV_VERSION); using it"
        fi
        return
    fi
    log "installing uv==$UV_VERSION with pip"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        apt_install python3-pip
    fi
    # Debian's own python3 is "externally managed" (PEP 668); uv is a standalone
    # binary, so installing it beside the system packages is harmless.
    python3 -m pip install -q "uv==$UV_VERSION" ||
        python3 -m pip install -q --break-system-packages "uv==$UV_VERSION"
    hash -r
    command -v uv >/dev/null 2>&1 || die "uv installed but not on PATH (check ~/.local/bin)"
}

ensure_nginx() {
    # The local gateway (one origin for the five APIs, deploy/gateway). Debian's package would start
    # a system nginx on :80 where services may start; ours runs from .local/gateway on :8000.
    if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
        return
    fi
    apt_install nginx-light
}

ensure_node() {
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
        return
    fi
    apt_install nodejs npm
}

# `npm ci` wipes and reinstalls node_modules, so it runs only when the lock file changed since the
# last install (its hash is kept beside the modules).
npm_ci() {
    local dir="$1" stamp lock_hash
    stamp="$dir/node_modules/.conveyor-lock.sha256"
    lock_hash="$(sha256sum "$dir/package-lock.json" | awk '{print $1}')"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
        return
    fi
    log "npm ci in ${dir#"$REPO_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    printf '%s\n' "$lock_hash" >"$stamp"
}

ensure_misc
ensure_postgres
ensure_java
ensure_maven
ensure_uv
ensure_nginx

if [[ $SYSTEM_ONLY == false ]]; then
    # --frozen: install exactly what uv.lock says; never re-resolve behind anyone's back.
    log "uv sync --frozen"
    (cd "$REPO_ROOT" && uv sync --frozen --quiet)
    ensure_node
    npm_ci "$REPO_ROOT/tools/bpmn-check"
    npm_ci "$REPO_ROOT/tools/asyncapi-check"
    npm_ci "$REPO_ROOT/clients/typescript"
fi
log "prerequisites ok: postgres $(pg_bindir), java $(java_major), $(command -v mvn), $(uv --version)"
