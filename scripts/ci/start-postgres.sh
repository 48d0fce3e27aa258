#!/usr/bin/env bash
# Sourced by scripts/test.sh: start a throwaway PostgreSQL cluster for the store tests and export
# DATABASE_URL_TEST. The cluster lives in a temporary directory, listens on 127.0.0.1 only, on a
# free high port, and is removed by scripts/ci/stop-postgres.sh. Nothing is written under /etc or
# /var/lib/postgresql. As root (CI), the server runs as the `postgres` user, because PostgreSQL
# refuses to run as root.
# shellcheck shell=bash

_rocket2_pg_start() {
  if [ -n "${DATABASE_URL_TEST:-}" ]; then
    echo "start-postgres: DATABASE_URL_TEST is already set; using that server"
    return 0
  fi
  local bindir
  bindir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "start-postgres: PostgreSQL is not installed (apt-get install postgresql); PostgreSQL tests will skip (or fail in CI)" >&2
    return 0
  fi

  local dir run_as=()
  dir="$(mktemp -d /tmp/rocket2-pg.XXXXXX)"
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    run_as=(runuser -u postgres --)
  fi

  "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U rocket2 -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    echo "start-postgres: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    return 1
  }

  local attempt port started=""
  for attempt in 1 2 3; do
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
      start >/dev/null; then
      started=1
      break
    fi
    echo "start-postgres: start on port $port failed (attempt $attempt)" >&2
  done
  if [ -z "$started" ]; then
    cat "$dir/server.log" >&2 || true
    return 1
  fi
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U rocket2 rocket2

  export ROCKET2_PG_DIR="$dir"
  export ROCKET2_PG_BINDIR="$bindir"
  export DATABASE_URL_TEST="postgresql://rocket2@127.0.0.1:$port/rocket2"
  echo "start-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (DATABASE_URL_TEST exported)"
}

_rocket2_pg_start
