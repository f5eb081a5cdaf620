#!/usr/bin/env bash
# `make bench`: Wharf's benchmarks (not part of `make test`).
#
#   hack/bench.sh                      # the App creation benchmark, N=500
#   hack/bench.sh apps --count 100     # any wharf-bench subcommand and flags
#   hack/bench.sh api                  # API latency at 500 GET/s and create throughput
#   hack/bench.sh tasks                # 1,000 Tasks through the API vs 1,000 plain Jobs
#   hack/bench.sh results              # a 1 GiB result download vs reading it from disk
#
# Builds wharfd and wharf-bench in release mode, then runs wharf-bench against the
# cluster KUBECONFIG names, or the local cluster if it is already running (and
# leaves it running), or starts the local cluster and stops it afterwards, also
# when the benchmark fails or is interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cp=hack/controlplane
started=""

stop_started_cluster() {
  if [[ -n "$started" ]]; then
    echo "[bench] stopping the cluster this run started" >&2
    "$cp/cluster-down.sh" || true
  fi
}
trap stop_started_cluster EXIT
trap 'exit 130' INT TERM

# Build first: a compile error should not cost a cluster start.
cargo build --release -p wharfd -p wharf-bench

if [[ -n "${KUBECONFIG:-}" ]]; then
  echo "[bench] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
elif kubeconfig="$("$cp/kubeconfig.sh" 2>/dev/null)"; then
  echo "[bench] using the running local cluster ($kubeconfig)" >&2
  export KUBECONFIG="$kubeconfig"
else
  started=yes
  start=$SECONDS
  kubeconfig="$("$cp/cluster-up.sh" | tail -n 1)"
  export KUBECONFIG="$kubeconfig"
  echo "[bench] cluster up in $((SECONDS - start))s" >&2
fi

if (( $# == 0 )); then
  set -- apps
fi
target/release/wharf-bench "$@"
