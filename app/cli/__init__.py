"""The `rocket2` command: operator tasks that run outside the web server."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

from app.cli import db as store_cli
from app.cli import teams as teams_cli
from app.dev import cli as dev_cli
from app.doctor import cli as doctor_cli
from app.setup import cli as setup_cli
from config import cli as config_cli


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand group."""
    parser = argparse.ArgumentParser(prog="rocket2", description="Rocket 2 operator commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    config_cli.add_commands(sub)

    dev_env = sub.add_parser("dev-env", help="write a throwaway local-development .env")
    dev_env.add_argument("--path", default=".env", help="where to write it (default: ./.env)")
    dev_env.add_argument("--standins-port", type=int, default=5001, help="stand-ins' port (5001)")
    dev_env.add_argument("--port", type=int, default=5000, help="Rocket 2's port (5000)")
    dev_env.set_defaults(func=cmd_dev_env)

    app_json = sub.add_parser("app-json", help="print app.json (Heroku) generated from the schema")
    app_json.set_defaults(func=cmd_app_json)
    store_cli.add_commands(sub)
    teams_cli.add_commands(sub)
    dev_cli.add_commands(sub)
    setup_cli.add_commands(sub)
    doctor_cli.add_commands(sub)
    return parser


def cmd_dev_env(args: argparse.Namespace) -> int:
    """Write a throwaway .env unless one exists; say which."""
    from pathlib import Path

    from app.cli.dev import write_dev_env

    path = Path(args.path)
    if write_dev_env(path, args.standins_port, args.port):
        print(f"wrote a throwaway development config to {path} (fresh key, random secrets)")
    else:
        print(f"using the existing {path}")
    return 0


def cmd_app_json(args: argparse.Namespace) -> int:
    """Print app.json."""
    import sys

    from app.cli.app_json import render

    sys.stdout.write(render())
    return 0


# What `rocket2 db upgrade` or `dev-env` create (the database, .env) is the operator's alone.
PRIVATE_UMASK = 0o077


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rocket2 command line (umask 077); return the exit status."""
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
