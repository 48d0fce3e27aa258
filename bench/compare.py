"""`python -m bench.compare BEFORE.md AFTER.md [--title T]`: a "before and after" section.

Reads two reports written by `python -m bench` (the same harness, run back to back) and writes
into AFTER.md, before its analysis, a section with what issue 24 asks: the signed-ack p99 at
each client count, the server's CPU per ack, the cold start and the RSS of master and worker,
each beside the Bolt peer and bare Flask of the same run. Numbers are copied from the reports'
tables, never typed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

KINDS = ("Rocket 2", "Bolt peer", "bare Flask")
SECTION = "## Before and after"
ANALYSIS = "## Where a target is missed, and why"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _median(cell: str) -> str:
    """'12.3 (11.0–14.1)' → '12.3'."""
    return cell.split(" ")[0]


def _section(report: str, heading: str) -> list[list[str]]:
    """The table rows (cells) of the section whose heading starts with ``heading``."""
    start = report.index("\n## " + heading)
    end = report.find("\n## ", start + 1)
    body = report[start : end if end >= 0 else len(report)]
    return [_cells(line) for line in body.splitlines() if line.startswith("| ")]


def figures(report: str) -> dict[str, str]:
    """The figures compared, keyed ``measure/kind``."""
    found: dict[str, str] = {}
    commands = _section(report, "Signed `/rocket help`")
    header = commands[0]
    cpu = header.index("server CPU ms per ack") if "server CPU ms per ack" in header else None
    for row in commands[1:]:
        if len(row) > 4 and row[1] in KINDS:
            clients = f"{row[0]} client" + ("" if row[0] == "1" else "s")
            found[f"ack p99 ms, {clients}/{row[1]}"] = _median(row[4])
            if cpu is not None:
                found[f"server CPU ms per ack, {clients}/{row[1]}"] = _median(row[cpu])
    for row in _section(report, "Cold start"):
        if row[0] in KINDS:
            found[f"cold start to the first ack, s/{row[0]}"] = row[2]
    for row in _section(report, "Memory"):
        if row[0] in KINDS and "(" in row[2]:
            total, split = row[2].split(" (", 1)
            master, worker = split.rstrip(")").split(" + ")
            found[f"RSS after requests, MiB/{row[0]}"] = total
            found[f"RSS of the master, MiB/{row[0]}"] = master
            found[f"RSS of the worker, MiB/{row[0]}"] = worker
    return found


def rows(before: str, after: str) -> list[str]:
    """The section's table: Rocket 2 before and after, the peers after."""
    old, new = figures(before), figures(after)
    measures = list(dict.fromkeys(key.split("/")[0] for key in new))
    lines = [
        "| measure | Rocket 2 before | Rocket 2 after | Bolt peer | bare Flask |",
        "|---|---|---|---|---|",
    ]
    for measure in measures:
        shown = [
            old.get(f"{measure}/Rocket 2", "–"),
            new.get(f"{measure}/Rocket 2", "–"),
            new.get(f"{measure}/Bolt peer", "–"),
            new.get(f"{measure}/bare Flask", "–"),
        ]
        lines.append(f"| {measure} | {' | '.join(shown)} |")
    return lines


def insert(before_path: Path, after_path: Path, title: str) -> None:
    """Write the section into ``after_path`` (replacing an earlier one)."""
    before, after = before_path.read_text(), after_path.read_text()
    run_line = next(line for line in before.splitlines() if line.startswith("Produced by"))
    load = run_line[run_line.index("Load average") :] if "Load average" in run_line else ""
    section = [
        f"{SECTION} ({title})",
        "",
        "Rocket 2 before the change against after it, the same harness run back to back "
        "(`python -m bench.compare`); the peers' figures are the after run's (medians). The "
        "before run's l" + load[1:],
        "",
        *rows(before, after),
        "",
    ]
    if SECTION in after:
        start = after.index(SECTION)
        end = after.find("\n## ", start + 1)
        after = after[:start] + after[end + 1 :]
    cut = after.index(ANALYSIS) if ANALYSIS in after else len(after)
    after_path.write_text(after[:cut] + "\n".join(section) + "\n" + after[cut:])


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--title", default="issue 24")
    args = parser.parse_args()
    insert(args.before, args.after, args.title)


if __name__ == "__main__":
    main()
