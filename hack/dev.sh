#!/usr/bin/env bash
# `make dev`: brings up the local cluster (unless KUBECONFIG names one) and says how
# to reach it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cp=hack/controlplane

if [[ -n "${KUBECONFIG:-}" ]]; then
  echo "[dev] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
else
  KUBECONFIG="$("$cp/cluster-up.sh" | tail -n 1)"
  export KUBECONFIG
fi
bin="$("$cp/build.sh" | tail -n 1)"
cat >&2 <<MSG
[dev] the cluster is up. To reach it:
  export KUBECONFIG=$KUBECONFIG
  export PATH=$bin:\$PATH   # kubectl $(source "$cp/versions.env"; echo "$K8S_VERSION")
  kubectl get nodes
Stop it with: make cluster-down
MSG
