#!/usr/bin/env bash
# Starts each server that hack/servers/install.sh provides on 127.0.0.1 (free
# ports, a temp folder, everything killed at exit) and checks that it answers:
# nats-server with JetStream, a PostgreSQL primary and a streaming replica made
# with pg_basebackup, Redis with a Sentinel watching it, and versitygw.
# Proves the install works on this machine, as this user, before tests rely on it.
#
# Progress and timings go to stderr; exits non-zero at the first failure.
#   WHARF_SERVERS_BIN  the installed bin folder (default: run install.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${WHARF_SERVERS_BIN:-$("$here/install.sh")}"
work="$(mktemp -d)"
# As root without user namespaces the PostgreSQL wrappers run it as the user
# nobody, which must be able to write here.
[[ "$(id -u)" != 0 ]] || chmod 1777 "$work"
pids=()

say() { printf '[smoke] %s\n' "$*" >&2; }

cleanup() {
  # SIGINT is PostgreSQL's fast shutdown; the others exit on it too.
  [[ ${#pids[@]} -gt 0 ]] && kill -INT "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A port nothing on 127.0.0.1 listens on (a bash-only probe; no python or ss).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

# start NAME COMMAND...: runs COMMAND in the background, its output in a log.
start() {
  local name="$1"
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}

# until_ok WHAT COMMAND...: retries COMMAND for up to 30s.
until_ok() {
  local what="$1" i
  shift
  for ((i = 0; i < 300; i++)); do
    if "$@" >/dev/null 2>&1; then
      return
    fi
    sleep 0.1
  done
  say "$what did not answer; logs in $work:"
  tail -n 20 "$work"/*.log >&2
  trap - EXIT
  kill -INT "${pids[@]}" 2>/dev/null
  exit 1
}

# http_get PORT PATH: the response to a plain HTTP/1.0 GET, headers included.
http_get() {
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  cat <&3
  exec 3>&-
}

nats() {
  local port mon
  port="$(free_port)" mon="$(free_port)"
  start nats "$bin/nats-server" -a 127.0.0.1 -p "$port" -m "$mon" -js -sd "$work/nats"
  until_ok "nats-server /healthz" bash -c "$(declare -f http_get); http_get $mon /healthz | grep -q '\"status\":\"ok\"'"
}

postgres() {
  local primary replica
  primary="$(free_port)" replica="$(free_port)"
  "$bin/initdb" -D "$work/pg" -U postgres --auth=trust --locale=C.UTF-8 -E UTF8 >"$work/initdb.log"
  start pg-primary "$bin/postgres" -D "$work/pg" -p "$primary" -k "$work" -c listen_addresses=127.0.0.1
  until_ok "postgres primary" "$bin/pg_isready" -q -h 127.0.0.1 -p "$primary"
  "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$work/pg-replica" -R -X stream -c fast
  start pg-replica "$bin/postgres" -D "$work/pg-replica" -p "$replica" -k "$work" -c listen_addresses=127.0.0.1
  until_ok "postgres replica streaming" bash -c "[[ \"\$('$bin/psql' -h 127.0.0.1 -p $replica -U postgres -Atc \
    'select pg_is_in_recovery(), status from pg_stat_wal_receiver')\" == 't|streaming' ]]"
}

redis() {
  local port sentinel
  port="$(free_port)" sentinel="$(free_port)"
  mkdir "$work/redis"
  start redis "$bin/redis-server" --bind 127.0.0.1 --port "$port" --dir "$work/redis" --save ''
  until_ok "redis PING" bash -c "[[ \"\$('$bin/redis-cli' -p $port ping)\" == PONG ]]"
  # Sentinel rewrites its config file, so it must be its own writable file.
  printf 'bind 127.0.0.1\nport %s\ndir %s\nsentinel monitor main 127.0.0.1 %s 1\n' \
    "$sentinel" "$work/redis" "$port" >"$work/redis/sentinel.conf"
  start sentinel "$bin/redis-sentinel" "$work/redis/sentinel.conf"
  until_ok "redis-sentinel" bash -c "'$bin/redis-cli' -p $sentinel sentinel get-master-addr-by-name main | grep -qx $port"
}

s3() {
  local port
  port="$(free_port)"
  mkdir "$work/s3"
  start versitygw env ROOT_ACCESS_KEY=wharf ROOT_SECRET_KEY=wharf-secret \
    "$bin/versitygw" --port "127.0.0.1:$port" posix "$work/s3"
  # Unsigned requests get an S3 error document (AccessDenied), as from AWS.
  until_ok "versitygw" bash -c "$(declare -f http_get); http_get $port / | grep -q '<Error><Code>'"
}

for server in nats postgres redis s3; do
  t0=${EPOCHREALTIME/./}
  "$server"
  ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
  say "$server answers (${ms} ms)"
done
say "all servers answer, as $(id -un)"
