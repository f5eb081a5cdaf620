#!/usr/bin/env bash
# Fetches CloudNativePG's Cluster CRD, exactly as its release ships it, from its
# Go module (the Go module proxy is a registry every machine here reaches) into
# the cache. The Runtime tests install it to check the Clusters Wharf writes
# against CNPG's own schema. Once per machine and version; safe to run again.
#
# Prints the CRD file on the last line of stdout (tests read it as
# WHARF_CNPG_CRD). Progress goes to stderr.
#   WHARF_CACHE  cache root (default ~/.cache/wharf)
set -euo pipefail

CNPG_MODULE=github.com/cloudnative-pg/cloudnative-pg
CNPG_VERSION=v1.28.1
CRD=config/crd/bases/postgresql.cnpg.io_clusters.yaml

cache="${WHARF_CACHE:-$HOME/.cache/wharf}"
dir="$cache/cnpg/$CNPG_VERSION"
out="$dir/$(basename "$CRD")"
if [[ ! -s "$out" ]]; then
  echo "[cnpg] fetching $CNPG_MODULE@$CNPG_VERSION's Cluster CRD" >&2
  mkdir -p "$dir"
  tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
  trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
  # A module cache of its own, outside any module: only the zip is read.
  zip="$(cd "$tmp" && GOFLAGS=-modcacherw GOMODCACHE="$tmp/mod" \
    go mod download -json "$CNPG_MODULE@$CNPG_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Zip"])')"
  python3 - "$zip" "$CNPG_MODULE@$CNPG_VERSION/$CRD" "$tmp/crd.yaml" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
PY
  mv "$tmp/crd.yaml" "$out"
fi
echo "$out"
