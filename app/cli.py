"""The `rocket2` command: operator tasks that run outside the web server."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from config import cli as config_cli


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand group."""
    parser = argparse.ArgumentParser(prog="rocket2", description="Rocket 2 operator commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    config_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rocket2 command line; return the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
