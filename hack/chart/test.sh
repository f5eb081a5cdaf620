#!/usr/bin/env bash
# The chart's checks in `make test` (the real install runs in cargo test,
# crates/wharfd/tests/chart.rs):
#   1. deploy/install.yaml, deploy/rbac.yaml and the chart's CRDs are in step
#      with the chart and the Rust types (render.sh --check);
#   2. helm lint --strict over the default values and every ci/*-values.yaml;
#   3. the chart's unit tests (helm-unittest, charts/wharf/tests/);
#   4. every rendering validated by kubeconform against schemas taken from the
#      cluster's own OpenAPI (hack/chart/schemas.py), strictly;
#   5. every rendering applied with `kubectl apply --dry-run=server` into a
#      namespace that enforces the restricted Pod Security Standard in a fresh
#      cluster of its own, with warnings as errors.
# Needs the cluster KUBECONFIG names (hack/test.sh provides it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${KUBECONFIG:?hack/chart/test.sh needs KUBECONFIG (run it through make test)}"
tools="$(hack/tools/build.sh | tail -n 1)"
helm="$tools/helm"
kubectl="$(hack/controlplane/build.sh | tail -n 1)/kubectl"
chart=charts/wharf
say() { printf '[chart] %s\n' "$*" >&2; }

work="$(mktemp -d)"
namespace="wharf-chart-dry-run"
cleanup() {
  rm -rf "$work"
  "$kubectl" delete namespace "$namespace" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "1/5 generated files"
HELM="$helm" hack/chart/render.sh --check

value_sets=(default "$chart"/ci/*-values.yaml)
values_args() { [[ "$1" == default ]] || printf -- '--values\n%s\n' "$1"; }

say "2/5 helm lint --strict"
for values in "${value_sets[@]}"; do
  mapfile -t args < <(values_args "$values")
  "$helm" lint --strict "$chart" "${args[@]}" >"$work/lint.out" 2>&1 || {
    cat "$work/lint.out" >&2
    say "helm lint failed with values: $values"
    exit 1
  }
done

say "3/5 unit tests"
"$tools/untt" --color=false "$chart" >&2

say "4/5 kubeconform against the cluster's schemas"
"$kubectl" create namespace "$namespace" --dry-run=client -o yaml |
  "$kubectl" label --local -f - -o yaml \
    pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/warn=restricted \
    pod-security.kubernetes.io/audit=restricted |
  "$kubectl" apply -f - >/dev/null
renders=()
for values in "${value_sets[@]}"; do
  mapfile -t args < <(values_args "$values")
  out="$work/$(basename "$values" .yaml).yaml"
  "$helm" template wharf "$chart" --namespace "$namespace" --kube-version 1.36.0 "${args[@]}" >"$out"
  renders+=("$out")
done
python3 hack/chart/schemas.py "$kubectl" "$KUBECONFIG" "$work/schemas" "${renders[@]}"
"$tools/kubeconform" -strict -summary -output text \
  -schema-location "$work/schemas/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json" \
  "${renders[@]}" >&2

say "5/5 kubectl apply --dry-run=server into a restricted namespace of a fresh cluster"
# A cluster of its own: in the test cluster the tests have made the CRDs and
# ClusterRoles with server-side apply already, and a client-side apply over
# them warns about that history, not about the chart. Here each rendering goes
# through exactly `helm template | kubectl apply --dry-run=server` into a
# namespace that enforces (and warns about) the restricted standard, and any
# warning fails.
bare=wharf-chart-bare
bare_kubeconfig="$(WHARF_CLUSTER=$bare hack/controlplane/cluster-up.sh 2>"$work/bare.log" | tail -n 1)" || {
  cat "$work/bare.log" >&2
  exit 1
}
trap 'cleanup; WHARF_CLUSTER=$bare hack/controlplane/cluster-down.sh >/dev/null 2>&1 || true' EXIT
kb() { "$kubectl" --kubeconfig "$bare_kubeconfig" "$@"; }
kb create namespace "$namespace" >/dev/null
kb label namespace "$namespace" pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/warn=restricted >/dev/null
for out in "${renders[@]}"; do
  if ! kb apply --dry-run=server --warnings-as-errors -n "$namespace" -f "$out" \
    >"$work/apply.out" 2>&1 || grep -qi warning "$work/apply.out"; then
    cat "$work/apply.out" >&2
    say "kubectl apply --dry-run=server refused or warned about $(basename "$out")"
    exit 1
  fi
done
say "the chart passed lint, unit tests, schema validation and a restricted dry run"
