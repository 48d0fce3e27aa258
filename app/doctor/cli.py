"""`rocket2 doctor`'s parser; the checks are imported only when it runs."""

from __future__ import annotations

import argparse


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `doctor`."""
    doctor = subparsers.add_parser(
        "doctor", help="check with Slack and GitHub that the deploy is wired as Rocket 2 needs"
    )
    doctor.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    doctor.add_argument("--json", action="store_true", help="print the results as JSON")
    doctor.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run `rocket2 doctor` (imports its checks now)."""
    from app.doctor.run import cmd_doctor as run

    return run(args)
