#!/usr/bin/env bash
# Install Heroku's CLI (npm package `heroku`, pinned) under .cache/heroku-cli, for the tests that
# run `heroku local` on the .env files Rocket 2 writes (tests/deploy/test_deploy_envfiles.py).
# Idempotent; about 30 s and 400 MB the first time. Needs Node.js >= 20 and npm; without them it
# says so and exits 0 (the tests then skip, or fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

version="11.10.0"
prefix=".cache/heroku-cli"
if ! command -v npm >/dev/null 2>&1; then
  echo "install-heroku-cli: npm not found; heroku local is not tested" >&2
  exit 0
fi
if [ -x "$prefix/node_modules/.bin/heroku" ] \
  && grep -q "\"version\": \"$version\"" "$prefix/node_modules/heroku/package.json"; then
  exit 0
fi
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "heroku@$version"
echo "install-heroku-cli: heroku $version installed in $prefix"
