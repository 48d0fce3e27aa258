"""One check's outcome, and the report of all of them (text or JSON, and the exit status)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["ok", "warn", "fail"]
EXIT = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Result:
    """What one check found: its status, one line on what it saw, one line on the fix."""

    check: str
    status: Status
    message: str
    fix: str = ""


def ok(check: str, message: str) -> Result:
    """A passing check."""
    return Result(check, "ok", message)


def warn(check: str, message: str, fix: str) -> Result:
    """A check that found something to look at, not a broken wire."""
    return Result(check, "warn", message, fix)


def fail(check: str, message: str, fix: str) -> Result:
    """A check that found the deploy wired wrong."""
    return Result(check, "fail", message, fix)


def exit_status(results: list[Result]) -> int:
    """0 when all are ok, 1 with warnings only, 2 on any failure."""
    return max((EXIT[r.status] for r in results), default=0)


def render_text(results: list[Result]) -> str:
    """One line per check, and its fix indented under it."""
    width = max((len(r.check) for r in results), default=0)
    lines = []
    for result in results:
        lines.append(f"{result.status:<4}  {result.check:<{width}}  {result.message}")
        if result.fix:
            lines.append(f"      {'':<{width}}  fix: {result.fix}")
    counts = {s: sum(r.status == s for r in results) for s in EXIT}
    lines.append(f"\n{counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail")
    return "\n".join(lines)


def render_json(results: list[Result]) -> str:
    """The results as a JSON document (``checks`` and ``status``)."""
    worst = max(results, key=lambda r: EXIT[r.status]).status if results else "ok"
    return json.dumps({"status": worst, "checks": [asdict(r) for r in results]}, indent=2)
