#!/usr/bin/env bash
# `make bench`: Wharf's benchmarks (not part of `make test`).
#
#   hack/bench.sh                      # the App creation benchmark, N=500
#   hack/bench.sh apps --count 100     # any wharf-bench subcommand and flags
#   hack/bench.sh api                  # API latency at 500 GET/s and create throughput
#   hack/bench.sh tasks                # 1,000 Tasks through the API vs 1,000 plain Jobs
#   hack/bench.sh runtimes             # a five-engine Runtime vs its children by hand (20 runs),
#                                      #   then wharfd's memory with 1,000 Runtimes
#   hack/bench.sh results              # a 1 GiB result download vs reading it from disk
#   hack/bench.sh invoke               # invoke round trips (p50, p99) and throughput through a
#                                      #   three-node workflow vs the same chain over NATS directly
#
# Builds wharfd, wharf-bench and krt-node (the invoke benchmark's node process) in
# release mode, then runs wharf-bench against the cluster KUBECONFIG names, or the
# local cluster if it is already running (and leaves it running), or starts the
# local cluster and stops it afterwards, also when the benchmark fails or is
# interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=use-cluster.sh
source hack/use-cluster.sh

# Build first: a compile error should not cost a cluster start.
cargo build --release -p wharfd -p wharf-bench
cargo build --release -p wharf-testenv --bin krt-node

# The server programs (nats-server) the invoke benchmark runs, installed once per
# machine, as `make test` finds them.
WHARF_SERVERS_BIN="$(hack/servers/install.sh | tail -n 1)"
export WHARF_SERVERS_BIN

use_cluster bench

if (( $# == 0 )); then
  set -- apps
fi
target/release/wharf-bench "$@"
