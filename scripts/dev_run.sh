#!/usr/bin/env bash
# `make run`: serve Rocket 2 on :5000 (or $PORT) in local development mode, with no accounts.
# Writes a throwaway ./.env if there is none (fresh RSA key, random secrets, Slack and GitHub
# pointed at the local stand-ins on 127.0.0.1:5001, or $DEV_STANDINS_PORT), starts the stand-ins
# (`rocket2 dev standins`, state in data/dev/), then the real server: gunicorn -c gunicorn.conf.py.
# Ctrl-C or TERM stops both. $DEV_STANDINS_RECORD=FILE: the stand-ins record their exchanges there.
#   --env-only   only write the .env (if missing) and exit
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"; else PY="python3"; fi
fi

"$PY" -m app.cli dev-env --path .env --standins-port "${DEV_STANDINS_PORT:-5001}" --port "${PORT:-5000}"
if [ "${1:-}" = "--env-only" ]; then
  exit 0
fi
"$PY" -m app.cli dev standins ${DEV_STANDINS_RECORD:+--record "$DEV_STANDINS_RECORD"} &
standins=$!
"$PY" -m gunicorn -c "$REPO/gunicorn.conf.py" &
server=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$server" "$standins" 2>/dev/null || true
  wait "$server" "$standins" 2>/dev/null || true
}
trap stop INT TERM EXIT
url="$(PYTHONWARNINGS=ignore "$PY" -c 'from app.dev.server import standins_url; from config import load_config; print(standins_url(load_config(env_file=".env")))')"
cat <<MSG
Rocket 2 (local development mode) on http://127.0.0.1:${PORT:-5000}/ — Ctrl-C stops it.
Slack and GitHub are local stand-ins (state in data/dev/). Next:
  open ${url}/                          type /rocket commands, watch the bot and the GitHub org
  .venv/bin/rocket2 dev send "/rocket help"   the same from a shell (--as ada to be someone else)
MSG
wait -n "$server" "$standins"
