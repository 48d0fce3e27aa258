"""How long the operator's commands take to start, beside Flask's own `flask --help`.

Each command runs as a fresh process in the bench's venv, the three interleaved so a busy
machine slows them alike; the figures are wall-clock seconds per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def commands() -> dict[str, list[str]]:
    """The commands measured: ours, and the peer."""
    return {
        "rocket2 --help": [str(BIN / "rocket2"), "--help"],
        "rocket2 config check": [str(BIN / "rocket2"), "config", "check"],
        "flask --help": [str(BIN / "flask"), "--help"],
    }


def measure(env: dict[str, str], workdir: Path, runs: int) -> dict[str, list[float]]:
    """Seconds per run of each command (``config check`` reads ``env``; it must pass)."""
    workdir.mkdir(parents=True, exist_ok=True)
    child_env = {"PATH": os.environ.get("PATH", ""), **env}
    times: dict[str, list[float]] = {name: [] for name in commands()}
    for _ in range(runs):
        for name, argv in commands().items():
            started = time.perf_counter()
            subprocess.run(argv, cwd=workdir, env=child_env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - started)
    return times
