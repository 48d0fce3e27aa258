"""Run the `rocket2` command line in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def rocket2(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`rocket2 ARGS…` with only ``env`` (plus PATH, HOME, LANG) in its environment."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
