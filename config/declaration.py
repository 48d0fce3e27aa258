"""How a setting is declared: `setting(...)` on a field of a `@settings_class` dataclass.

The field's annotation is the typed attribute, and mypy checks that `parse` returns it. The
variable's name is the attribute in capitals. `declared(cls)` lists the declarations in order;
the loader, `config check` and the generated documents read only that list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any, dataclass_transform

_KEY = "rocket2.setting"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Setting[T]:
    """One environment variable: its parser, default, secrecy and documentation."""

    description: str
    parse: Callable[[str], T]  # raises ValueError with a message that never quotes the value
    fix: str  # how to fix a wrong or missing value, shown after the problem
    default: str | None = None  # the text parsed when unset; None: required
    secret: bool = False  # the attribute hides the value (Secret, GitHubKey)
    example: str = ""  # shown in .env.example for settings that are not secret
    generate: bool = False  # app.json lets Heroku generate a random value
    heroku_sets: bool = False  # Heroku sets it itself, so app.json leaves it out
    min_length: int = 0  # a shorter value loads, with a warning
    together: str = ""  # settings sharing this purpose are given all together or not at all
    shown: Callable[[str], str] | None = None  # how `config check` shows a secret's text
    secret_parts: Callable[[str], tuple[str, ...]] | None = None  # what the log filter masks
    attr: str = ""  # filled in by declared()

    @property
    def name(self) -> str:
        """The environment variable: the attribute's name in capitals."""
        return self.attr.upper()

    @property
    def required(self) -> bool:
        """A setting without a default must be given."""
        return self.default is None


def setting[T](
    parse: Callable[[str], T],
    *,
    description: str,
    fix: str,
    default: str | None = None,
    secret: bool = False,
    example: str = "",
    generate: bool = False,
    heroku_sets: bool = False,
    min_length: int = 0,
    together: str = "",
    shown: Callable[[str], str] | None = None,
    secret_parts: Callable[[str], tuple[str, ...]] | None = None,
) -> T:
    """Declare the field as a setting; with a default, the field defaults to its parsed value."""
    declaration = Setting(
        description=description,
        parse=parse,
        fix=fix,
        default=default,
        secret=secret,
        example=example,
        generate=generate,
        heroku_sets=heroku_sets,
        min_length=min_length,
        together=together,
        shown=shown,
        secret_parts=secret_parts,
    )
    metadata = {_KEY: declaration}
    if default is None:
        made: Any = dataclasses.field(metadata=metadata)
    else:
        made = dataclasses.field(default_factory=partial(parse, default), metadata=metadata)
    return made  # type: ignore[no-any-return]


@dataclass_transform(
    frozen_default=True, kw_only_default=True, field_specifiers=(setting, dataclasses.field)
)
def settings_class[C](cls: type[C]) -> type[C]:
    """Make ``cls`` a frozen, slotted, keyword-only dataclass of settings."""
    return dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)


def declared(cls: type[Any]) -> tuple[Setting[Any], ...]:
    """Every setting declared on ``cls``, in declaration order, with its attribute filled in."""
    return tuple(
        dataclasses.replace(f.metadata[_KEY], attr=f.name)
        for f in dataclasses.fields(cls)
        if _KEY in f.metadata
    )
