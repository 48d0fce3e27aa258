"""`rocket2 teams repin`: forget the special teams' pins, so the next `team refresh` resolves
GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME again (the only way a pin whose team is gone,
or was never found, is resolved again: docs/decisions/0002-special-teams-pinned-by-id.md)."""

from __future__ import annotations

import argparse

from sqlalchemy import delete

from app.cli.db import on_current_schema
from app.store import SpecialTeam
from app.store.session import UnitOfWork


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

    def forget(uow: UnitOfWork) -> list[tuple[str, str, int | None]]:
        pins = [(p.role, p.configured_name, p.github_team_id) for p in uow.special_teams.all()]
        uow.session.execute(delete(SpecialTeam))
        return pins

    status, before = on_current_schema(args, "teams repin", forget)
    if before is None:
        return status
    for role, name, team_id in before:
        print(f"{role}: forgot the pin of {name!r} (GitHub team id {team_id or 'not found'})")
    if not before:
        print("no special team was pinned")
    print("the next `/rocket team refresh` (or the scheduled one) resolves them by name again")
    return 0
