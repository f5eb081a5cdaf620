#!/usr/bin/env bash
# Installs moto's S3 server (the PyPI package moto[server], pinned below) into a
# virtualenv in the cache, once per machine and version, for the tests of the
# S3 result store. Safe to run concurrently and again.
#
# Prints the path of the moto_server executable on the last line of stdout.
# Progress goes to stderr.
#   XDG_CACHE_HOME  cache root (default ~/.cache); the venv is in wharf/moto/<version>
set -euo pipefail

MOTO_VERSION=5.2.5

cache="${XDG_CACHE_HOME:-$HOME/.cache}/wharf/moto"
venv="$cache/$MOTO_VERSION"
server="$venv/bin/moto_server"

say() { printf '[moto] %s\n' "$*" >&2; }

if [[ -x "$server" && -f "$venv/.installed" ]]; then
  echo "$server"
  exit 0
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]]; then
  say "python3 is not installed; the S3 tests need it to run moto. Install Python 3 and retry."
  exit 1
fi

mkdir -p "$cache"
# One installer at a time; whoever waited finds the venv ready.
exec 9>"$cache/.lock"
flock 9
if [[ -x "$server" && -f "$venv/.installed" ]]; then
  echo "$server"
  exit 0
fi

say "installing moto[server]==$MOTO_VERSION into $venv (first time on this machine)"
start=$SECONDS
rm -rf "$venv"
# Built in place of the final path: a venv's scripts name their interpreter by
# absolute path, so it cannot be moved after creation.
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
"$server" --help >/dev/null
touch "$venv/.installed"
say "moto $MOTO_VERSION ready in $venv ($((SECONDS - start))s)"
echo "$server"
