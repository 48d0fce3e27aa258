"""`rocket2 invitations [list|retry LOGIN|drop LOGIN]`: the invitations GitHub's cap refused,
waiting for the invitation job, oldest first, and the ones it parked with the reason
(docs/decisions/0024-invitation-queue.md, 0035-a-refused-invitation-does-not-block-the-queue.md).
"""

from __future__ import annotations

import argparse
import sys

from app.cli.db import EXIT_FAILED, on_current_schema
from app.store import QueuedInvitation
from app.store.session import UnitOfWork


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `invitations` on the top-level rocket2 parser."""
    parser = subparsers.add_parser(
        "invitations",
        help="the invitations GitHub's cap holds back: list, retry, drop",
    )
    parser.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=("list", "retry", "drop"),
        help="list (default); retry: send a parked one again; drop: forget it",
    )
    parser.add_argument("login", nargs="?", help="the GitHub login (retry, drop)")
    parser.add_argument("--team", help="only the invitation to this team slug (retry, drop)")
    parser.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    parser.set_defaults(func=cmd_invitations)


def cmd_invitations(args: argparse.Namespace) -> int:
    """List the queue, or retry or drop ``args.login``'s invitations."""
    if args.action == "list":
        return _list(args)
    if not args.login:
        print(f"error: `rocket2 invitations {args.action}` needs a LOGIN", file=sys.stderr)
        return EXIT_FAILED
    team = args.team

    def change(uow: UnitOfWork) -> int:
        if args.action == "retry":
            return uow.invitation_queue.retry(args.login, team)
        return uow.invitation_queue.forget(args.login, team)

    status, count = on_current_schema(args, f"invitations {args.action}", change)
    if count is None:
        return status
    if not count:
        print(f"error: no queued invitation of {args.login}", file=sys.stderr)
        return EXIT_FAILED
    done = "back in the queue; the next run sends it" if args.action == "retry" else "dropped"
    print(f"{count} invitation(s) of {args.login} {done}")
    return 0


def _list(args: argparse.Namespace) -> int:
    """One line per queued invitation: when, who, for what; a parked one says why."""

    def queued(uow: UnitOfWork) -> list[QueuedInvitation]:
        return uow.invitation_queue.every()

    status, rows = on_current_schema(args, "invitations", queued)
    if rows is None:
        return status
    for q in rows:
        where = f"team {q.team_slug} as {q.role}" if q.team_slug else "the organisation"
        line = f"{q.queued_at:%Y-%m-%d %H:%M} UTC  {q.login} (id {q.github_id})  {where}"
        if q.parked_at is not None:
            line += f"  PARKED {q.parked_at:%Y-%m-%d %H:%M} UTC: {q.last_error}"
        elif q.attempts:
            line += f"  refused {q.attempts} time(s): {q.last_error}"
        print(line)
    parked = sum(q.parked_at is not None for q in rows)
    print(
        f"{len(rows) - parked} invitation(s) queued; the invitation job sends them when GitHub "
        f"allows. {parked} parked: `rocket2 invitations retry LOGIN` or `... drop LOGIN`"
    )
    return 0
