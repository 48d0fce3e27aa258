"""environs under the one declaration: each setting's parser is an environs parser.

``SettingsEnv(environ)`` is an ``environs.Env(eager=False)``: ``read_env`` reads the .env file
(environs' own reader), ``lookup`` gives a variable's raw text (``environ`` wins over the
file; empty counts as unset), and ``parse_settings`` parses each resolved value with the
setting's parser, registered with ``add_parser``, collecting every failure until ``seal()``.
A parser's ValueError becomes environs' EnvError with the parser's own message, which never
quotes the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from environs import Env, EnvError, EnvValidationError

from config import parsers
from config.declaration import Setting

NOT_SET = "Environment variable not set."
# Parsers that are environs' own (the rest are registered under ``parser_name``).
BUILTIN: dict[Callable[[str], Any], str] = {parsers.text: "str"}


class SettingsEnv(Env):
    """An environs Env whose values are the loader's resolved ones (see ``resolve``)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(eager=False)
        self._given = environ
        self._resolved: Mapping[str, str] = {}
        self._registered: dict[Callable[[str], Any], str] = {}

    @property
    def dotenv(self) -> Mapping[str, str]:
        """The variables ``read_env`` read from the .env file."""
        return self._environ

    def lookup(self, name: str) -> tuple[str | None, str]:
        """``name``'s raw text and where it came from ("env", ".env"); (None, "default")."""
        for raw, source in ((self._given.get(name), "env"), (self._environ.get(name), ".env")):
            if raw not in (None, ""):
                return raw, source
        return None, "default"

    def names(self) -> set[str]:
        """Every variable name given (environment and .env)."""
        return set(self._given) | set(self._environ)

    def _get_value(self, env_key: str, default: Any) -> Any:
        return self._resolved.get(env_key, default)

    def parse_settings(
        self, settings: Iterable[Setting[Any]], resolved: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Each setting parsed from ``resolved`` (else its default): the values by attribute,
        and, from ``seal()``, the messages of those that failed, by variable name."""
        self._resolved = resolved
        values: dict[str, tuple[str, Any]] = {}
        for setting in settings:
            method = getattr(self, self._parser(setting.parse))
            default = ... if setting.default is None else setting.default
            values[setting.name] = (setting.attr, method(setting.name, default))
        errors: dict[str, list[str]] = {}
        try:
            self.seal()
        except EnvValidationError as exc:
            found = exc.error_messages
            if isinstance(found, Mapping):
                errors = {name: list(messages) for name, messages in found.items()}
        parsed = {attr: value for name, (attr, value) in values.items() if name not in errors}
        return parsed, errors

    def _parser(self, parse: Callable[[str], Any]) -> str:
        """The name of the environs parser for ``parse`` (registered on first use)."""
        if parse in BUILTIN:
            return BUILTIN[parse]
        name = self._registered.get(parse)
        if name is None:
            name = _unique(parser_name(parse), set(self._registered.values()))
            self.add_parser(name, _as_environs_parser(parse))
            self._registered[parse] = name
        return name


def parser_name(parse: Callable[[str], Any]) -> str:
    """The name a setting's parser is registered under: ``parse_`` and the function's name."""
    return "parse_" + re.sub(r"\W", "_", getattr(parse, "__name__", type(parse).__name__))


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``… when another parser has it."""
    count, found = 1, name
    while found in taken:
        count += 1
        found = f"{name}_{count}"
    return found


def _as_environs_parser(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` raising environs' EnvError (which ``eager=False`` collects) for ValueError."""

    def environs_parser(value: str) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            raise EnvError(str(exc)) from None

    return environs_parser


def read_env_file(path: Path) -> dict[str, str]:
    """The variables the .env file at ``path`` sets, read as the loader reads it (environs'
    ``read_env``; a name with no ``=`` sets nothing)."""
    env = SettingsEnv({})
    env.read_env(path, recurse=False)
    return dict(env.dotenv)
