#!/usr/bin/env bash
# `make dev`: builds wharfd, brings up the local cluster (unless KUBECONFIG names
# one), installs Wharf's CRDs and RBAC, makes a `dev` namespace with a `developer`
# ServiceAccount that may deploy Apps and Tasks there and create Spaces (the
# README's walkthrough), and runs `wharfd all` (operator and API) on 127.0.0.1 in
# the foreground. Ctrl-C stops Wharf; `make cluster-down` stops the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cp=hack/controlplane
listen="${WHARF_LISTEN:-127.0.0.1:8080}"

if [[ -n "${KUBECONFIG:-}" ]]; then
  echo "[dev] using the cluster of KUBECONFIG=$KUBECONFIG" >&2
else
  KUBECONFIG="$("$cp/cluster-up.sh" | tail -n 1)"
  export KUBECONFIG
fi
bin="$("$cp/build.sh" | tail -n 1)"
kubectl="$bin/kubectl"

echo "[dev] building wharfd and wharf" >&2
cargo build -q -p wharfd -p wharf-cli

echo "[dev] installing CRDs and RBAC" >&2
"$kubectl" apply --server-side --force-conflicts -f deploy/crds.yaml >/dev/null
"$kubectl" apply --server-side --force-conflicts -f deploy/rbac.yaml >/dev/null
"$kubectl" wait --for=condition=Established crd/apps.wharf.dev crd/apptemplates.wharf.dev --timeout=60s >/dev/null
# The starter image catalogue (`wharf templates list`).
"$kubectl" apply --server-side --force-conflicts -f deploy/catalogue/ >/dev/null
"$kubectl" create namespace dev --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n dev create serviceaccount developer --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n dev create rolebinding developer --clusterrole=wharf-developer \
  --serviceaccount=dev:developer --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
# `wharf spaces create`: the shipped role that only allows creating Spaces (the
# creator becomes the new Space's owner; other Spaces stay out of reach).
"$kubectl" create clusterrolebinding wharf-dev-space-creator --clusterrole=wharf-space-creator \
  --serviceaccount=dev:developer --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
# `wharf templates list` and `wharf apps deploy --template`: reading the
# catalogue is cluster-wide, so it takes a ClusterRoleBinding.
"$kubectl" create clusterrolebinding wharf-dev-template-reader --clusterrole=wharf-template-reader \
  --serviceaccount=dev:developer --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null

cat >&2 <<MSG
[dev] Wharf is starting on http://$listen (operator metrics on 127.0.0.1:9090).
  In another terminal:
    export KUBECONFIG=$KUBECONFIG PATH=$PWD/target/debug:$bin:\$PATH
    wharf login --server http://$listen --namespace dev --token-stdin <<<"\$(kubectl -n dev create token developer)"
    wharf apps deploy hello --image nginx:1.27 --port http:80 --host hello.example.com
    wharf tasks run --image busybox:1.37 --wait -- sh -c 'echo hi > /results/hi.txt'
      (kwok only simulates containers: the Task succeeds, but nothing runs, so it
      brings back no hi.txt; on a real cluster it lists hi.txt among its results)
    wharf spaces create shop --domain shop.example.com --quota-pods 20
    curl -H "Authorization: Bearer \$(kubectl -n dev create token developer)" http://$listen/v1/namespaces/dev/apps
  Stop with Ctrl-C; stop the cluster with: make cluster-down
MSG
# On a developer machine callbacks may reach local receivers; in a cluster the
# operator refuses loopback and private addresses unless told otherwise.
exec target/debug/wharfd all --listen "$listen" --metrics-addr 127.0.0.1:9090 \
  --collector-api-url "http://$listen" --callback-allow-cidr 127.0.0.0/8,::1/128
