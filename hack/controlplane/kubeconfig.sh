#!/usr/bin/env bash
# Prints the absolute path of the kubeconfig of the running local test cluster.
# Exits non-zero, with a message on stderr, when that cluster is not running
# (all its control-plane processes alive and the API server ready).
#   WHARF_CLUSTER  cluster name (default wharf)
#   WHARF_CACHE    cache root (default ~/.cache/wharf)
# Options: -q  no message on stderr when the cluster is not running.
set -euo pipefail

quiet=0
[[ "${1:-}" == "-q" ]] && quiet=1

# shellcheck source=paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)

not_running() {
  if (( ! quiet )); then
    printf '[controlplane] cluster %q is not running (%s); start it with hack/controlplane/cluster-up.sh\n' \
      "$name" "$1" >&2
  fi
  exit 1
}

[[ -f "$kubeconfig" ]] || not_running "no kubeconfig at $kubeconfig"

# Every component is alive, and is the one kwokctl started from this cluster's
# folder (a pid file can outlive its process, and pids are reused).
for c in "${components[@]}"; do
  pid_file="$cluster_dir/pids/$c.pid"
  [[ -f "$pid_file" ]] || not_running "$c has no pid file"
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || not_running "$c has no pid"
  argv0=""
  { IFS= read -r -d '' argv0 <"/proc/$pid/cmdline"; } 2>/dev/null || true
  [[ "$argv0" == "$cluster_dir/bin/$c" ]] || not_running "$c is not running"
done

kubectl=""
[[ -f "$assets/bin-dir" ]] && kubectl="$(cat "$assets/bin-dir")/kubectl"
[[ -x "$kubectl" ]] || kubectl="$cluster_dir/bin/kubectl"
[[ -x "$kubectl" ]] || not_running "no kubectl"

ready="$("$kubectl" --kubeconfig "$kubeconfig" --request-timeout=5s get --raw=/readyz 2>/dev/null || true)"
[[ "$ready" == "ok" ]] || not_running "the API server is not ready"

echo "$kubeconfig"
