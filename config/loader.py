"""load_config(): read the environment (and optionally a .env file) once, validate every setting
in SETTINGS, and return one immutable Config, or raise one ConfigError that lists every problem.

environs does the reading and the parsing (config.environment). A variable that is unset or
empty in the environment is taken from the .env file; NAME_FILE gives any variable from a
file. Problems name the variable and never quote its value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from config.declaration import Setting
from config.environment import NOT_SET, SettingsEnv
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


def _read_dotenv(env: SettingsEnv, env_file: str | os.PathLike[str] | None) -> None:
    """Read ``env_file`` into ``env`` (environs' read_env; no search up the tree)."""
    if env_file is None:
        return
    path = Path(env_file)
    if not path.is_file():
        raise ConfigError(
            [Problem("--env-file", "the file does not exist or is not a file", "check the path")]
        )
    env.read_env(path, recurse=False)


@dataclass
class _Resolved:
    """Each setting's text (after NAME_FILE and quotes), where it came from, and what failed."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _resolve(env: SettingsEnv) -> _Resolved:
    """Merge env over .env, resolve NAME_FILE, strip quotes, drop empties."""
    found = _Resolved()
    for setting in SETTINGS:
        name = setting.name
        direct, direct_source = env.lookup(name)
        file_path, _ = env.lookup(name + FILE_SUFFIX)
        if direct is not None and file_path is not None:
            found.problems.append(
                Problem(
                    name,
                    f"is set both directly and as {name}{FILE_SUFFIX}",
                    f"set only one of {name} and {name}{FILE_SUFFIX}",
                )
            )
        elif file_path is not None:
            _from_file(found, name, _strip_one_pair_of_quotes(file_path)[0])
        elif direct is not None:
            stripped, quoted = _strip_one_pair_of_quotes(direct)
            if quoted:
                found.warnings.append(f"{name}: surrounding quotes were removed from the value")
            if stripped != "":
                found.values[name] = stripped
                found.sources[name] = "env" if direct_source == "env" else ".env"
    for name in sorted(env.names() & OLD_BOT_VARIABLES):
        found.warnings.append(f"{name}: {OLD_BOT_WARNING}")
    return found


def _from_file(found: _Resolved, name: str, file_path: str) -> None:
    """Take ``name``'s value from the file NAME_FILE names (one final newline dropped)."""
    try:
        content = Path(file_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        found.problems.append(
            Problem(
                name,
                f"{name}{FILE_SUFFIX} points to a file that cannot be read ({file_path}: {reason})",
                "check the path and its permissions",
            )
        )
        return
    content = content[:-1] if content.endswith("\n") else content
    content = content[:-1] if content.endswith("\r") else content
    if content != "":
        found.values[name], found.sources[name] = content, "_FILE"


def _parse_all(
    env: SettingsEnv,
    values: Mapping[str, str],
    failed: set[str],
    among: Iterable[Setting[Any]] = SETTINGS,
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse every setting (of ``among``) not in ``failed`` through environs: its value, else
    its default; a problem for each failure (environs collects them; ``seal()`` raises them
    at once)."""
    settings = [s for s in among if s.name not in failed]
    parsed, errors = env.parse_settings(settings, values)
    problems: list[Problem] = []
    for setting in settings:
        for message in errors.get(setting.name, [])[:1]:
            if message == NOT_SET:
                fix = f"{setting.fix} (or set {setting.name}{FILE_SUFFIX})"
                problems.append(Problem(setting.name, "is required but not set", fix))
            else:
                problems.append(Problem(setting.name, message, setting.fix))
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
    env: SettingsEnv,
) -> list[str]:
    """A warning for the .env file, and each secret's NAME_FILE, that group or others may read."""
    files: list[tuple[str, str]] = []
    if env_file is not None:
        files.append(("the .env file", str(env_file)))
    for setting in SETTINGS:
        if setting.secret and sources.get(setting.name) == "_FILE" and setting.name in values:
            key = setting.name + FILE_SUFFIX
            raw = env.lookup(key)[0] or ""
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
    env = SettingsEnv(os.environ if environ is None else environ)
    _read_dotenv(env, env_file)
    resolved = _resolve(env)
    values, sources = resolved.values, resolved.sources
    problems, warnings = resolved.problems, resolved.warnings
    parsed, parse_problems = _parse_all(env, values, {p.name for p in problems})
    problems += parse_problems
    problems += _together(values, {p.name for p in problems})
    if problems:
        order = {s.name: i for i, s in enumerate(SETTINGS)}
        problems.sort(key=lambda p: order.get(p.name, -1))
        raise ConfigError(problems)
    warnings += _short_secrets(values)
    warnings += _readable_files(env_file, values, sources, env)
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
    env = SettingsEnv(os.environ if environ is None else environ)
    _read_dotenv(env, env_file)
    resolved = _resolve(env)
    wanted = [s for s in SETTINGS if s.name in names]
    problems = [p for p in resolved.problems if p.name in names]
    missing = {s.name for s in wanted if s.name not in resolved.values and s.default is None}
    failed = {p.name for p in problems} | missing
    parsed, parse_problems = _parse_all(env, resolved.values, failed, wanted)
    problems += parse_problems
    if problems:
        raise ConfigError(problems)
    by_attr = {s.attr: s.name for s in wanted}
    return {name: None for name in missing} | {by_attr[a]: v for a, v in parsed.items()}


def operator_variable(
    name: str,
    environ: Mapping[str, str] | None = None,
    env_file: str | os.PathLike[str] | None = None,
) -> str:
    """A variable that is not a Rocket 2 setting but a command's input (SLACK_CONFIG_TOKEN
    for `rocket2 setup slack`): the environment's, else the .env file's, else empty."""
    env = SettingsEnv(os.environ if environ is None else environ)
    _read_dotenv(env, env_file)
    return _strip_one_pair_of_quotes(env.lookup(name)[0] or "")[0]
