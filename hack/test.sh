#!/usr/bin/env bash
# `make test`: the whole suite against a real Kubernetes control plane.
#
# Uses the cluster KUBECONFIG names, or the local cluster if it is already running
# (and leaves it running), or starts the local cluster and stops it afterwards, also
# when the tests fail or are interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cp=hack/controlplane
started=""

stop_started_cluster() {
  if [[ -n "$started" ]]; then
    echo "[test] stopping the cluster this run started" >&2
    "$cp/cluster-down.sh" || true
  fi
}
trap stop_started_cluster EXIT
trap 'exit 130' INT TERM

if [[ -n "${KUBECONFIG:-}" ]]; then
  echo "[test] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
elif kubeconfig="$("$cp/kubeconfig.sh" 2>/dev/null)"; then
  echo "[test] using the running local cluster ($kubeconfig)" >&2
  export KUBECONFIG="$kubeconfig"
else
  started=yes
  start=$SECONDS
  kubeconfig="$("$cp/cluster-up.sh" | tail -n 1)"
  export KUBECONFIG="$kubeconfig"
  echo "[test] cluster up in $((SECONDS - start))s" >&2
fi

# The S3 result-store tests run against moto, installed into the cache once per
# machine; the tests find it through WHARF_MOTO_SERVER.
WHARF_MOTO_SERVER="$(hack/moto/install.sh | tail -n 1)"
export WHARF_MOTO_SERVER
echo "[test] moto S3 server: $WHARF_MOTO_SERVER" >&2

hack/check-loopback.sh
start=$SECONDS
cargo test --workspace --no-fail-fast
hack/check-loopback.sh
echo "[test] cargo test took $((SECONDS - start))s" >&2
