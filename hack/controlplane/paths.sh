# Sourced by the control-plane scripts: where the local cluster lives.
#   WHARF_CLUSTER  cluster name (default wharf)
#   WHARF_CACHE    cache root (default ~/.cache/wharf)
# shellcheck shell=bash
name="${WHARF_CLUSTER:-wharf}"
cache="${WHARF_CACHE:-$HOME/.cache/wharf}"
workdir="$cache/kwok"
cluster_dir="$workdir/clusters/$name"
assets="$workdir/assets/$name"
kubeconfig="$cluster_dir/kubeconfig.yaml"
