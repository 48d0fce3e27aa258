"""`rocket2 --help` is typed by people: building the parser imports none of what `setup` and
`doctor` run (the checks, the manifest schema's validator, the stand-ins' pages)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from app.cli import build_parser
build_parser()
print(" ".join(sorted(m for m in sys.modules
      if m.startswith(("app.doctor", "app.setup", "jsonschema", "app.github.apps")))))
"""


def test_the_parser_imports_only_the_two_parsers():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["app.doctor", "app.doctor.cli", "app.setup", "app.setup.cli"]
