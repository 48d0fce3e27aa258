"""The invitations GitHub's cap refused, in the order they wait (oldest first)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.store.models import QueuedInvitation


class InvitationQueueRepository:
    """Queued invitations: one per account and team (``team_slug`` '' for the organisation)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, github_id: int, login: str, team_slug: str = "", role: str = "member") -> int:
        """Queue the invitation (kept where it was if queued already); how many wait before it."""
        row = self.session.get(QueuedInvitation, (github_id, team_slug))
        if row is None:
            row = QueuedInvitation(github_id=github_id, team_slug=team_slug, login=login)
            self.session.add(row)
        row.login, row.role = login, role
        self.session.flush()
        ahead = select(func.count()).where(QueuedInvitation.queued_at < row.queued_at)
        return int(self.session.scalar(ahead.select_from(QueuedInvitation)) or 0)

    def waiting(self) -> list[QueuedInvitation]:
        """Every queued invitation, oldest first."""
        query = select(QueuedInvitation).order_by(
            QueuedInvitation.queued_at, QueuedInvitation.github_id
        )
        return list(self.session.scalars(query))

    def drop(self, github_id: int, team_slug: str) -> bool:
        """Take the invitation off the queue (sent, or refused for good); True if it was on."""
        result = self.session.execute(
            delete(QueuedInvitation).where(
                QueuedInvitation.github_id == github_id, QueuedInvitation.team_slug == team_slug
            )
        )
        return bool(getattr(result, "rowcount", 0))
