"""The invitations GitHub's cap refused, in the order they wait (oldest first), with the
invitation job's refusals counted and the rows it parked (docs/decisions/0035-…)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.store.models import QueuedInvitation, utcnow

MAX_ERROR = 300


def aware(moment: datetime) -> datetime:
    """``moment`` as UTC-aware (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class InvitationQueueRepository:
    """Queued invitations: one per account and team (``team_slug`` '' for the organisation)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, github_id: int, login: str, team_slug: str = "", role: str = "member") -> int:
        """Queue the invitation (kept where it was if queued already); how many wait before it
        (parked rows are not sent, so they do not count)."""
        row = self.session.get(QueuedInvitation, (github_id, team_slug))
        if row is None:
            row = QueuedInvitation(github_id=github_id, team_slug=team_slug, login=login)
            self.session.add(row)
        row.login, row.role = login, role
        self.session.flush()
        ahead = select(func.count()).where(
            QueuedInvitation.queued_at < row.queued_at, QueuedInvitation.parked_at.is_(None)
        )
        return int(self.session.scalar(ahead.select_from(QueuedInvitation)) or 0)

    def _ordered(self, parked: bool | None) -> list[QueuedInvitation]:
        query = select(QueuedInvitation).order_by(
            QueuedInvitation.queued_at, QueuedInvitation.github_id, QueuedInvitation.team_slug
        )
        if parked is not None:
            column = QueuedInvitation.parked_at
            query = query.where(column.is_not(None) if parked else column.is_(None))
        return list(self.session.scalars(query))

    def waiting(self) -> list[QueuedInvitation]:
        """The invitations the job sends, oldest first (not the parked ones)."""
        return self._ordered(parked=False)

    def every(self) -> list[QueuedInvitation]:
        """Every queued invitation, parked or not, oldest first."""
        return self._ordered(parked=None)

    def drop(self, github_id: int, team_slug: str) -> bool:
        """Take the invitation off the queue (sent, or refused for good); True if it was on."""
        result = self.session.execute(
            delete(QueuedInvitation).where(
                QueuedInvitation.github_id == github_id, QueuedInvitation.team_slug == team_slug
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def refused(
        self, github_id: int, team_slug: str, error: str, now: datetime | None = None
    ) -> datetime | None:
        """Count one refusal of the invitation; when its refusals began (None: not queued)."""
        row = self.session.get(QueuedInvitation, (github_id, team_slug))
        if row is None:
            return None
        row.attempts += 1
        row.last_error = error[:MAX_ERROR]
        if row.first_refused_at is None:
            row.first_refused_at = now or utcnow()
        return aware(row.first_refused_at)

    def relogin(self, github_id: int, team_slug: str, login: str) -> None:
        """The account's login changed on GitHub (same id): send to the new one."""
        row = self.session.get(QueuedInvitation, (github_id, team_slug))
        if row is not None:
            row.login = login

    def park(self, github_id: int, team_slug: str, reason: str) -> None:
        """Stop sending the invitation, keeping it (and why) for an operator."""
        row = self.session.get(QueuedInvitation, (github_id, team_slug))
        if row is not None:
            row.parked_at, row.last_error = utcnow(), reason[:MAX_ERROR]

    def _of(self, login: str, team_slug: str | None) -> list[QueuedInvitation]:
        query = select(QueuedInvitation).where(func.lower(QueuedInvitation.login) == login.lower())
        if team_slug is not None:
            query = query.where(QueuedInvitation.team_slug == team_slug)
        return list(self.session.scalars(query))

    def retry(self, login: str, team_slug: str | None = None) -> int:
        """Unpark ``login``'s invitations (one team's, or all) with their refusals forgotten, in
        their old place; how many."""
        rows = self._of(login, team_slug)
        for row in rows:
            row.parked_at, row.first_refused_at, row.attempts, row.last_error = None, None, 0, ""
        return len(rows)

    def forget(self, login: str, team_slug: str | None = None) -> int:
        """Drop ``login``'s invitations (one team's, or all); how many."""
        rows = self._of(login, team_slug)
        for row in rows:
            self.session.delete(row)
        return len(rows)
