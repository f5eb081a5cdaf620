#!/usr/bin/env bash
# Installs the servers the runtime tests run for real on 127.0.0.1: nats-server
# and versitygw (an S3 server) built from the pinned Go modules in this folder,
# PostgreSQL 15 and Redis 7.0 (with Sentinel) from Debian 12's packages, unpacked
# into a cache outside the repo without root and without touching the system.
# Once per machine and version; safe to run concurrently and again.
#
# Prints the bin folder on the last line of stdout (tests read it as
# WHARF_SERVERS_BIN). Progress goes to stderr.
#   WHARF_CACHE  cache root (default ~/.cache/wharf)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${WHARF_CACHE:-$HOME/.cache/wharf}"
min_go_minor=26

# What bookworm ships; the exact package versions end up in versions.txt.
PG_MAJOR=15
REDIS_SERIES=7.0
# Library packages the Debian programs load (ldd) that are not part of every
# Debian 12, i.e. not needed by apt or an Essential package. They are unpacked
# even when installed, so the result does not depend on the machine; libc and
# the rest come from the system. libllvm is left out: it serves only
# PostgreSQL's JIT, whose module is removed below.
DEB_LIBS=(libatomic1 libcom-err2 libgssapi-krb5-2 libicu72 libjemalloc2 libk5crypto3
  libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 liblzf1 libpq5 libreadline8
  libsasl2-2 libsasl2-modules-db libssl3 libxml2 libxslt1.1)
DEB_PROGRAMS=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" redis-server redis-sentinel redis-tools)

say() { printf '[servers] %s\n' "$*" >&2; }

# The version of MODULE that DIR's go.mod requires.
version_of() {
  awk -v m="$2" '$1 == m { print $2; exit }' "$here/$1/go.mod"
}

nats_version="$(version_of nats-server github.com/nats-io/nats-server/v2)"
vgw_version="$(version_of versitygw github.com/versity/versitygw)"
if [[ -z "$nats_version" || -z "$vgw_version" ]]; then
  say "a go.mod under $here lost its pinned tool version"
  exit 1
fi
top="$cache/servers/nats-${nats_version}_versitygw-${vgw_version}_pg-${PG_MAJOR}_redis-${REDIS_SERIES}_deb12"
bin="$top/bin"
root="$top/root"

if [[ -f "$top/.installed" ]]; then
  echo "$bin"
  exit 0
fi

need_tools() {
  if ! command -v go >/dev/null 2>&1; then
    say "Go is not installed. Install Go 1.${min_go_minor} or newer (https://go.dev/doc/install) and retry."
    exit 1
  fi
  local minor
  minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  if ! [[ "$minor" =~ ^[0-9]+$ ]] || (( minor < min_go_minor )); then
    say "Go $(go env GOVERSION) is too old: the go.mod files here need Go 1.${min_go_minor} or newer."
    exit 1
  fi
  # shellcheck disable=SC1091
  if [[ "$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")" != bookworm ]] \
     || ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    say "PostgreSQL and Redis are taken from Debian 12 (bookworm) packages; this machine is not Debian 12."
    exit 1
  fi
  case "$(dpkg --print-architecture)" in
    amd64) multiarch=x86_64-linux-gnu ;;
    arm64) multiarch=aarch64-linux-gnu ;;
    *) say "unsupported architecture $(dpkg --print-architecture)"; exit 1 ;;
  esac
}

# build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]
build() {
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  if [[ -x "$bin/$out" ]]; then
    return
  fi
  say "$out: building $pkg (first time on this machine)"
  local start=$SECONDS
  (cd "$here/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"
  say "$out: built in $((SECONDS - start))s"
}

# apt_in LISTS COMMAND ARGS...: apt-get or apt-cache as any user, reading the
# package lists in LISTS and writing only into the cache.
apt_in() {
  local lists="$1" cmd="$2"
  shift 2
  "$cmd" -q -o Dir::State::Lists="$lists" -o Dir::Cache="$cache/servers/apt" \
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

# download LISTS: downloads the .deb files into $top/debs.
download() {
  rm -rf "$top/debs" && mkdir -p "$top/debs" "$cache/servers/apt"
  (cd "$top/debs" && apt_in "$1" apt-get download "${DEB_PROGRAMS[@]}" "${DEB_LIBS[@]}" >&2)
}

# With the system's package lists if they have the packages and the mirror
# still serves those versions; else with fresh lists of our own, which apt-get
# update fetches into the cache from the system's sources.list, without root.
download_debs() {
  local own="$cache/servers/apt/lists"
  if download /var/lib/apt/lists 2>/dev/null; then
    return
  fi
  say "the system's package lists are missing or stale; apt-get update into $own"
  mkdir -p "$own/partial"
  apt_in "$own" apt-get update >&2
  download "$own"
}

# Writes bin/NAME, which runs TARGET with the unpacked libraries. With DROP set,
# it first leaves root, which PostgreSQL refuses to run as: in a user namespace
# as uid nobody (files stay root's outside and look like the server's own
# inside, so paths the caller made as root just work); where user namespaces are
# not allowed (e.g. Docker's default seccomp profile), as the real user nobody,
# which then needs read access to the cache and write access to the data dirs.
# shellcheck disable=SC2016 # the $ are for the wrapper to expand
wrapper() {
  local name="$1" target="$2" drop="${3:-}"
  {
    echo '#!/usr/bin/env bash'
    echo "# $name from Debian, unpacked by hack/servers/install.sh."
    printf 'real=%q\n' "$target"
    printf 'export LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' \
      "$root/lib/$multiarch:$root/usr/lib/$multiarch"
    if [[ -n "$drop" ]]; then
      cat <<'EOF'
if [[ "$(id -u)" == 0 ]]; then
  userns=(unshare --user --map-user=65534 --map-group=65534)
  if "${userns[@]}" true 2>/dev/null; then
    exec "${userns[@]}" "$real" "$@"
  fi
  nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  if ! "${nobody[@]}" test -r "$real"; then
    echo "${real##*/}: PostgreSQL does not run as root, user namespaces are not available to hand it" \
      "another uid, and the user nobody cannot read $real; run as a non-root user or put" \
      "WHARF_CACHE where nobody can read it" >&2
    exit 1
  fi
  exec "${nobody[@]}" "$real" "$@"
fi
EOF
    fi
    echo 'exec "$real" "$@"'
  } >"$bin/$name"
  chmod +x "$bin/$name"
}

unpack_debian() {
  say "downloading PostgreSQL $PG_MAJOR and Redis from Debian's mirror"
  download_debs
  rm -rf "$root" && mkdir -p "$root"
  local deb
  for deb in "$top/debs"/*.deb; do
    dpkg-deb -x "$deb" "$root"
    dpkg-deb -W "$deb" >>"$top/versions.txt"
  done
  rm -rf "$top/debs" "$root/usr/share/doc" "$root/usr/share/man" \
    "$root/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"*  "$root/usr/lib/postgresql/$PG_MAJOR/lib/bitcode"

  # Every library the programs and PostgreSQL's modules load must resolve.
  local pgbin="$root/usr/lib/postgresql/$PG_MAJOR/bin" missing
  missing="$(for f in "$pgbin"/{postgres,initdb,pg_ctl,pg_basebackup,psql,pg_isready} \
      "$root"/usr/lib/postgresql/"$PG_MAJOR"/lib/*.so "$root"/usr/bin/redis-{check-rdb,cli}; do
    LD_LIBRARY_PATH="$root/lib/$multiarch:$root/usr/lib/$multiarch" ldd "$f" | sed -n "s|^\s*\(.*not found\)|${f#"$root"}: \1|p"
  done)"
  if [[ -n "$missing" ]]; then
    say "libraries missing after unpacking (add their packages to DEB_LIBS):"
    printf '%s\n' "$missing" >&2
    exit 1
  fi

  local p
  for p in postgres initdb pg_ctl pg_basebackup; do
    wrapper "$p" "$pgbin/$p" drop
  done
  wrapper psql "$pgbin/psql"
  wrapper pg_isready "$pgbin/pg_isready"
  # Both are links to one program, which picks its mode from its own name.
  wrapper redis-server "$root/usr/bin/redis-server"
  wrapper redis-sentinel "$root/usr/bin/redis-sentinel"
  wrapper redis-cli "$root/usr/bin/redis-cli"
}

main() {
  mkdir -p "$cache/servers"
  # One installer at a time; whoever waited finds the folder ready.
  exec 9>"$cache/servers/.lock"
  flock 9
  if [[ -f "$top/.installed" ]]; then
    echo "$bin"
    return
  fi
  need_tools
  local start=$SECONDS
  mkdir -p "$bin"
  build nats-server nats-server github.com/nats-io/nats-server/v2
  build versitygw versitygw github.com/versity/versitygw/cmd/versitygw "-X main.Version=$vgw_version"
  printf 'nats-server\t%s\nversitygw\t%s\n' "$nats_version" "$vgw_version" >"$top/versions.txt"
  unpack_debian

  # Each program starts and reports the version this folder is named for.
  # (grep reads to the end: `grep -q` would stop at the first match, and a
  # program still printing would die of SIGPIPE, failing the pipeline.)
  "$bin/nats-server" --version | grep "v${nats_version#v}$" >/dev/null
  "$bin/versitygw" --version | grep "$vgw_version" >/dev/null
  "$bin/psql" --version | grep "PostgreSQL) $PG_MAJOR\." >/dev/null
  "$bin/pg_isready" --version >/dev/null
  "$bin/redis-server" --version | grep "v=$REDIS_SERIES\." >/dev/null
  "$bin/redis-cli" --version >/dev/null
  touch "$top/.installed"
  say "servers ready in $bin ($((SECONDS - start))s); versions in $top/versions.txt"
  echo "$bin"
}

main "$@"
