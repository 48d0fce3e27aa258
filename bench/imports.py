"""What each library Rocket 2 needs costs at start-up: RSS and import time, in a fresh interpreter.

Run as a script (a child process), it imports the libraries one after the other and prints one
JSON object per library.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

# In the order a worker meets them; each line is what it adds on top of the ones before.
LIBRARIES = (
    ("flask", "the web framework (bare Flask has this too)"),
    ("environs", "config parsing and .env"),
    ("cryptography.hazmat.primitives.serialization", "GITHUB_KEY loading (both)"),
    ("slack_sdk", "Slack Web API client"),
    ("httpx", "GitHub API client"),
    ("jwt", "GitHub App JWT"),
    ("sqlalchemy.orm", "the store"),
    ("alembic.command", "migrations (the master, at start)"),
    ("apscheduler.schedulers.background", "the scheduler"),
)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure() -> list[dict[str, float | str]]:
    """Import each library in a fresh child interpreter; return its added RSS and time."""
    out = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


if __name__ == "__main__":
    for name, _ in LIBRARIES:
        before, started = _rss_mib(), time.perf_counter()
        importlib.import_module(name)
        elapsed = time.perf_counter() - started
        print(json.dumps({"module": name, "mib": _rss_mib() - before, "ms": elapsed * 1000}))
