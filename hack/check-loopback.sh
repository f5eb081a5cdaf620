#!/usr/bin/env bash
# Fails when a control-plane or Wharf process listens on anything but loopback.
# Servers started for development and tests bind to 127.0.0.1 only.
set -euo pipefail
pattern='etcd|kube-apiserver|kube-controller|kube-scheduler|kwok|wharfd'
bad="$(ss -ltnpH 2>/dev/null | grep -E "\"($pattern)" | awk '{print $4, $6}' \
  | grep -vE '^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+ ' || true)"
if [[ -n "$bad" ]]; then
  echo "error: these listen on a non-loopback address:" >&2
  echo "$bad" >&2
  exit 1
fi
