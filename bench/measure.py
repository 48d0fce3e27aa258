"""Process measurements from /proc: the RSS of a process tree."""

from __future__ import annotations

import os
from pathlib import Path


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    for task in task_dir.iterdir() if task_dir.exists() else []:
        children = task / "children"
        if children.exists():
            kids += [int(p) for p in children.read_text().split()]
    return kids


def tree_pids(pid: int) -> list[int]:
    """The pid and every descendant."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def tree_rss_mib(pid: int) -> float:
    """RSS of the master plus every descendant, in MiB."""
    return sum(rss_kib(p) for p in tree_pids(pid)) / 1024


def pss_kib(pid: int) -> int:
    """Proportional set size of one process in KiB: shared pages divided among their sharers."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        return 0
    return 0


def tree_pss_mib(pid: int) -> float:
    """PSS of the master plus every descendant, in MiB (what the tree really costs)."""
    return sum(pss_kib(p) for p in tree_pids(pid)) / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time one process has used so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of the master plus every descendant, in seconds."""
    return sum(cpu_seconds(p) for p in tree_pids(pid))
