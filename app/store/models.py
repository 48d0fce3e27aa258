"""The database tables, as SQLAlchemy 2 declarative models.

- ``User``: one club member, keyed by Slack id; karma is a plain NOT NULL integer (0 stays 0).
- ``Team``: one GitHub team, keyed by GitHub team id; its members and leads are sets of GitHub
  user ids kept in two association tables (``team_members``, ``team_leads``). They are not foreign
  keys to ``users``: a GitHub account can be in a team without a Rocket 2 record.
- ``ProcessedEvent``: Slack ``event_id``s and GitHub delivery ids already handled, so a retried
  delivery is processed once; source ``job`` records scheduled runs (e.g. ``weekly:2026-11-28``)
  so a job fired by several instances runs once; source ``link`` records used account-link
  nonces, so a link works once.
- ``SpecialTeam``: the GitHub team id pinned for the admin and leads roles.
- ``KarmaGift``: one ``++`` given, for the per-giver rate limit.
- ``LinkRequest``: a proven link that waits for an admin's approval (one per member).
- ``Invitation``: a GitHub account Rocket 2 itself invited to the organisation.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app import sizes

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_KARMA = 1


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Permission(enum.Enum):
    """A member's role. Ordered: member < team_lead < admin."""

    member = "member"
    team_lead = "team_lead"
    admin = "admin"

    @property
    def rank(self) -> int:
        """0 for member, 1 for team_lead, 2 for admin."""
        return _RANKS[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Permission):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Permission):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Permission):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Permission):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Permission:
        """Parse 'member', 'team_lead' (or 'team-lead', 'lead') or 'admin'; ValueError otherwise."""
        key = text.strip().lower().replace("-", "_")
        if key == "lead":
            key = "team_lead"
        try:
            return cls(key)
        except ValueError:
            raise ValueError("permission must be one of: member, team_lead, admin") from None


_RANKS = {Permission.member: 0, Permission.team_lead: 1, Permission.admin: 2}

PERMISSION_TYPE = Enum(
    Permission,
    name="permission",
    native_enum=False,
    create_constraint=True,
    length=16,
    values_callable=lambda members: [m.value for m in members],
    validate_strings=True,
)
# The same values for users.granted_permission, under its own CHECK constraint name.
GRANTED_TYPE = Enum(
    Permission,
    name="granted_permission",
    native_enum=False,
    create_constraint=True,
    length=16,
    values_callable=lambda members: [m.value for m in members],
    validate_strings=True,
)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class User(Base):
    """A club member, keyed by Slack user id."""

    __tablename__ = "users"

    slack_id: Mapped[str] = mapped_column(String(sizes.SLACK_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    email: Mapped[str] = mapped_column(
        String(sizes.EMAIL), default="", server_default="", index=True
    )
    github_username: Mapped[str] = mapped_column(
        String(sizes.GITHUB_LOGIN), default="", server_default="", index=True
    )
    github_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    major: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    position: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    biography: Mapped[str] = mapped_column(Text, default="", server_default="")
    image_url: Mapped[str] = mapped_column(String(sizes.URL), default="", server_default="")
    # True only when GitHub itself said this Slack member owns the account (the OAuth link);
    # no role comes from GitHub (special teams, team maintainers) while it is False.
    github_verified: Mapped[bool] = mapped_column(
        Boolean(create_constraint=False), default=False, server_default=sa_false()
    )
    permission: Mapped[Permission] = mapped_column(
        PERMISSION_TYPE, default=Permission.member, server_default=Permission.member.value
    )
    # What an admin granted (`rocket2 user promote`, `user edit --permission`); ``permission``
    # above it came from a GitHub special team and follows GitHub (app.teams.mirror).
    granted_permission: Mapped[Permission] = mapped_column(
        GRANTED_TYPE, default=Permission.member, server_default=Permission.member.value
    )
    karma: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_KARMA, server_default=str(DEFAULT_KARMA)
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )

    @property
    def role_source(self) -> str:
        """Where the permission comes from: 'granted by an admin', 'from the admin team',
        'from the leads team', or '' for a plain member."""
        if self.permission is Permission.member:
            return ""
        if self.permission <= self.granted_permission:
            return "granted by an admin"
        return (
            "from the admin team"
            if self.permission is Permission.admin
            else ("from the leads team")
        )

    def __repr__(self) -> str:
        return f"User(slack_id={self.slack_id!r}, permission={self.permission.value})"


class TeamMember(Base):
    """One GitHub user id in one team's member set."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("teams.github_team_id", ondelete="CASCADE"), primary_key=True
    )
    github_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class TeamLead(Base):
    """One GitHub user id in one team's lead set."""

    __tablename__ = "team_leads"

    team_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("teams.github_team_id", ondelete="CASCADE"), primary_key=True
    )
    github_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class Team(Base):
    """A GitHub team of the organisation, keyed by its GitHub id."""

    __tablename__ = "teams"

    github_team_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    github_team_name: Mapped[str] = mapped_column(String(sizes.NAME), unique=True)
    slug: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    displayname: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    platform: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")
    folder: Mapped[str] = mapped_column(String(sizes.NAME), default="", server_default="")

    member_rows: Mapped[list[TeamMember]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    lead_rows: Mapped[list[TeamLead]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def members(self) -> frozenset[int]:
        """GitHub ids of the team's members."""
        return frozenset(row.github_id for row in self.member_rows)

    @property
    def team_leads(self) -> frozenset[int]:
        """GitHub ids of the team's leads."""
        return frozenset(row.github_id for row in self.lead_rows)

    def __repr__(self) -> str:
        return f"Team(github_team_id={self.github_team_id}, name={self.github_team_name!r})"


class ProcessedEvent(Base):
    """A delivery already handled: (source, id), e.g. ('slack', 'Ev123'), ('github', delivery
    id) or ('job', 'weekly:2026-11-28')."""

    __tablename__ = "processed_events"
    __table_args__ = (
        CheckConstraint("source IN ('slack', 'github', 'job', 'link')", name="source"),
    )

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True
    )


class SpecialTeam(Base):
    """The GitHub team that grants a role ('admin' or 'team_lead'), pinned by its id.

    ``configured_name`` is the GITHUB_*_TEAM_NAME the pin was resolved from: when the setting
    changes, the pin is resolved again; a rename on GitHub keeps the id. ``github_team_id`` is
    None while no team of that name was found (then nobody gets the role from GitHub).
    """

    __tablename__ = "special_teams"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    configured_name: Mapped[str] = mapped_column(String(sizes.NAME))
    github_team_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    pinned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class KarmaGift(Base):
    """One karma point given with ``++`` (who gave it to whom, when): the rate limit reads it."""

    __tablename__ = "karma_gifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    giver: Mapped[str] = mapped_column(String(sizes.SLACK_ID), index=True)
    receiver: Mapped[str] = mapped_column(String(sizes.SLACK_ID))
    given_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True
    )


class LinkRequest(Base):
    """A link GitHub proved that gives a role (or takes an account off another member), waiting
    for an admin's `/rocket user approve`; one per member, the newest wins."""

    __tablename__ = "link_requests"

    slack_id: Mapped[str] = mapped_column(String(sizes.SLACK_ID), primary_key=True)
    github_id: Mapped[int] = mapped_column(BigInteger)
    github_login: Mapped[str] = mapped_column(String(sizes.GITHUB_LOGIN))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class Invitation(Base):
    """A GitHub account Rocket 2 invited to the organisation (GitHub answered "pending")."""

    __tablename__ = "invitations"

    github_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    login: Mapped[str] = mapped_column(String(sizes.GITHUB_LOGIN))
    invited_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class QueuedInvitation(Base):
    """An invitation GitHub's cap refused, waiting for the invitation job: the account, and the
    team (with the role) it was for, or ``team_slug`` '' for the organisation alone. The job's
    refusals are counted (``attempts``, ``last_error``, ``first_refused_at``); a row GitHub
    refuses for good, or for too long, is ``parked_at`` (kept, no longer sent, ``last_error``
    says why) until an operator retries or drops it."""

    __tablename__ = "queued_invitations"

    github_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    team_slug: Mapped[str] = mapped_column(String(sizes.NAME), primary_key=True)
    login: Mapped[str] = mapped_column(String(sizes.GITHUB_LOGIN))
    role: Mapped[str] = mapped_column(String(16), default="member")
    queued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(String(300), default="", server_default="")
    first_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
