"""``export emails [--team T]`` (leads): a comma-separated list of e-mail addresses, plus the
members who have none, in pieces that respect Slack's message limits.

A reply is one message: each piece becomes one section block (at most 3000 characters), and a
message carries at most ``MAX_PIECES`` of them (well under Slack's 50 blocks and 40,000
characters). A list longer than that is cut at an address boundary and says so, with how many
addresses and members without one were left out and how to narrow it (``--team``).
"""

from __future__ import annotations

from typing import NamedTuple

from app.services import Services
from app.slack.blocks import escape
from app.store import User
from app.teams.messages import TeamReply, mention
from app.teams.operations import find_team, require_lead

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


class EmailPieces(NamedTuple):
    """The pieces of an export and what did not fit in them."""

    pieces: list[str]
    addresses_left_out: int  # addresses not shown
    without_email_left_out: int  # members without an e-mail not listed

    @property
    def truncated(self) -> bool:
        """Whether anything (an address or a member without one) was left out."""
        return bool(self.addresses_left_out or self.without_email_left_out)


def email_pieces(users: list[User], max_pieces: int = MAX_PIECES) -> EmailPieces:
    """The addresses, then who has none, in at most ``max_pieces`` pieces. When it all does not
    fit, one piece is kept free for a warning; addresses come first, then as much of the list
    of who has none as still fits. The counts say what was left out."""
    emails = sorted({_shown(u.email) for u in users if u.email.strip()}, key=str.lower)
    missing = [mention(u.slack_id) for u in users if not u.email.strip()]
    packed = [(f"```{p}```", n) for p, n in pack(emails, ", ", PIECE_LIMIT - 6)]
    no_email = [(f"Without an e-mail: {p}", n) for p, n in pack(missing, ", ", PIECE_LIMIT - 20)]
    pieces = packed + no_email
    if len(pieces) <= max_pieces:
        return EmailPieces([p for p, _ in pieces], 0, 0)
    room = max_pieces - 1  # one piece for the warning
    kept = packed[:room]
    kept_missing = no_email[: room - len(kept)]
    return EmailPieces(
        [p for p, _ in kept + kept_missing],
        len(emails) - sum(n for _, n in kept),
        len(missing) - sum(n for _, n in kept_missing),
    )


def _shown(address: str) -> str:
    """An address as it goes into a code block: escaped, and no backtick to close the block."""
    return escape(address.strip().replace("`", "'"))


def truncation_warning(result: EmailPieces) -> str:
    """The warning that says what an export left out (call only when it is truncated)."""
    parts = []
    if result.addresses_left_out:
        parts.append(f"{result.addresses_left_out} address(es)")
    if result.without_email_left_out:
        parts.append(f"{result.without_email_left_out} member(s) without an e-mail")
    return (
        f":warning: The list is longer than one Slack message can hold: {' and '.join(parts)} "
        "are not shown. Export one team at a time with `--team`."
    )


def export_emails(deps: Services, caller: str, team: str | None = None) -> TeamReply:
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
    result = email_pieces(users)
    text = f"E-mail addresses of {scope}: {with_email} of {len(users)} member(s) have one."
    pieces = list(result.pieces)
    if result.truncated:
        pieces.append(truncation_warning(result))
    return TeamReply(text, tuple(pieces))
