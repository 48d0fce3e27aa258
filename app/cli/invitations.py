"""`rocket2 invitations`: the invitations GitHub's cap refused, waiting for the invitation job
(docs/decisions/0024-invitation-queue.md), oldest first."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from app.cli.db import load_or_report, schema_is_current
from app.store import Store
from app.store.engine import engine_from_config

EXIT_FAILED = 1
EXIT_CONFIG_ERROR = 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `invitations` on the top-level rocket2 parser."""
    parser = subparsers.add_parser(
        "invitations", help="list the invitations waiting for GitHub's invitation cap"
    )
    parser.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    parser.set_defaults(func=cmd_invitations)


def cmd_invitations(args: argparse.Namespace) -> int:
    """Print one line per queued invitation: when, who, and for which team."""
    config = load_or_report(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        if not schema_is_current(engine):
            return EXIT_FAILED
        with Store(engine).unit_of_work() as uow:
            rows = [
                (q.queued_at, q.login, q.github_id, q.team_slug, q.role)
                for q in uow.invitation_queue.waiting()
            ]
    except SQLAlchemyError as exc:
        print(f"error: invitations failed: {type(exc).__name__}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    for queued_at, login, github_id, team_slug, role in rows:
        where = f"team {team_slug} as {role}" if team_slug else "the organisation"
        print(f"{queued_at:%Y-%m-%d %H:%M} UTC  {login} (id {github_id})  {where}")
    print(f"{len(rows)} invitation(s) queued; the invitation job sends them when GitHub allows")
    return 0
