#!/usr/bin/env bash
# `make run`: serve Rocket 2 on :5000 (or $PORT) in local development mode, with no accounts.
# Writes a throwaway ./.env if there is none (fresh RSA key, random secrets, Slack and GitHub
# APIs pointed at a closed local port), then execs the real server: gunicorn -c gunicorn.conf.py.
#   --env-only   only write the .env (if missing) and exit
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"; else PY="python3"; fi
fi

"$PY" -m app.cli dev-env --path .env
if [ "${1:-}" = "--env-only" ]; then
  exit 0
fi
echo "Rocket 2 (local development mode) on http://localhost:${PORT:-5000}/ — Ctrl-C stops it."
echo "Slack and GitHub are not reachable from this config: outside calls fail and are logged once each."
exec "$PY" -m gunicorn -c "$REPO/gunicorn.conf.py"
