"""Failed requests while the VM is updated: scripts/deploy.sh and a plain `docker compose up -d`.

`python -m bench.deploy [--output BENCHMARKS.md]` runs the container tests that update the stack
under a steady client loop (tests/container/test_rollout.py: one request every 20 ms through
nginx's https port, GETs, signed slash commands and signed webhooks) with ROCKET2_DEPLOY_REPORT
set, and writes their numbers as the "Updates on the VM" section of BENCHMARKS.md (in place; the
rest of the file is kept). Without a Docker engine (not root, no dockerd) the section says why
it was skipped. `python -m bench` includes the section too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TITLE = "Updates on the VM: failed requests during deploy.sh and `docker compose up -d`"
PYTEST = ["-m", "pytest", "-m", "container", "-q", "-p", "no:cacheprovider"]
TESTS = ["tests/container/test_deploy.py", "tests/container/test_rollout.py"]


def measure() -> list[dict[str, object]] | str:
    """The loops' numbers (one dict per case), or why they could not be measured."""
    if os.geteuid() != 0:
        return "skipped: the private Docker engine needs root"
    with tempfile.TemporaryDirectory(prefix="rocket2-bench-deploy-") as tmp:
        report = Path(tmp) / "report.jsonl"
        env = {**os.environ, "ROCKET2_DEPLOY_REPORT": str(report)}
        proc = subprocess.run(
            [sys.executable, *PYTEST, *TESTS],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        last = (proc.stdout.strip().splitlines() or [""])[-1]
        print(f"bench.deploy: the container tests: {last.strip('= ')}", file=sys.stderr)
        results = []
        if report.exists():
            results = [json.loads(line) for line in report.read_text().splitlines()]
        if not results:
            if "skipped" in last and "passed" not in last:
                return f"skipped: the container tests skipped ({last.strip('= ')})"
            tail = (proc.stdout + proc.stderr).strip()[-400:]
            return f"not measured: the container tests reported nothing ({tail})"
        if proc.returncode != 0:
            for result in results:
                result["note"] = "the run had failing tests"
        return results


def rows(results: list[dict[str, object]] | str) -> list[str]:
    """The section's table (or the reason it is empty)."""
    if isinstance(results, str):
        return [results]
    lines = [
        "Each case: a client loop through nginx (https, loopback), one request every 20 ms, "
        "cycling `GET /`, `GET /healthz`, a signed `/rocket help` and a signed GitHub `ping`; "
        "the outage is from the first failed request to the next success after the last one.",
        "",
        "| update | requests | failed | outage ms | took s |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        took = r.get("seconds", "–")
        note = f" ({r['note']})" if r.get("note") else ""
        lines.append(
            f"| {r['case']}{note} | {r['sent']} | {r['failed']} | {r['outage_ms']} | {took} |"
        )
    return lines


def read_section(path: Path) -> list[str]:
    """The section's lines in an earlier report (an earlier "kept" note left out), or []."""
    text = path.read_text() if path.exists() else ""
    heading = f"## {TITLE}"
    if heading not in text:
        return []
    start = text.index(heading) + len(heading)
    end = text.find("\n## ", start)
    lines = text[start : end if end != -1 else len(text)].strip().splitlines()
    while lines and (lines[0].startswith("Not re-measured") or not lines[0].strip()):
        lines.pop(0)
    return lines


def write_section(path: Path, lines: list[str]) -> None:
    """Replace (or append) the section in BENCHMARKS.md."""
    text = path.read_text() if path.exists() else "# Rocket 2 benchmarks\n"
    heading = f"## {TITLE}"
    block = "\n".join([heading, "", *lines, ""]) + "\n"
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + block + (text[end + 1 :] if end != -1 else "")
    else:
        marker = "\n## Where a target is missed"
        at = text.find(marker)
        text = (text[: at + 1] + block + text[at + 1 :]) if at != -1 else text + "\n" + block
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Measure and write the section."""
    parser = argparse.ArgumentParser(prog="python -m bench.deploy", description=__doc__)
    parser.add_argument("--output", default=str(REPO / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    write_section(Path(args.output), rows(measure()))
    print(f"bench.deploy: wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
