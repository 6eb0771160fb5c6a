#!/usr/bin/env bash
# Install the chart tools into .local/tools/bin, reusing what is there:
#   helm   built from source with the machine's Go toolchain through the Go module proxy
#          (`go install`, no release binary download); the first build takes a few minutes,
#          later ones reuse Go's module and build caches (GOPATH, ~/.cache/go-build).
# Prints the path of helm. The schema validator (kubernetes-validate, which bundles the
# Kubernetes JSON schemas) comes from PyPI through `uv tool run`; see check.sh.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$REPO_ROOT/.local/tools/bin"
STAMP="$BIN/.helm-version"

log() { printf '[chart-tools] %s\n' "$*" >&2; }

if [[ -x "$BIN/helm" && "$(cat "$STAMP" 2>/dev/null)" == "$HELM_VERSION" ]]; then
    printf '%s\n' "$BIN/helm"
    exit 0
fi

command -v go >/dev/null 2>&1 || {
    log "helm is built with Go (go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION), but no 'go' is on PATH"
    exit 1
}

mkdir -p "$BIN"
# The same -X flags helm's own Makefile sets: its version, and the Kubernetes version that
# `helm template` assumes (from the client-go it is built with) instead of the fallback 1.20.
modroot="$(go env GOMODCACHE)/helm.sh/helm/v3@$HELM_VERSION"
if [[ ! -f "$modroot/go.mod" ]]; then
    log "downloading helm.sh/helm/v3@$HELM_VERSION from the Go module proxy"
    (cd "$BIN" && GOFLAGS=-mod=mod go mod download helm.sh/helm/v3@"$HELM_VERSION")
fi
client_go="$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$modroot/go.mod")"   # e.g. v0.36.2
k8s_minor="$(cut -d. -f2 <<<"$client_go")"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

log "building helm $HELM_VERSION with $(go version | awk '{print $3}') (first time: a few minutes)"
started=$SECONDS
GOBIN="$BIN" CGO_ENABLED=0 nice go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
printf '%s\n' "$HELM_VERSION" >"$STAMP"
log "helm built in $((SECONDS - started))s: $("$BIN/helm" version --short)"
printf '%s\n' "$BIN/helm"
