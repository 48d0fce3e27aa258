#!/usr/bin/env bash
# Regenerate every document built from the settings schema: .env.example, app.json and the
# README's config reference. Run after changing config/settings.py; tests check all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
"$PY" -m app.cli config example > .env.example
"$PY" -m app.cli app-json > app.json
"$PY" - <<'PYEOF'
from pathlib import Path

from config.docs import markdown_reference

readme = Path("README.md")
text = readme.read_text(encoding="utf-8")
head, rest = text.split("<!-- config-reference:start", 1)
marker, rest = rest.split("-->", 1)
_, tail = rest.split("<!-- config-reference:end -->", 1)
body = f"<!-- config-reference:start{marker}-->\n{markdown_reference()}\n<!-- config-reference:end -->"
readme.write_text(head + body + tail, encoding="utf-8")
PYEOF
