"""Repositories for what linking remembers: links waiting for an admin's approval, and the
GitHub accounts Rocket 2 itself invited to the organisation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.store.models import Invitation, LinkRequest, utcnow


class LinkRequestRepository:
    """Links waiting for `/rocket user approve`: one per member, the newest wins."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, slack_id: str, github_id: int, login: str) -> LinkRequest:
        """Store (or replace) ``slack_id``'s waiting link."""
        row = self.session.get(LinkRequest, slack_id)
        if row is None:
            row = LinkRequest(slack_id=slack_id)
            self.session.add(row)
        row.github_id, row.github_login, row.requested_at = github_id, login, utcnow()
        self.session.flush()
        return row

    def get(
        self, slack_id: str, *, max_age: timedelta, now: datetime | None = None
    ) -> LinkRequest | None:
        """``slack_id``'s waiting link if it was asked for within ``max_age``, else None."""
        cutoff = (now or utcnow()) - max_age
        query = select(LinkRequest).where(
            LinkRequest.slack_id == slack_id, LinkRequest.requested_at >= cutoff
        )
        return self.session.scalars(query.with_for_update()).first()

    def drop(self, slack_id: str) -> bool:
        """Forget ``slack_id``'s waiting link; True if there was one."""
        result = self.session.execute(delete(LinkRequest).where(LinkRequest.slack_id == slack_id))
        return bool(getattr(result, "rowcount", 0))


class InvitationRepository:
    """GitHub accounts Rocket 2 invited (GitHub answered the invitation with "pending")."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, github_id: int, login: str) -> None:
        """Remember that Rocket 2 invited this account."""
        row = self.session.get(Invitation, github_id)
        if row is None:
            self.session.add(Invitation(github_id=github_id, login=login))
        else:
            row.login = login
        self.session.flush()

    def made(self, github_id: int) -> bool:
        """Whether Rocket 2 invited this account."""
        query = select(Invitation.github_id).where(Invitation.github_id == github_id)
        return self.session.scalar(query) is not None

    def forget(self, github_id: int) -> None:
        """Forget the invitation (the account left the organisation)."""
        self.session.execute(delete(Invitation).where(Invitation.github_id == github_id))
