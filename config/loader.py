"""load_config(): read the environment (and optionally a .env file) once, validate everything,
and return one immutable Config, or raise one ConfigError that lists every problem."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from environs import Env, EnvError, EnvValidationError

from config.errors import ConfigError, Problem
from config.github_key import KeyDecodeError, decode_github_key
from config.model import Config, Source
from config.schema import BY_NAME, IGNORED_PREFIXES, SETTINGS, Setting
from config.secret import Secret

log = logging.getLogger("rocket2.config")

FILE_SUFFIX = "_FILE"


class _MappingEnv(Env):
    """An environs Env that reads from a resolved mapping instead of os.environ."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(eager=False, expand_vars=False)
        self._resolved = values

    def _get_value(self, env_key: str, default: Any) -> Any:
        return self._resolved.get(env_key, default)


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
    reader = Env(eager=False)
    reader.read_env(str(path), recurse=False, override=True)
    return {k: v for k, v in reader._environ.items() if v is not None}


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

    for name in sorted(set(environ) | set(dotenv)):
        if name.startswith(IGNORED_PREFIXES):
            warnings.append(f"{name}: ignored; Rocket 2 no longer uses AWS or GCP settings")
    return values, sources, problems, warnings


def _parse_all(values: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    env = _MappingEnv(values)
    parsed: dict[str, Any] = {}
    for setting in SETTINGS:
        env.add_parser(f"p_{setting.attr}", _wrap(setting))
    for setting in SETTINGS:
        kwargs = {} if setting.required else {"default": setting.default}
        parsed[setting.name] = getattr(env, f"p_{setting.attr}")(setting.name, **kwargs)
    problems: list[Problem] = []
    try:
        env.seal()
    except EnvValidationError as exc:
        for name, messages in exc.error_messages.items():  # type: ignore[union-attr]
            setting = BY_NAME[name]
            for message in messages:
                if message == "Environment variable not set.":
                    problems.append(
                        Problem(
                            name,
                            "is required but not set",
                            f"{setting.fix} (or set {name}{FILE_SUFFIX})",
                        )
                    )
                else:
                    problems.append(Problem(name, str(message), setting.fix))
    return parsed, problems


def _wrap(setting: Setting) -> Any:
    def parse(raw: Any) -> Any:
        try:
            if setting.name == "GITHUB_KEY":
                return decode_github_key(raw)
            return setting.parse(str(raw))
        except (KeyDecodeError, ValueError) as exc:
            raise EnvError(str(exc)) from None

    return parse


# Settings that only work together: one set without the others is a problem, named.
TOGETHER = (("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "PUBLIC_URL"),)


def _together(values: Mapping[str, str], failed: set[str]) -> list[Problem]:
    problems = []
    for group in TOGETHER:
        given = [name for name in group if name in values]
        if not given or len(given) == len(group) or failed & set(group):
            continue
        for name in group:
            if name not in values:
                problems.append(
                    Problem(
                        name,
                        f"is needed with {' and '.join(given)} (GitHub account linking)",
                        f"set all of {', '.join(group)}, or none of them",
                    )
                )
    return problems


# Secrets shorter than the ones Slack and GitHub themselves issue (Slack's signing secret is
# 32 hex digits, a GitHub App's client secret 40) are guessable or mistyped.
MIN_SECRET_LENGTHS = {
    "SLACK_SIGNING_SECRET": 32,
    "GITHUB_WEBHOOK_SECRET": 32,
    "GITHUB_CLIENT_SECRET": 40,
}


def _short_secrets(parsed: Mapping[str, Any]) -> list[str]:
    """A warning for each set secret shorter than its minimum (the name, never the value)."""
    return [
        f"{name}: shorter than {minimum} characters; use a long random value "
        "(Slack and GitHub issue secrets at least this long)"
        for name, minimum in MIN_SECRET_LENGTHS.items()
        if parsed.get(name) and len(str(parsed[name])) < minimum
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
    failed_early = {p.name for p in problems}
    parsed, parse_problems = _parse_all({k: v for k, v in values.items() if k not in failed_early})
    problems += [p for p in parse_problems if p.name not in failed_early]
    problems += _together(values, {p.name for p in problems})
    if problems:
        order = {s.name: i for i, s in enumerate(SETTINGS)}
        problems.sort(key=lambda p: order.get(p.name, -1))
        raise ConfigError(problems)
    warnings += _short_secrets(parsed)
    warnings += _readable_files(env_file, values, sources, environ, dotenv)
    for warning in warnings:
        log.warning("%s", warning)
    fields: dict[str, Any] = {}
    for setting in SETTINGS:
        value = parsed[setting.name]
        if setting.secret and setting.name != "GITHUB_KEY":
            value = Secret(value)
        fields[setting.attr] = value
    all_sources: dict[str, Source] = {s.name: sources.get(s.name, "default") for s in SETTINGS}
    return Config(**fields, sources=MappingProxyType(all_sources), warnings=tuple(warnings))
