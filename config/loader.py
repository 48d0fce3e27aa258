"""load_config(): read the environment (and optionally a .env file) once, validate every setting
in SETTINGS, and return one immutable Config, or raise one ConfigError that lists every problem.

A variable that is unset or empty in the environment is taken from the .env file; NAME_FILE
gives any variable from a file. Problems name the variable and never quote its value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dotenv import dotenv_values

from config.errors import ConfigError, Problem
from config.settings import OLD_BOT_VARIABLES, SETTINGS, Config, Source

log = logging.getLogger("rocket2.config")

FILE_SUFFIX = "_FILE"
OLD_BOT_WARNING = "ignored; Rocket 2 no longer uses AWS or GCP settings"
_old_bot_logged: set[str] = set()  # the old bot's variables already warned about in this process


def _strip_one_pair_of_quotes(value: str) -> tuple[str, bool]:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1], True
    return value, False


def _read_dotenv(env_file: str | os.PathLike[str] | None) -> dict[str, str]:
    if env_file is None:
        return {}
    path = Path(env_file)
    if not path.is_file():
        raise ConfigError(
            [Problem("--env-file", "the file does not exist or is not a file", "check the path")]
        )
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _resolve(
    environ: Mapping[str, str], dotenv: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Source], list[Problem], list[str]]:
    """Merge env over .env, resolve NAME_FILE, strip quotes, drop empties."""
    values: dict[str, str] = {}
    sources: dict[str, Source] = {}
    problems: list[Problem] = []
    warnings: list[str] = []

    def lookup(name: str) -> tuple[str | None, Source]:
        raw = environ.get(name)
        if raw not in (None, ""):
            return raw, "env"
        raw = dotenv.get(name)
        if raw not in (None, ""):
            return raw, ".env"
        return None, "default"

    for setting in SETTINGS:
        name = setting.name
        direct, direct_source = lookup(name)
        file_path, _ = lookup(name + FILE_SUFFIX)
        if direct is not None and file_path is not None:
            problems.append(
                Problem(
                    name,
                    f"is set both directly and as {name}{FILE_SUFFIX}",
                    f"set only one of {name} and {name}{FILE_SUFFIX}",
                )
            )
            continue
        if file_path is not None:
            file_path, quoted = _strip_one_pair_of_quotes(file_path)
            try:
                content = Path(file_path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
                problems.append(
                    Problem(
                        name,
                        f"{name}{FILE_SUFFIX} points to a file that cannot be read "
                        f"({file_path}: {reason})",
                        "check the path and its permissions",
                    )
                )
                continue
            content = content[:-1] if content.endswith("\n") else content
            content = content[:-1] if content.endswith("\r") else content
            if content == "":
                continue
            values[name], sources[name] = content, "_FILE"
            continue
        if direct is None:
            continue
        stripped, quoted = _strip_one_pair_of_quotes(direct)
        if quoted:
            warnings.append(f"{name}: surrounding quotes were removed from the value")
        if stripped == "":
            continue
        values[name], sources[name] = stripped, direct_source

    for name in sorted((set(environ) | set(dotenv)) & OLD_BOT_VARIABLES):
        warnings.append(f"{name}: {OLD_BOT_WARNING}")
    return values, sources, problems, warnings


def _parse_all(values: Mapping[str, str], failed: set[str]) -> tuple[dict[str, Any], list[Problem]]:
    """Parse every setting not in ``failed``: its value, else its default; a problem for each."""
    parsed: dict[str, Any] = {}
    problems: list[Problem] = []
    for setting in SETTINGS:
        if setting.name in failed:
            continue
        raw = values.get(setting.name, setting.default)
        if raw is None:
            problems.append(
                Problem(
                    setting.name,
                    "is required but not set",
                    f"{setting.fix} (or set {setting.name}{FILE_SUFFIX})",
                )
            )
            continue
        try:
            parsed[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            problems.append(Problem(setting.name, str(exc), setting.fix))
    return parsed, problems


def _together(values: Mapping[str, str], failed: set[str]) -> list[Problem]:
    """A problem for each missing member of a group of settings of which some are given."""
    groups: dict[str, list[str]] = {}
    for setting in SETTINGS:
        if setting.together:
            groups.setdefault(setting.together, []).append(setting.name)
    problems = []
    for purpose, group in groups.items():
        given = [name for name in group if name in values]
        if not given or len(given) == len(group) or failed & set(group):
            continue
        for name in group:
            if name not in values:
                problems.append(
                    Problem(
                        name,
                        f"is needed with {' and '.join(given)} ({purpose})",
                        f"set all of {', '.join(group)}, or none of them",
                    )
                )
    return problems


def _short_secrets(values: Mapping[str, str]) -> list[str]:
    """A warning for each given value shorter than its minimum (the name, never the value)."""
    return [
        f"{s.name}: shorter than {s.min_length} characters; use a long random value "
        "(Slack and GitHub issue secrets at least this long)"
        for s in SETTINGS
        if s.name in values and len(values[s.name]) < s.min_length
    ]


def _readable_files(
    env_file: str | os.PathLike[str] | None,
    values: Mapping[str, str],
    sources: Mapping[str, Source],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
) -> list[str]:
    """A warning for the .env file, and each secret's NAME_FILE, that group or others may read."""
    files: list[tuple[str, str]] = []
    if env_file is not None:
        files.append(("the .env file", str(env_file)))
    for setting in SETTINGS:
        if setting.secret and sources.get(setting.name) == "_FILE" and setting.name in values:
            key = setting.name + FILE_SUFFIX
            raw = environ.get(key) or dotenv.get(key) or ""
            files.append((key, _strip_one_pair_of_quotes(raw)[0]))
    warnings = []
    for what, path in files:
        try:
            mode = Path(path).stat().st_mode
        except OSError:
            continue
        if mode & 0o044:
            warnings.append(
                f"{what} {path} is readable by its group or by everyone "
                f"(mode {mode & 0o777:o}); run chmod 600 on it"
            )
    return warnings


def load_config(
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
) -> Config:
    """Build the one Config from ``environ`` (default: os.environ) and an optional .env file.

    Real environment variables win over the file. Raise ConfigError listing every problem.
    """
    environ = os.environ if environ is None else environ
    dotenv = _read_dotenv(env_file)
    values, sources, problems, warnings = _resolve(environ, dotenv)
    parsed, parse_problems = _parse_all(values, {p.name for p in problems})
    problems += parse_problems
    problems += _together(values, {p.name for p in problems})
    if problems:
        order = {s.name: i for i, s in enumerate(SETTINGS)}
        problems.sort(key=lambda p: order.get(p.name, -1))
        raise ConfigError(problems)
    warnings += _short_secrets(values)
    warnings += _readable_files(env_file, values, sources, environ, dotenv)
    for warning in warnings:
        if warning.endswith(OLD_BOT_WARNING):
            if warning in _old_bot_logged:
                continue
            _old_bot_logged.add(warning)
        log.warning("%s", warning)
    all_sources: dict[str, Source] = {s.name: sources.get(s.name, "default") for s in SETTINGS}
    return Config(
        **parsed,
        sources=MappingProxyType(all_sources),
        warnings=tuple(warnings),
    )


def load_settings(
    names: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Parse only the settings ``names`` (each its value, else its default), for commands that
    run before the configuration is complete (`rocket2 setup`). A missing required one is None.

    Raise ConfigError listing the problems of these settings only; log nothing.
    """
    environ = os.environ if environ is None else environ
    values, _, problems, _ = _resolve(environ, _read_dotenv(env_file))
    wanted = [s for s in SETTINGS if s.name in names]
    problems = [p for p in problems if p.name in names]
    parsed: dict[str, Any] = {}
    for setting in wanted:
        raw = values.get(setting.name, setting.default)
        if raw is None:
            parsed[setting.name] = None
            continue
        try:
            parsed[setting.name] = setting.parse(raw)
        except ValueError as exc:
            problems.append(Problem(setting.name, str(exc), setting.fix))
    if problems:
        raise ConfigError(problems)
    return parsed


def operator_variable(
    name: str,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
) -> str:
    """A variable that is not a Rocket 2 setting but a command's input (SLACK_CONFIG_TOKEN
    for `rocket2 setup slack`): the environment's, else the .env file's, else empty."""
    environ = os.environ if environ is None else environ
    value = environ.get(name) or _read_dotenv(env_file).get(name) or ""
    return _strip_one_pair_of_quotes(value)[0]
