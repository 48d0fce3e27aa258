"""The shell blocks of the docs and the marker above each that says where it runs.

Every ```sh (or bash, shell, console) block in README.md, CONTRIBUTING.md and docs/ has, on the
line before it, one of:

    <!-- example: playground -->        run as written in a `make run` playground's directory
    <!-- example: empty-dir -->         run as written in an empty directory
    <!-- example: not-run (REASON) -->  cannot run here (a real VM, Heroku, root, …)
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from tests.support.gunicorn import REPO

SHELL_FENCE = re.compile(r"^(?P<indent>\s*)```(?:sh|bash|shell|console)\s*$")
MARKER = re.compile(r"^\s*<!-- example: (?P<kind>[\w-]+)(?: \((?P<reason>[^)]+)\))? -->\s*$")
KINDS = ("playground", "empty-dir", "not-run")
# The Quick start first: the other playground blocks build on its walk-through.
FIRST = ("docs/quick-start.md",)


@dataclass(frozen=True)
class Block:
    """One shell block: where it is, its marker (kind and reason) and its text."""

    page: str
    line: int
    kind: str | None
    reason: str | None
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[str]:
    """The Markdown files whose examples count, the Quick start first."""
    found = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
    found += sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.md"))
    return [*FIRST, *(p for p in found if p not in FIRST)]


def blocks(page: str) -> list[Block]:
    """Every shell block of ``page``, in order."""
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = SHELL_FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        marker = MARKER.match(lines[index - 1]) if index else None
        body = textwrap.dedent("\n".join(lines[index + 1 : end])) + "\n"
        kind = marker.group("kind") if marker else None
        reason = marker.group("reason") if marker else None
        found.append(Block(page, index + 1, kind, reason, body))
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    """Every shell block of every page."""
    return [block for page in pages() for block in blocks(page)]
