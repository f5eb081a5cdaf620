#!/usr/bin/env bash
# Builds the chart tools (helm, kubeconform, helm-unittest's untt) from the pinned
# Go modules in this folder into a cache outside the repo, once per machine and
# version. The versions are the `tool` lines of each folder's go.mod.
#
# Prints the bin folder on the last line of stdout. Progress goes to stderr.
#   WHARF_CACHE  cache root (default ~/.cache/wharf)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${WHARF_CACHE:-$HOME/.cache/wharf}"

say() { printf '[tools] %s\n' "$*" >&2; }

# The version of MODULE that DIR's go.mod requires.
version_of() {
  local dir="$1" module="$2"
  awk -v m="$module" '$1 == m { print $2; exit }' "$here/$dir/go.mod"
}

helm_version="$(version_of helm helm.sh/helm/v3)"
kubeconform_version="$(version_of kubeconform github.com/yannh/kubeconform)"
unittest_version="$(version_of helm-unittest github.com/helm-unittest/helm-unittest)"
if [[ -z "$helm_version" || -z "$kubeconform_version" || -z "$unittest_version" ]]; then
  say "a go.mod under $here lost its pinned tool version"
  exit 1
fi
bin="$cache/tools/helm-${helm_version}_kubeconform-${kubeconform_version}_unittest-${unittest_version}/bin"

# build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]
build() {
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  if [[ -x "$bin/$out" ]]; then
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "Go is not installed. Install Go 1.26 or newer (https://go.dev/doc/install) and retry."
    exit 1
  fi
  say "$out: building $pkg (first time on this machine)"
  local start=$SECONDS
  (cd "$here/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"
  say "$out: built in $((SECONDS - start))s"
}

# The Kubernetes version Helm assumes without a cluster (`helm template`, lint,
# helm-unittest): the one its client-go speaks (v0.37 → 1.37), as Helm's own
# Makefile sets it; unset, Helm assumes 1.20.
kube_version_flags() {
  local client_go minor
  client_go="$(version_of "$1" k8s.io/client-go)"
  minor="$(echo "$client_go" | sed -E 's/^v0\.([0-9]+)\..*/\1/')"
  local flags=""
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    flags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

mkdir -p "$bin"
build helm helm helm.sh/helm/v3/cmd/helm \
  "-X helm.sh/helm/v3/internal/version.version=${helm_version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean $(kube_version_flags helm)"
build kubeconform kubeconform github.com/yannh/kubeconform/cmd/kubeconform
build helm-unittest untt github.com/helm-unittest/helm-unittest/cmd/helm-unittest \
  "$(kube_version_flags helm-unittest)"
echo "$bin"
