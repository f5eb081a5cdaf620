#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, etcd, kwok, kwokctl) from the pinned Go modules in this
# folder into a cache outside the repo, once per machine and version.
#
# Prints the bin folder on the last line of stdout. Progress goes to stderr.
#   WHARF_CACHE  cache root (default ~/.cache/wharf)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache="${WHARF_CACHE:-$HOME/.cache/wharf}"
bin="$cache/controlplane/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}/bin"
min_go_minor=26

say() { printf '[controlplane] %s\n' "$*" >&2; }

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    say "Go is not installed. Install Go 1.${min_go_minor} or newer (https://go.dev/doc/install) and retry."
    exit 1
  fi
  local v minor
  v="$(go env GOVERSION)"            # e.g. go1.26.8
  minor="$(echo "$v" | sed -E 's/^go1\.([0-9]+).*/\1/')"
  if ! [[ "$minor" =~ ^[0-9]+$ ]] || (( minor < min_go_minor )); then
    say "Go $v is too old: Kubernetes ${K8S_VERSION} needs Go 1.${min_go_minor} or newer."
    exit 1
  fi
}

# build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]
build() {
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  if [[ -x "$bin/$out" ]]; then
    say "$out: cached"
    return
  fi
  say "$out: building $pkg (first time on this machine; this takes a while)"
  local start=$SECONDS
  (cd "$here/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"
  say "$out: built in $((SECONDS - start))s"
}

k8s_ldflags() {
  local v="${K8S_VERSION}" major minor
  major="$(echo "$v" | sed -E 's/^v([0-9]+)\..*/\1/')"
  minor="$(echo "$v" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
  local flags=""
  # component-base serves the server version; client-go's copy is what kubectl
  # prints as its client version.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

main() {
  if [[ -x "$bin/kube-apiserver" && -x "$bin/kube-controller-manager" && -x "$bin/kube-scheduler" \
     && -x "$bin/kubectl" && -x "$bin/etcd" && -x "$bin/kwok" && -x "$bin/kwokctl" ]]; then
    echo "$bin"
    return
  fi
  need_go
  mkdir -p "$bin"
  local start=$SECONDS kflags
  kflags="$(k8s_ldflags)"
  build etcd etcd go.etcd.io/etcd/server/v3
  build kwok kwok sigs.k8s.io/kwok/cmd/kwok
  build kwok kwokctl sigs.k8s.io/kwok/cmd/kwokctl
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    build kubernetes "$c" "k8s.io/kubernetes/cmd/$c" "$kflags"
  done
  say "control plane ready in $bin ($((SECONDS - start))s)"
  echo "$bin"
}

main "$@"
