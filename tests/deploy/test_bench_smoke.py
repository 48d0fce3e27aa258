"""The benchmark keeps working: a tiny run of `python -m bench --smoke` writes a full report."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import require_binary
from tests.support.gunicorn import REPO


def test_bench_smoke_run_writes_every_section(tmp_path):
    require_binary("nginx")
    require_binary("wrk")
    output = tmp_path / "BENCHMARKS.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--keep-deploy", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = output.read_text()
    for heading in (
        "## Targets",
        "## GET /",
        "## Signed `/rocket help`",
        "## Cold start",
        "## Memory",
        "## What the master imports",
        "## `load_config()`",
    ):
        assert heading in report
    assert "python -m bench --smoke" in report
    for kind in ("| Rocket 2 |", "| Bolt peer |", "| bare Flask |"):  # all three measured
        assert kind in report
    # every reply reached the slow response_url stand-in
    assert "| Replies lost | 0 | 0 | met |" in report
