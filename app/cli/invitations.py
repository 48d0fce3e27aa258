"""`rocket2 invitations`: the invitations GitHub's cap refused, waiting for the invitation job
(docs/decisions/0024-invitation-queue.md), oldest first."""

from __future__ import annotations

import argparse
from datetime import datetime

from app.cli.db import on_current_schema
from app.store.session import UnitOfWork


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `invitations` on the top-level rocket2 parser."""
    parser = subparsers.add_parser(
        "invitations", help="list the invitations waiting for GitHub's invitation cap"
    )
    parser.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    parser.set_defaults(func=cmd_invitations)


def cmd_invitations(args: argparse.Namespace) -> int:
    """Print one line per queued invitation: when, who, and for which team."""

    def queued(uow: UnitOfWork) -> list[tuple[datetime, str, int, str | None, str]]:
        return [
            (q.queued_at, q.login, q.github_id, q.team_slug, q.role)
            for q in uow.invitation_queue.waiting()
        ]

    status, rows = on_current_schema(args, "invitations", queued)
    if rows is None:
        return status
    for queued_at, login, github_id, team_slug, role in rows:
        where = f"team {team_slug} as {role}" if team_slug else "the organisation"
        print(f"{queued_at:%Y-%m-%d %H:%M} UTC  {login} (id {github_id})  {where}")
    print(f"{len(rows)} invitation(s) queued; the invitation job sends them when GitHub allows")
    return 0
