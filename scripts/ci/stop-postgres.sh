#!/usr/bin/env bash
# Stop the throwaway cluster scripts/ci/start-postgres.sh started, and remove its directory.
set -euo pipefail

dir="${ROCKET2_PG_DIR:-}"
bindir="${ROCKET2_PG_BINDIR:-}"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  exit 0
fi
case "$dir" in
  /tmp/rocket2-pg.*) ;;
  *) echo "stop-postgres: refusing to remove unexpected directory $dir" >&2; exit 1 ;;
esac
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  run_as=(runuser -u postgres --)
fi
if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
fi
rm -rf "$dir"
echo "stop-postgres: stopped and removed $dir"
