"""Functions of at most 60 lines (from ``def`` to the last line, decorators aside) in app/,
config/, scripts/ and bench/; a longer one is split, or named below with the reason it waits."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("app", "config", "scripts", "bench")
LIMIT = 60
# Being split on other branches; the lead empties this list at merge.
WAITING: set[tuple[str, str]] = set()


@functools.cache
def long_functions() -> frozenset[tuple[str, str, int]]:
    """(path, name, lines) of every function longer than LIMIT."""
    found = set()
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > LIMIT:
                        found.add((str(path.relative_to(REPO)), node.name, lines))
    return frozenset(found)


def test_no_function_is_longer_than_sixty_lines():
    too_long = {
        (path, name, n) for path, name, n in long_functions() if (path, name) not in WAITING
    }
    assert not too_long, f"split these (lines from `def`): {sorted(too_long)}"


def test_every_waiting_function_is_still_long():
    """A function split elsewhere leaves the list (so the list only ever shrinks)."""
    still = {(path, name) for path, name, _n in long_functions()}
    assert still >= WAITING, f"remove from WAITING: {sorted(WAITING - still)}"
