"""The `rocket2` command: operator tasks that run outside the web server."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """Top-level subcommands that one module registers (its ``add_commands(subparsers)``),
    each with its one-line help. The module is imported only when one of them runs."""

    module: str
    helps: dict[str, str]
    absent: str = ""  # if an install may lack the module: how to get it, in one line


PLAYGROUND_ABSENT = (
    "the playground is not part of an installed Rocket 2 (the wheel and the Docker image "
    "leave it out); run it from a checkout of the repository: make install && make run"
)


# The subcommands, in the order `rocket2 --help` lists them. Adding one: a module with
# add_commands, and one line here.
GROUPS: tuple[Group, ...] = (
    Group("config.cli", {"config": "check and document the configuration"}),
    Group("app.cli", {"app-json": "print app.json (Heroku) generated from the schema"}),
    Group(
        "app.cli.db",
        {"db": "migrate and inspect the database", "user": "manage members from the shell"},
    ),
    Group("app.cli.teams", {"teams": "the GitHub teams that give roles"}),
    Group(
        "app.cli.invitations",
        {"invitations": "the invitations GitHub's cap holds back: list, retry, drop"},
    ),
    Group(
        "app.dev.env_file",
        {"dev-env": "write a throwaway local-development .env"},
        absent=PLAYGROUND_ABSENT,
    ),
    Group(
        "app.dev.cli",
        {"dev": "try Rocket 2 locally: stand-in Slack and GitHub"},
        absent=PLAYGROUND_ABSENT,
    ),
    Group("app.setup.cli", {"setup": "create the Slack app and the GitHub App"}),
    Group(
        "app.doctor.cli",
        {"doctor": "check with Slack and GitHub that the deploy is wired as Rocket 2 needs"},
    ),
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser: ``command``'s group in full (imported now), every other
    subcommand by name and help only (``None``: all of them in full)."""
    parser = argparse.ArgumentParser(prog="rocket2", description="Rocket 2 operator commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        installed = _installed(group)
        if installed and (command is None or command in group.helps):
            importlib.import_module(group.module).add_commands(sub)
        else:
            for name, help_text in group.helps.items():
                shown = help_text if installed else f"(not installed) {help_text}"
                sub.add_parser(name, help=shown, add_help=False)
    return parser


def _installed(group: Group) -> bool:
    """Whether ``group``'s module is there; only a group that may be absent is looked up."""
    if not group.absent:
        return True
    try:
        return importlib.util.find_spec(group.module) is not None
    except ModuleNotFoundError:  # a parent package is missing too
        return False


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `app-json` on the top-level rocket2 parser."""
    app_json = subparsers.add_parser(
        "app-json", help="print app.json (Heroku) generated from the schema"
    )
    app_json.set_defaults(func=cmd_app_json)


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def cmd_app_json(args: argparse.Namespace) -> int:
    """Print app.json."""
    from app.cli.app_json import render

    sys.stdout.write(render())
    return 0


# What `rocket2 db upgrade` or `dev-env` create (the database, .env) is the operator's alone.
PRIVATE_UMASK = 0o077


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rocket2 command line (umask 077); return the exit status."""
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    words = sys.argv[1:] if argv is None else list(argv)
    command = _command(words)
    missing = next((g for g in GROUPS if command in g.helps and not _installed(g)), None)
    if missing is not None:
        print(f"rocket2 {command}: {missing.absent}", file=sys.stderr)
        return 2
    args = build_parser(command or "").parse_args(words)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
