"""`rocket2 config …`: check the configuration, encode GITHUB_KEY, print .env.example."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.declaration import Setting
from config.devmode import describe
from config.docs import env_example
from config.errors import ConfigError
from config.github_key import ENCODE_TARGETS, KeyDecodeError, decode_github_key, encode_key
from config.loader import load_config
from config.settings import SETTINGS, Config

EXIT_CONFIG_ERROR = 2
DEFAULT_ENV_FILE = ".env"


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `config check|encode-key|example` on the top-level rocket2 parser."""
    config = subparsers.add_parser("config", help="check and document the configuration")
    sub = config.add_subparsers(dest="config_command", required=True)

    check = sub.add_parser("check", help="load the config exactly as the server does")
    check.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    check.set_defaults(func=cmd_check)

    encode = sub.add_parser("encode-key", help="print GITHUB_KEY in the form a target needs")
    encode.add_argument("path", help="the GitHub App's .pem file")
    encode.add_argument("--for", dest="target", choices=ENCODE_TARGETS, required=True)
    encode.set_defaults(func=cmd_encode_key)

    example = sub.add_parser("example", help="print a .env.example generated from the schema")
    example.set_defaults(func=cmd_example)


def default_env_file(explicit: str | None) -> str | None:
    """The .env file the server reads: the explicit one, else ./.env when it exists."""
    if explicit is not None:
        return explicit
    return DEFAULT_ENV_FILE if Path(DEFAULT_ENV_FILE).is_file() else None


def _shown(setting: Setting[object], config: Config) -> str:
    value = getattr(config, setting.attr)
    if setting.secret:
        return "set (hidden)" if setting.shown is None else setting.shown(value.reveal())
    return str(value) if value != "" else "(empty)"


def render_table(config: Config) -> str:
    """Return the `config check` table: name, source, value (secrets hidden), fingerprint."""
    width = max(len(s.name) for s in SETTINGS)
    lines = [f"{'NAME':<{width}}  {'SOURCE':<8}  VALUE"]
    for setting in SETTINGS:
        source = config.sources.get(setting.name, "default")
        lines.append(f"{setting.name:<{width}}  {source:<8}  {_shown(setting, config)}")
    lines.append("")
    lines.append(f"GITHUB_KEY fingerprint {config.github_key.fingerprint}")
    lines.append(describe(config))
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Load the config; print the table and exit 0, or the problems on stderr and exit 2."""
    try:
        config = load_config(env_file=default_env_file(args.env_file))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(render_table(config))
    return 0


def cmd_encode_key(args: argparse.Namespace) -> int:
    """Print the key at args.path encoded for args.target."""
    try:
        text = Path(args.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        print(f"encode-key: cannot read {args.path}: {reason}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        key = decode_github_key(text)
    except KeyDecodeError as exc:
        print(f"encode-key: the key {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    print(encode_key(key.pem, args.target))
    print(f"# fingerprint {key.fingerprint}", file=sys.stderr)
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    """Print .env.example."""
    sys.stdout.write(env_example())
    return 0
