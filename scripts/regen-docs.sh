#!/usr/bin/env bash
# Regenerate every document built from the code: .env.example and app.json (from the settings
# schema), and the docs' generated blocks (scripts/regen_docs.py: the config reference, the
# members' commands, the layer diagram). Run after changing a setting, a command or a layer;
# tests check them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
"$PY" -m app.cli config example > .env.example
"$PY" -m app.cli app-json > app.json
"$PY" scripts/regen_docs.py
