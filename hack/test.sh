#!/usr/bin/env bash
# `make test`: the whole suite against a real Kubernetes control plane.
#
# Uses the cluster KUBECONFIG names, or the local cluster if it is already running
# (and leaves it running), or starts the local cluster and stops it afterwards, also
# when the tests fail or are interrupted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=use-cluster.sh
source hack/use-cluster.sh
use_cluster test

# The S3 result-store tests run against moto, installed into the cache once per
# machine; the tests find it through WHARF_MOTO_SERVER.
WHARF_MOTO_SERVER="$(hack/moto/install.sh | tail -n 1)"
export WHARF_MOTO_SERVER
echo "[test] moto S3 server: $WHARF_MOTO_SERVER" >&2

# The real servers the Runtime tests run with generated configuration
# (nats-server, PostgreSQL, Redis, versitygw), installed into the cache once per
# machine; the tests find them through WHARF_SERVERS_BIN.
WHARF_SERVERS_BIN="$(hack/servers/install.sh | tail -n 1)"
export WHARF_SERVERS_BIN
echo "[test] servers: $WHARF_SERVERS_BIN" >&2

# CloudNativePG's Cluster CRD, from its Go module into the cache once per
# machine: the Runtime test that hands PostgreSQL to CNPG installs it.
WHARF_CNPG_CRD="$(hack/cnpg/crd.sh | tail -n 1)"
export WHARF_CNPG_CRD

# The Gateway API's HTTPRoute CRD, from its Go module into the cache once per
# machine: the App test that routes through a Gateway installs it.
WHARF_GATEWAY_API_CRD="$(hack/gateway-api/crd.sh | tail -n 1)"
export WHARF_GATEWAY_API_CRD

# CI builds once in a fresh clone: incremental data would only take disk space
# (tens of GB across the workspace's test binaries).
if [[ "${CI:-}" == true ]]; then
  export CARGO_INCREMENTAL=0
fi

# The chart tools, built into the cache once per machine; the chart's install
# test (crates/wharfd/tests/chart.rs) finds helm through WHARF_HELM.
WHARF_HELM="$(hack/tools/build.sh | tail -n 1)/helm"
export WHARF_HELM

hack/check-loopback.sh
start=$SECONDS
cargo test --workspace --no-fail-fast
hack/check-loopback.sh
echo "[test] cargo test took $((SECONDS - start))s" >&2

# The Helm chart: generated files in step, lint, unit tests, schemas, and a
# dry run into a restricted namespace.
start=$SECONDS
hack/chart/test.sh
echo "[test] chart checks took $((SECONDS - start))s" >&2

# The container image: built as `make image` builds it, then checked as a runtime
# would see it (user, entrypoint, no shell, `/wharfd --version` from its rootfs).
start=$SECONDS
image_digest=$(hack/image/build.sh | tail -n 1)
python3 hack/image/verify.py target/image/wharfd.oci.tar "$(cat target/image/wharfd.version)"
echo "[test] image $image_digest built and checked in $((SECONDS - start))s" >&2
