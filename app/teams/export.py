"""``export emails [--team T]`` (leads): a comma-separated list of e-mail addresses, plus the
members who have none, in pieces that respect Slack's message limits.

A reply is one message: each piece becomes one section block (at most 3000 characters), and a
message carries at most ``MAX_PIECES`` of them (well under Slack's 50 blocks and 40,000
characters). A list longer than that is cut at an address boundary and says so, with how many
addresses were left out and how to narrow it (``--team``).
"""

from __future__ import annotations

from app.store import User
from app.teams.commands import find_team, require_lead
from app.teams.replies import Deps, TeamReply, escape, mention

PIECE_LIMIT = 2900  # characters of one piece (a section block holds 3000)
MAX_PIECES = 12


def pack(items: list[str], separator: str, limit: int = PIECE_LIMIT) -> list[tuple[str, int]]:
    """Join ``items`` with ``separator`` into pieces of at most ``limit`` characters, never
    splitting an item (an item longer than ``limit`` is cut, which addresses never are).
    Returns (piece, number of items in it) pairs."""
    pieces: list[tuple[str, int]] = []
    current, count = "", 0
    for item in items:
        item = item[:limit]
        candidate = f"{current}{separator}{item}" if current else item
        if current and len(candidate) > limit:
            pieces.append((current, count))
            current, count = item, 1
        else:
            current, count = candidate, count + 1
    if current:
        pieces.append((current, count))
    return pieces


def email_pieces(users: list[User], max_pieces: int = MAX_PIECES) -> tuple[list[str], int]:
    """(pieces, number of addresses left out): the addresses, then who has none. When it all
    does not fit, the addresses come first and the list of who has none is left out too."""
    emails = sorted({u.email.strip() for u in users if u.email.strip()}, key=str.lower)
    missing = [mention(u.slack_id) for u in users if not u.email.strip()]
    packed = [(f"```{p}```", n) for p, n in pack(emails, ", ", PIECE_LIMIT - 6)]
    no_email = [(f"Without an e-mail: {p}", 0) for p, _ in pack(missing, ", ", PIECE_LIMIT - 20)]
    pieces = packed + no_email
    if len(pieces) <= max_pieces:
        return [p for p, _ in pieces], 0
    kept = packed[: max_pieces - 1]  # room for the warning; addresses come first
    return [p for p, _ in kept], len(emails) - sum(n for _, n in kept)


def export_emails(deps: Deps, caller: str, team: str | None = None) -> TeamReply:
    """The e-mail addresses of every member, or of one team's members (leads only)."""
    with deps.store.unit_of_work() as uow:
        require_lead(uow, caller, "export e-mail addresses")
        if team is not None:
            found = find_team(uow, team)
            users = uow.users.by_github_ids(found.members)
            scope = f"team *{escape(found.github_team_name)}*"
        else:
            users = uow.users.list_all()
            scope = "all members"
    with_email = sum(1 for u in users if u.email.strip())
    if not users:
        return TeamReply(f"Nobody to export for {scope}.")
    pieces, left_out = email_pieces(users)
    text = f"E-mail addresses of {scope}: {with_email} of {len(users)} member(s) have one."
    if left_out:
        pieces.append(
            f":warning: The list is longer than one Slack message can hold: {left_out} "
            "address(es), and the members without one, are not shown. Export one team at a "
            "time with `--team`."
        )
    return TeamReply(text, tuple(pieces))
