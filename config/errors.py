"""The one error type the config core raises: every problem at once, never a value."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one variable: what is wrong and how to fix it."""

    name: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.what} — {self.fix}" if self.fix else f"{self.name}: {self.what}"


class ConfigError(Exception):
    """Raised by load_config with every problem found, one per line, with no values in it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(str(self))

    @property
    def names(self) -> tuple[str, ...]:
        """The variable names that have a problem, in order."""
        return tuple(p.name for p in self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"Rocket 2 configuration is invalid ({count} problem{'s' if count != 1 else ''}):"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])
