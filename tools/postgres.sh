#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's packages, for the cluster tests and benches.
#   tools/postgres.sh install          apt-get install postgresql when absent (quick no-op otherwise)
#   tools/postgres.sh start DIR        initdb in DIR (must not exist or be empty), start on 127.0.0.1 at a
#                                      free port; prints the URL (postgres://embedflow@127.0.0.1:PORT/embedflow)
#   tools/postgres.sh stop DIR         fast shutdown (kept on disk)
#   tools/postgres.sh restart DIR      stop then start on the same port (what the restart test does)
#   tools/postgres.sh remove DIR       stop and delete DIR
# Postgres refuses to run as root: as root the server runs as the `postgres` system user (runuser).
# At `start` of a new DIR, POSTGRES_LISTEN (default 127.0.0.1; comma-separated) and POSTGRES_TRUST_CIDR
# (clients from that network may connect without a password; the network-namespace test's bridge) are
# recorded in DIR and kept across restarts.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin_dir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -n "$d" ] || { echo "postgres.sh: PostgreSQL is not installed (run: tools/postgres.sh install)" >&2; exit 1; }
  echo "$d"
}

install() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "[postgres] apt-get install postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
}

free_port() {
  # process.stdout.write, not console.log: under FORCE_COLOR (nx, vitest) console.log colours numbers.
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(s.address().port+"\n");s.close()})'
}

start_server() {
  local bin port
  bin="$(bin_dir)"
  port="$(cat "$dir/port")"
  listen="$(cat "$dir/listen")"
  # The socket folder inside the data folder: nothing outside DIR is touched.
  as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=$listen -c port=$port -c unix_socket_directories=$dir/data -c fsync=off -c max_connections=200" start >/dev/null
}

stop_server() {
  local bin
  bin="$(bin_dir)"
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
}

[ -n "$cmd" ] || { echo "usage: tools/postgres.sh install | start DIR | stop DIR | restart DIR | remove DIR" >&2; exit 2; }
if [ "$cmd" != install ] && [ -z "$dir" ]; then echo "postgres.sh $cmd: DIR is required" >&2; exit 2; fi

case "$cmd" in
  install) install ;;
  start)
    install
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ ! -d "$dir/data" ]; then
      [ "$(id -u)" = 0 ] && chown postgres "$dir"
      # fsync off and trust auth on 127.0.0.1: a throwaway server for tests, never data that matters.
      as_server_user "$(bin_dir)/initdb" -D "$dir/data" -U embedflow --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      free_port >"$dir/port"
      echo "${POSTGRES_LISTEN:-127.0.0.1}" >"$dir/listen"
      if [ -n "${POSTGRES_TRUST_CIDR:-}" ]; then echo "host all all $POSTGRES_TRUST_CIDR trust" >>"$dir/data/pg_hba.conf"; fi
    fi
    start_server
    as_server_user "$(bin_dir)/createdb" -h 127.0.0.1 -p "$(cat "$dir/port")" -U embedflow embedflow 2>/dev/null || true
    echo "postgres://embedflow@127.0.0.1:$(cat "$dir/port")/embedflow"
    ;;
  stop) stop_server ;;
  restart) stop_server; start_server ;;
  remove) stop_server; rm -rf "$dir" ;;
  *) echo "postgres.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
