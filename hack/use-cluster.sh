# Sourced by test.sh and bench.sh: `use_cluster TAG` exports KUBECONFIG for the
# cluster to use — the one KUBECONFIG names, or the local cluster if it is already
# running (left running), or the local cluster started now and stopped when the
# sourcing script exits, also when it fails or is interrupted. TAG prefixes the
# messages, e.g. `test`.
# shellcheck shell=bash

started_cluster=""
cluster_tag=""

stop_started_cluster() {
  if [[ -n "$started_cluster" ]]; then
    echo "[$cluster_tag] stopping the cluster this run started" >&2
    hack/controlplane/cluster-down.sh || true
  fi
}

use_cluster() {
  cluster_tag="$1"
  trap stop_started_cluster EXIT
  trap 'exit 130' INT TERM
  local kubeconfig start
  if [[ -n "${KUBECONFIG:-}" ]]; then
    echo "[$cluster_tag] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
  elif kubeconfig="$(hack/controlplane/kubeconfig.sh 2>/dev/null)"; then
    echo "[$cluster_tag] using the running local cluster ($kubeconfig)" >&2
    export KUBECONFIG="$kubeconfig"
  else
    started_cluster=yes
    start=$SECONDS
    kubeconfig="$(hack/controlplane/cluster-up.sh | tail -n 1)"
    export KUBECONFIG="$kubeconfig"
    echo "[$cluster_tag] cluster up in $((SECONDS - start))s" >&2
  fi
}
