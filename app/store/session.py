"""Sessions and the unit of work.

``Store`` owns the engine and a session factory. Everything that touches the database does it in
one unit of work::

    with store.unit_of_work() as uow:
        user = uow.users.get("U0123ABCD")
        uow.users.set_karma(user.slack_id, 5)

The block commits when it ends normally and rolls back when it raises; objects stay readable
after the commit (``expire_on_commit=False``), so a command can format its reply from them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.store.engine import engine_from_config, make_engine
from app.store.invitation_queue import InvitationQueueRepository
from app.store.link_records import InvitationRepository, LinkRequestRepository
from app.store.repository import (
    EventRepository,
    KarmaGiftRepository,
    SpecialTeamRepository,
    TeamRepository,
    UserRepository,
)
from config import Config


@dataclass(frozen=True)
class UnitOfWork:
    """One transaction: the session and the repositories bound to it."""

    session: Session
    users: UserRepository
    teams: TeamRepository
    events: EventRepository
    special_teams: SpecialTeamRepository
    karma_gifts: KarmaGiftRepository
    link_requests: LinkRequestRepository
    invitations: InvitationRepository
    invitation_queue: InvitationQueueRepository

    def flush(self) -> None:
        """Send pending changes to the database without committing."""
        self.session.flush()


class Store:
    """The database: an engine and a session factory. Create one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A Store for a database URL."""
        return cls(make_engine(url))

    @classmethod
    def from_config(cls, config: Config) -> Store:
        """A Store for the configured DATABASE_URL (no connection is made yet)."""
        return cls(engine_from_config(config))

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Open a transaction; commit on normal exit, roll back on an exception."""
        with self._sessions.begin() as session:
            yield UnitOfWork(
                session=session,
                users=UserRepository(session),
                teams=TeamRepository(session),
                events=EventRepository(session),
                special_teams=SpecialTeamRepository(session),
                karma_gifts=KarmaGiftRepository(session),
                link_requests=LinkRequestRepository(session),
                invitations=InvitationRepository(session),
                invitation_queue=InvitationQueueRepository(session),
            )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A bare session in a transaction (commit on normal exit, roll back on exception)."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or after fork)."""
        self.engine.dispose()
