#!/usr/bin/env bash
# Deletes the local test cluster and makes sure none of its control-plane
# processes (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)
# is left behind. Fine to run when no cluster exists. Never builds anything.
#   WHARF_CLUSTER  cluster name (default wharf)
#   WHARF_CACHE    cache root (default ~/.cache/wharf)
set -euo pipefail

# shellcheck source=paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"

say() { printf '[controlplane] %s\n' "$*" >&2; }

# Polls (up to $1 times, $2 seconds apart) until no process of the cluster is
# left; leaves what is still running in `pids`.
wait_for_exit() {
  for _ in $(seq 1 "$1"); do
    mapfile -t pids < <(cluster_pids)
    (( ${#pids[@]} == 0 )) && return
    sleep "$2"
  done
}

if ! [[ "$name" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]]; then
  say "invalid WHARF_CLUSTER '$name': use lower-case letters, digits and '-'"
  exit 2
fi

# One cluster-up/cluster-down at a time per cluster (cluster-up.sh holds the
# lock already when it calls this script).
if [[ "${WHARF_CLUSTER_LOCKED:-}" != "$name" ]]; then
  mkdir -p "$workdir/locks"
  exec 9>"$workdir/locks/$name.lock"
  if ! flock -w 600 9; then
    say "another cluster-up.sh/cluster-down.sh of cluster $name has held $workdir/locks/$name.lock for 10 minutes"
    exit 1
  fi
fi

# Pids of the processes started from this cluster's folder: kwokctl runs every
# component through a link in <cluster>/bin/, so argv[0] tells them apart from
# anything else (another cluster, a shell tailing a log).
cluster_pids() {
  local p argv0
  for p in /proc/[0-9]*; do
    argv0=""
    { IFS= read -r -d '' argv0 <"$p/cmdline"; } 2>/dev/null || true
    if [[ "$argv0" == "$cluster_dir/bin/"* ]]; then
      echo "${p#/proc/}"
    fi
  done
}

mapfile -t initial_pids < <(cluster_pids)

# 1. Ask kwokctl (stops the components by their pid files, removes the folder).
kwokctl=""
if [[ -f "$assets/bin-dir" && -x "$(cat "$assets/bin-dir")/kwokctl" ]]; then
  kwokctl="$(cat "$assets/bin-dir")/kwokctl"
fi
if [[ -d "$cluster_dir" && -n "$kwokctl" ]]; then
  say "deleting cluster $name"
  # Only our own variables reach kwokctl (a stray KWOK_* could change its mind).
  while read -r v; do unset "$v"; done < <(compgen -e | grep '^KWOK_' || true)
  mkdir -p "$assets"
  KWOK_WORKDIR="$workdir" "$kwokctl" delete cluster --name "$name" \
    --kubeconfig "$assets/unused-kubeconfig" >&2 9>&- || say "kwokctl delete failed; cleaning up by hand"
fi

# 2. Whatever is still running from that folder (a half-started or half-deleted
# cluster, a lost pid file) gets SIGTERM, then SIGKILL.
mapfile -t pids < <(cluster_pids)
if (( ${#pids[@]} > 0 )); then
  say "stopping leftover processes of cluster $name: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait_for_exit 15 0.2
  if (( ${#pids[@]} > 0 )); then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_for_exit 50 0.1
  fi
  if (( ${#pids[@]} > 0 )); then
    say "processes of cluster $name still running: ${pids[*]}"
    exit 1
  fi
fi

# Killed processes linger as zombies until init reaps them: wait (briefly) until
# they are gone from the process table too.
for _ in $(seq 1 50); do
  left=0
  for p in "${initial_pids[@]}"; do
    [[ -e "/proc/$p" ]] && left=1
  done
  (( left )) || break
  sleep 0.1
done

# 3. No folder left behind either (etcd data, certificates, logs).
rm -rf "$cluster_dir" "$assets"
say "cluster $name is down"
