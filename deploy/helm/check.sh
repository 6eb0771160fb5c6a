#!/usr/bin/env bash
# `make chart-check`: everything about the deployment files that can be checked without a
# cluster or a Docker engine.
#   1. helm lint --strict (default values and values-production.yaml)
#   2. helm template for the default values, values-production.yaml and a values set that
#      switches on every optional part (tests/chart/values-all-features.yaml)
#   3. the rendered manifests against the Kubernetes JSON schemas (kubernetes-validate from
#      PyPI bundles them; strict: unknown fields fail) for the oldest and newest supported versions
#   4. values.schema.json rejects wrong values: each case in tests/chart/bad-values.txt must
#      make `helm template` fail
#   5. pytest tests/chart: assertions on the rendered manifests, the Dockerfile and the
#      compose file
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

CHART=deploy/helm/conveyor
OUT=.local/chart-check
KUBE_VERSIONS=(1.27.0 1.36.0)   # Chart.yaml's kubeVersion floor, and the version helm is built for
KUBERNETES_VALIDATE=(uv tool run --quiet --from kubernetes-validate==1.37.0 kubernetes-validate)

started=$SECONDS
step() { printf '\n==> %s\n' "$*"; }

step "helm (deploy/helm/install-tools.sh)"
HELM="$(deploy/helm/install-tools.sh)"
export CONVEYOR_HELM="$HELM"
"$HELM" version --short

rm -rf "$OUT"
mkdir -p "$OUT"

step "helm lint --strict"
"$HELM" lint --strict "$CHART"
"$HELM" lint --strict "$CHART" -f "$CHART/values-production.yaml"

step "helm template"
declare -A VALUES=(
    [default]=""
    [production]="$CHART/values-production.yaml"
    [all-features]="tests/chart/values-all-features.yaml"
)
for name in default production all-features; do
    args=(template conveyor "$CHART" --namespace conveyor --kube-version "${KUBE_VERSIONS[0]}")
    if [[ -n "${VALUES[$name]}" ]]; then
        args+=(-f "${VALUES[$name]}")
    fi
    "$HELM" "${args[@]}" >"$OUT/$name.yaml"
    printf '  %-13s %3d documents -> %s\n' "$name" "$(grep -c '^kind:' "$OUT/$name.yaml")" "$OUT/$name.yaml"
done

step "Kubernetes schema validation (kubernetes-validate --strict)"
for version in "${KUBE_VERSIONS[@]}"; do
    # ServiceMonitor is a CRD whose schema is not bundled: reported as a warning, checked by the tests.
    "${KUBERNETES_VALIDATE[@]}" --strict --quiet --no-warn -k "$version" "$OUT"/*.yaml
    echo "  Kubernetes $version: every built-in resource valid"
done

step "values.schema.json rejects wrong values"
rejected=0
while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    read -r -a sets <<<"$line"
    set_args=()
    for s in "${sets[@]}"; do set_args+=(--set "$s"); done
    if "$HELM" template conveyor "$CHART" --kube-version "${KUBE_VERSIONS[0]}" "${set_args[@]}" >/dev/null 2>"$OUT/rejected.err"; then
        echo "  NOT rejected: $line" >&2
        exit 1
    fi
    if ! grep -q "values don't meet the specifications of the schema" "$OUT/rejected.err"; then
        echo "  failed, but not by the values schema: $line" >&2
        cat "$OUT/rejected.err" >&2
        exit 1
    fi
    rejected=$((rejected + 1))
    printf '  rejected: %-58s %s\n' "$line" "$(grep -m1 -E "^- at '" "$OUT/rejected.err" | cut -c3-90)"
done <tests/chart/bad-values.txt
echo "  $rejected wrong values rejected"

step "pytest tests/chart"
rc=0
uv run --frozen pytest tests/chart -q -p no:cacheprovider || rc=$?
if [[ $rc -eq 5 ]]; then echo "chart-check: pytest collected no tests" >&2; fi
[[ $rc -eq 0 ]] || exit $rc

echo
echo "chart-check passed in $((SECONDS - started))s"
