#!/usr/bin/env bash
# Fetches the Gateway API's HTTPRoute CRD (standard channel), exactly as its
# release ships it, from its Go module (the Go module proxy is a registry every
# machine here reaches) into the cache. The App tests that route through a
# Gateway install it, so the API server checks every HTTPRoute Wharf writes
# against the Gateway API's own schema. Once per machine and version; safe to
# run again.
#
# Prints the CRD file on the last line of stdout (tests read it as
# WHARF_GATEWAY_API_CRD). Progress goes to stderr.
#   WHARF_CACHE  cache root (default ~/.cache/wharf)
set -euo pipefail

GATEWAY_API_MODULE=sigs.k8s.io/gateway-api
GATEWAY_API_VERSION=v1.4.1
CRD=config/crd/standard/gateway.networking.k8s.io_httproutes.yaml

cache="${WHARF_CACHE:-$HOME/.cache/wharf}"
dir="$cache/gateway-api/$GATEWAY_API_VERSION"
out="$dir/$(basename "$CRD")"
if [[ ! -s "$out" ]]; then
  echo "[gateway-api] fetching $GATEWAY_API_MODULE@$GATEWAY_API_VERSION's HTTPRoute CRD" >&2
  mkdir -p "$dir"
  tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
  trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
  # A module cache of its own, outside any module: only the zip is read.
  zip="$(cd "$tmp" && GOFLAGS=-modcacherw GOMODCACHE="$tmp/mod" \
    go mod download -json "$GATEWAY_API_MODULE@$GATEWAY_API_VERSION" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["Zip"])')"
  python3 - "$zip" "$GATEWAY_API_MODULE@$GATEWAY_API_VERSION/$CRD" "$tmp/crd.yaml" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
PY
  mv "$tmp/crd.yaml" "$out"
fi
echo "$out"
