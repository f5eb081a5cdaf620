#!/usr/bin/env bash
# Starts the local test cluster, or reuses it when it is already running:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler built by
# build.sh, run by `kwokctl --runtime binary` on 127.0.0.1 only, with kwok
# simulating two nodes and the pod lifecycle (see config/stages.yaml).
#
# Returns once the API server is ready, both nodes are Ready and schedulable and
# the `default` ServiceAccount exists in the `default` namespace. The last (and
# only) line on stdout is the absolute path of the cluster's kubeconfig; progress
# goes to stderr.
#
#   WHARF_CLUSTER          cluster name (default wharf)
#   WHARF_CACHE            cache root (default ~/.cache/wharf)
#   WHARF_CLUSTER_TIMEOUT  seconds to wait for the cluster to be ready (default 300)
#
# A cluster that is half started or stale, or that was created from another
# configuration or other binaries, is deleted and created again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
timeout_s="${WHARF_CLUSTER_TIMEOUT:-300}"
nodes=(kwok-node-0 kwok-node-1)

say() { printf '[controlplane] %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }
start_ms="$(now_ms)"
elapsed() { local ms=$(( $(now_ms) - start_ms )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

if ! [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]]; then
  say "invalid WHARF_CLUSTER '$name': use lower-case letters, digits and '-'"
  exit 2
fi
if ! [[ "$timeout_s" =~ ^[0-9]+$ ]]; then
  say "invalid WHARF_CLUSTER_TIMEOUT '$timeout_s': use a number of seconds"
  exit 2
fi

# One cluster-up/cluster-down at a time per cluster: test binaries may call this
# script in parallel. Held until this script exits (the build included).
# (The lock's file descriptor must not reach the components: kwokctl runs them
# in the background and they would hold the lock for as long as they run.)
mkdir -p "$workdir/locks"
exec 9>"$workdir/locks/$name.lock"
if ! flock -w 3600 9; then
  say "another cluster-up.sh/cluster-down.sh of cluster $name has held $workdir/locks/$name.lock for an hour"
  exit 1
fi
export WHARF_CLUSTER_LOCKED="$name"

# Only our own variables reach kwokctl (a stray KWOK_RUNTIME, KWOK_KUBE_VERSION,
# ... would change what it runs).
while read -r v; do unset "$v"; done < <(compgen -e | grep '^KWOK_' || true)
export KWOK_WORKDIR="$workdir"

bin="$("$here/build.sh" | tail -n1)"
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl; do
  if [[ ! -x "$bin/$b" ]]; then
    say "build.sh did not provide $bin/$b"
    exit 1
  fi
done
kubectl="$bin/kubectl"
kc() { "$kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s "$@"; }

# The configuration as this cluster uses it: absolute paths filled in. Its hash
# (with the binaries' folder and the log content) tells whether a running
# cluster was made from the same inputs.
render() {
  local src="$1"
  sed -e "s|__WHARF_BIN__|$bin|g" -e "s|__WHARF_ASSETS__|$assets|g" "$src"
}
fingerprint="$(
  {
    echo "$name $bin"
    for f in kwokctl.yaml stages.yaml logs.yaml nodes.yaml audit-policy.yaml pod.log; do
      render "$here/config/$f"
    done
  } | sha256sum | cut -d' ' -f1
)"

# The component that is not running, if any (kwokctl starts each one from a
# link in <cluster>/bin/ and keeps its pid in <cluster>/pids/).
dead_component() {
  local c pid argv0
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
    pid="$(cat "$cluster_dir/pids/$c.pid" 2>/dev/null || true)"
    argv0=""
    { IFS= read -r -d '' argv0 <"/proc/${pid:-0}/cmdline"; } 2>/dev/null || true
    if [[ "$argv0" != "$cluster_dir/bin/$c" ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

# Waits until CHECK (a function) succeeds; fails after the deadline, or at once
# when a component has exited.
deadline=$(( $(date +%s) + timeout_s ))
wait_for() {
  local what="$1" check="$2" dead
  until "$check"; do
    if dead="$(dead_component)"; then
      say "$dead is not running (waiting for $what)"
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      say "timed out after ${timeout_s}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}
api_ready() { [[ "$(kc get --raw=/readyz 2>/dev/null)" == "ok" ]]; }
nodes_ready() {
  # Each node: Ready=True and none of the taints the node controller keeps on a
  # node that is not ready yet.
  local out
  out="$(kc get nodes "${nodes[@]}" -o \
    jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}{"\n"}{end}' \
    2>/dev/null)" || return 1
  [[ "$(grep -c '^True *$' <<<"$out")" == "${#nodes[@]}" ]]
}
default_sa() { kc -n default get serviceaccount default -o name >/dev/null 2>&1; }

wait_cluster() {
  wait_for "the API server" api_ready
  kc apply -f "$assets/nodes.yaml" >/dev/null
  wait_for "nodes ${nodes[*]} to be Ready" nodes_ready
  wait_for "the default ServiceAccount" default_sa
}

# Already running from the same inputs: reuse it.
if "$here/kubeconfig.sh" -q >/dev/null 2>&1 \
   && [[ "$(cat "$cluster_dir/wharf-fingerprint" 2>/dev/null)" == "$fingerprint" ]]; then
  wait_cluster
  say "cluster $name is running (checked in $(elapsed))"
  echo "$kubeconfig"
  exit 0
fi

# Anything else that is there (stale, half started, other inputs) goes first.
if [[ -e "$cluster_dir" || -e "$assets" ]] || pgrep -f "^$cluster_dir/bin/" >/dev/null 2>&1; then
  say "removing the previous cluster $name (stale, not ready or made from other inputs)"
  "$here/cluster-down.sh"
fi

mkdir -p "$assets"
for f in kwokctl.yaml stages.yaml logs.yaml nodes.yaml audit-policy.yaml; do
  render "$here/config/$f" >"$assets/$f"
done
cp "$here/config/pod.log" "$assets/pod.log"
echo "$bin" >"$assets/bin-dir"

started=0
on_exit() {
  (( started )) && return
  say "cluster $name failed to start; last lines of its component logs:"
  for log in "$cluster_dir"/logs/*.log; do
    [[ -f "$log" ]] || continue
    say "--- $log"
    tail -n 20 "$log" >&2 || true
  done
  "$here/cluster-down.sh" || true
}
trap on_exit EXIT

say "creating cluster $name (kwokctl, binary runtime, 127.0.0.1)"
"$bin/kwokctl" create cluster \
  --name "$name" \
  --runtime binary \
  --config "$assets/kwokctl.yaml" \
  --config "$assets/stages.yaml" \
  --config "$assets/logs.yaml" \
  --kubeconfig "" \
  --timeout "${timeout_s}s" >&2 9>&-

wait_cluster
echo "$fingerprint" >"$cluster_dir/wharf-fingerprint"
started=1

say "cluster $name started in $(elapsed)"
echo "$kubeconfig"
