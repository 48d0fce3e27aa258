"""`rocket2 teams repin`: forget the special teams' pins, so the next `team refresh` resolves
GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME again (the only way a pin whose team is gone,
or was never found, is resolved again: docs/decisions/0002-special-teams-pinned-by-id.md)."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from app.cli.db import load_or_report, schema_is_current
from app.store import SpecialTeam, Store
from app.store.engine import engine_from_config

EXIT_FAILED = 1
EXIT_CONFIG_ERROR = 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `teams repin` on the top-level rocket2 parser."""
    teams = subparsers.add_parser("teams", help="the GitHub teams that give roles")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True)
    repin = teams_sub.add_parser(
        "repin", help="forget the special teams' pins; the next team refresh resolves them"
    )
    repin.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    repin.set_defaults(func=cmd_repin)


def cmd_repin(args: argparse.Namespace) -> int:
    """Delete every special team pin and say what was pinned before."""
    config = load_or_report(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        if not schema_is_current(engine):
            return EXIT_FAILED
        with Store(engine).unit_of_work() as uow:
            before = [
                (p.role, p.configured_name, p.github_team_id) for p in uow.special_teams.all()
            ]
            uow.session.execute(delete(SpecialTeam))
    except SQLAlchemyError as exc:
        print(f"error: teams repin failed: {type(exc).__name__}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    for role, name, team_id in before:
        print(f"{role}: forgot the pin of {name!r} (GitHub team id {team_id or 'not found'})")
    if not before:
        print("no special team was pinned")
    print("the next `/rocket team refresh` (or the scheduled one) resolves them by name again")
    return 0
