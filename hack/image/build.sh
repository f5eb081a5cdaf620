#!/usr/bin/env bash
# `make image`: Wharf's container image, without a container engine.
#
# Builds wharfd as a static (musl) binary and writes an OCI image layout archive,
# target/image/wharfd.oci.tar, whose one layer holds /wharfd, the CA certificates
# and /tmp, run as user 65532. Prints the image digest last. Load it with e.g.
# `skopeo copy oci-archive:target/image/wharfd.oci.tar docker://REGISTRY/wharfd:TAG`.
#
# Installs what it needs once per machine: Rust's musl target (rustup) and
# musl-gcc (Debian's musl-tools) for the C in the TLS library.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

target=x86_64-unknown-linux-musl
if ! rustup target list --installed | grep -x "$target" >/dev/null; then
  echo "[image] adding Rust's $target target" >&2
  rustup target add "$target" >&2
fi
if ! command -v musl-gcc >/dev/null; then
  echo "[image] installing musl-tools (musl-gcc)" >&2
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo=sudo; fi
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq musl-tools >&2
fi
certificates=/etc/ssl/certs/ca-certificates.crt
if [[ ! -s $certificates ]]; then
  echo "[image] $certificates is missing: install Debian's ca-certificates" >&2
  exit 1
fi

start=$SECONDS
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --release --locked --target "$target" -p wharfd >&2
version=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="wharfd"))')
mkdir -p target/image
echo "$version" > target/image/wharfd.version
# Symbols help no one in the image; they are half the binary.
strip -o target/image/wharfd "target/$target/release/wharfd"
python3 hack/image/oci.py \
  --binary target/image/wharfd \
  --ca-certificates "$certificates" \
  --version "$version" \
  --out target/image/wharfd.oci.tar
echo "[image] built in $((SECONDS - start))s" >&2
