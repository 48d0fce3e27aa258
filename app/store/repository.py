"""Repositories: the queries the commands, webhooks and onboarding need, one class per table.

Each repository wraps the Session of one unit of work (see app.store.session) and never commits;
the unit of work does. Lookups return None when nothing matches; ``require_*`` and updates raise
NotFound. Text lookups of GitHub usernames and e-mails ignore case, as GitHub and mail do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.errors import AlreadyExists, NotFound
from app.store.models import (
    DEFAULT_KARMA,
    KarmaGift,
    Permission,
    ProcessedEvent,
    SpecialTeam,
    Team,
    TeamLead,
    TeamMember,
    User,
    utcnow,
)

USER_FIELDS = frozenset(
    {
        "name",
        "email",
        "github_username",
        "github_id",
        "github_verified",
        "major",
        "position",
        "biography",
        "image_url",
        "permission",
        "granted_permission",
        "karma",
    }
)
TEAM_FIELDS = frozenset({"github_team_name", "slug", "displayname", "platform", "folder"})


def _insert(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT that supports ON CONFLICT DO NOTHING (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # only the dialect in use is imported

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _check_fields(kind: str, fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise TypeError(f"unknown {kind} field(s): {', '.join(unknown)}")


class UserRepository:
    """Users: by Slack id, GitHub id or username, e-mail; permissions and karma."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, slack_id: str) -> User | None:
        """The user with this Slack id, or None."""
        return self.session.get(User, slack_id)

    def require(self, slack_id: str) -> User:
        """The user with this Slack id; NotFound otherwise."""
        user = self.get(slack_id)
        if user is None:
            raise NotFound("user", slack_id)
        return user

    def by_github_id(self, github_id: int) -> User | None:
        """The user whose GitHub account has this id, or None."""
        return self.session.scalars(select(User).where(User.github_id == github_id)).first()

    def by_github_username(self, username: str) -> User | None:
        """The user with this GitHub login (case-insensitive), or None."""
        query = select(User).where(func.lower(User.github_username) == username.lower())
        return self.session.scalars(query.order_by(User.slack_id)).first()

    def by_email(self, email: str) -> User | None:
        """The user with this e-mail (case-insensitive), or None."""
        query = select(User).where(func.lower(User.email) == email.strip().lower())
        return self.session.scalars(query.order_by(User.slack_id)).first()

    def by_github_ids(self, github_ids: Iterable[int]) -> list[User]:
        """The users whose GitHub ids are among ``github_ids``, by Slack id."""
        ids = list(set(github_ids))
        if not ids:
            return []
        query = select(User).where(User.github_id.in_(ids)).order_by(User.slack_id)
        return list(self.session.scalars(query))

    def list_all(self) -> list[User]:
        """Every user, by Slack id."""
        return list(self.session.scalars(select(User).order_by(User.slack_id)))

    def with_github(self) -> list[User]:
        """Every user who has a GitHub id, by Slack id."""
        query = select(User).where(User.github_id.is_not(None)).order_by(User.slack_id)
        return list(self.session.scalars(query))

    def count(self) -> int:
        """Number of users."""
        return int(self.session.scalar(select(func.count()).select_from(User)) or 0)

    def create(self, slack_id: str, **fields: Any) -> User:
        """Create a user; AlreadyExists if the Slack id (or GitHub id) is taken."""
        _check_fields("user", fields, USER_FIELDS)
        user = User(slack_id=slack_id, **fields)
        try:
            with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:
            raise AlreadyExists("user", slack_id) from None
        return user

    def create_if_absent(self, slack_id: str, **fields: Any) -> tuple[User, bool]:
        """Create the user unless one exists; never overwrites. Returns (user, created).

        Safe when two instances do it at once: the INSERT is ON CONFLICT DO NOTHING.
        """
        _check_fields("user", fields, USER_FIELDS)
        existing = self.get(slack_id)
        if existing is not None:
            return existing, False
        values = {
            "slack_id": slack_id,
            "permission": Permission.member,
            "karma": DEFAULT_KARMA,
            **fields,
        }
        statement = (
            _insert(self.session, User)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["slack_id"])
            .returning(User.slack_id)
        )
        created = self.session.execute(statement).first() is not None
        user = self.session.get(User, slack_id, populate_existing=True)
        if user is None:  # pragma: no cover - a concurrent delete between the two statements
            raise NotFound("user", slack_id)
        return user, created

    def replace(self, slack_id: str, **fields: Any) -> User:
        """Overwrite the user with a fresh record (``user add -f``); creates it if absent."""
        _check_fields("user", fields, USER_FIELDS)
        existing = self.get(slack_id)
        if existing is not None:
            self.session.delete(existing)
            self.session.flush()
        user = User(slack_id=slack_id, **fields)
        self.session.add(user)
        self.session.flush()
        return user

    def update(self, slack_id: str, **fields: Any) -> User:
        """Set the given fields; NotFound if absent, AlreadyExists if the GitHub id is taken."""
        _check_fields("user", fields, USER_FIELDS)
        user = self.require(slack_id)
        try:
            with self.session.begin_nested():
                for name, value in fields.items():
                    setattr(user, name, value)
        except IntegrityError:
            self.session.refresh(user)
            raise AlreadyExists("GitHub account of user", slack_id) from None
        return user

    def delete(self, slack_id: str) -> bool:
        """Delete the user; True if there was one."""
        user = self.get(slack_id)
        if user is None:
            return False
        self.session.delete(user)
        self.session.flush()
        return True

    def delete_by_github_id(self, github_id: int) -> list[str]:
        """Delete the user(s) with this GitHub id; return their Slack ids."""
        users = list(self.session.scalars(select(User).where(User.github_id == github_id)))
        for user in users:
            self.session.delete(user)
        self.session.flush()
        return [u.slack_id for u in users]

    def set_permission(self, slack_id: str, permission: Permission) -> User:
        """Set the user's permission (what a GitHub special team gives); NotFound if absent."""
        return self.update(slack_id, permission=permission)

    def grant(self, slack_id: str, permission: Permission) -> User:
        """An admin's explicit grant: permission and granted_permission both; NotFound if
        absent."""
        return self.update(slack_id, permission=permission, granted_permission=permission)

    def promote(self, slack_id: str, permission: Permission) -> tuple[User, bool]:
        """Create the user if absent, then grant them ``permission`` (as an admin would).
        Returns (user, created)."""
        user, created = self.create_if_absent(slack_id)
        user.permission = user.granted_permission = permission
        self.session.flush()
        return user, created

    def with_roles(self) -> list[User]:
        """Every user above member, by Slack id."""
        query = select(User).where(User.permission != Permission.member).order_by(User.slack_id)
        return list(self.session.scalars(query))

    def admins(self) -> list[User]:
        """Every admin, by Slack id."""
        query = select(User).where(User.permission == Permission.admin).order_by(User.slack_id)
        return list(self.session.scalars(query))

    def lock_admins(self) -> list[User]:
        """Every admin, their rows locked until the unit of work ends (PostgreSQL).

        Permission checks and "keep an admin" checks call this first in the unit of work that
        writes: a concurrent demotion then waits for this one (or this one for it) and is seen
        afresh. Rows are locked in Slack id order, so two callers cannot deadlock on them.
        SQLite needs nothing more: every transaction there starts with BEGIN IMMEDIATE.
        """
        query = (
            select(User)
            .where(User.permission == Permission.admin)
            .order_by(User.slack_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(query))

    # karma

    def get_karma(self, slack_id: str) -> int:
        """The user's karma; NotFound if absent."""
        return self.require(slack_id).karma

    def set_karma(self, slack_id: str, karma: int) -> User:
        """Set the user's karma (0 is stored as 0); NotFound if absent."""
        return self.update(slack_id, karma=int(karma))

    def add_karma(self, slack_id: str, delta: int = 1) -> int:
        """Add ``delta`` in one UPDATE (no lost updates when two arrive at once); the new value."""
        statement = (
            update(User)
            .where(User.slack_id == slack_id)
            .values(karma=User.karma + delta)
            .returning(User.karma)
            .execution_options(synchronize_session="fetch")
        )
        karma = self.session.execute(statement).scalar_one_or_none()
        if karma is None:
            raise NotFound("user", slack_id)
        return int(karma)

    def reset_all_karma(self, value: int = DEFAULT_KARMA) -> int:
        """Set every user's karma to ``value`` (1 by default); the number of users changed."""
        statement = (
            update(User)
            .where(User.karma != value)
            .values(karma=value)
            .execution_options(synchronize_session="fetch")
        )
        result: Any = self.session.execute(statement)
        return int(result.rowcount)


class TeamRepository:
    """Teams by GitHub id, name or slug; their member and lead sets (GitHub user ids)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, github_team_id: int) -> Team | None:
        """The team with this GitHub id, or None."""
        return self.session.get(Team, github_team_id)

    def require(self, github_team_id: int) -> Team:
        """The team with this GitHub id; NotFound otherwise."""
        team = self.get(github_team_id)
        if team is None:
            raise NotFound("team with GitHub id", github_team_id)
        return team

    def by_name(self, name: str) -> Team | None:
        """The team with this GitHub name (case-insensitive) or slug, or None."""
        key = name.strip().lower()
        query = select(Team).where(func.lower(Team.github_team_name) == key)
        team = self.session.scalars(query).first()
        return team if team is not None else self.by_slug(key)

    def require_by_name(self, name: str) -> Team:
        """The team with this name or slug; NotFound otherwise."""
        team = self.by_name(name)
        if team is None:
            raise NotFound("team", name)
        return team

    def by_slug(self, slug: str) -> Team | None:
        """The team with this GitHub slug, or None."""
        query = select(Team).where(Team.slug == slug.strip().lower())
        return self.session.scalars(query).first()

    def list_all(self) -> list[Team]:
        """Every team, by name."""
        return list(self.session.scalars(select(Team).order_by(Team.github_team_name)))

    def count(self) -> int:
        """Number of teams."""
        return int(self.session.scalar(select(func.count()).select_from(Team)) or 0)

    def create(self, github_team_id: int, github_team_name: str, **fields: Any) -> Team:
        """Create a team; AlreadyExists if the id or name is taken."""
        _check_fields("team", fields, TEAM_FIELDS)
        team = Team(github_team_id=github_team_id, github_team_name=github_team_name, **fields)
        try:
            with self.session.begin_nested():
                self.session.add(team)
        except IntegrityError:
            raise AlreadyExists("team", github_team_name) from None
        return team

    def upsert(
        self, github_team_id: int, github_team_name: str, **fields: Any
    ) -> tuple[Team, bool]:
        """Create the team, or update its name and the given fields. Returns (team, created)."""
        _check_fields("team", fields, TEAM_FIELDS)
        team = self.get(github_team_id)
        if team is None:
            return self.create(github_team_id, github_team_name, **fields), True
        return self.update(github_team_id, github_team_name=github_team_name, **fields), False

    def update(self, github_team_id: int, **fields: Any) -> Team:
        """Set the given fields; NotFound if absent, AlreadyExists if the new name is taken."""
        _check_fields("team", fields, TEAM_FIELDS)
        team = self.require(github_team_id)
        try:
            with self.session.begin_nested():
                for name, value in fields.items():
                    setattr(team, name, value)
        except IntegrityError:
            self.session.refresh(team)
            raise AlreadyExists("team", fields.get("github_team_name", github_team_id)) from None
        return team

    def delete(self, github_team_id: int) -> bool:
        """Delete the team (its member and lead rows go with it); True if there was one."""
        team = self.get(github_team_id)
        if team is None:
            return False
        self.session.delete(team)
        self.session.flush()
        return True

    def members(self, github_team_id: int) -> frozenset[int]:
        """GitHub ids of the team's members; NotFound if the team is absent."""
        return self.require(github_team_id).members

    def leads(self, github_team_id: int) -> frozenset[int]:
        """GitHub ids of the team's leads; NotFound if the team is absent."""
        return self.require(github_team_id).team_leads

    def add_member(self, github_team_id: int, github_id: int) -> bool:
        """Add to the member set; True if it was not there."""
        team = self.require(github_team_id)
        if github_id in team.members:
            return False
        team.member_rows.append(TeamMember(team_id=github_team_id, github_id=github_id))
        self.session.flush()
        return True

    def remove_member(self, github_team_id: int, github_id: int) -> bool:
        """Remove from the member set (the lead set is untouched); True if it was there."""
        team = self.require(github_team_id)
        before = len(team.member_rows)
        team.member_rows[:] = [r for r in team.member_rows if r.github_id != github_id]
        self.session.flush()
        return len(team.member_rows) != before

    def add_lead(self, github_team_id: int, github_id: int) -> bool:
        """Add to the lead set; True if it was not there."""
        team = self.require(github_team_id)
        if github_id in team.team_leads:
            return False
        team.lead_rows.append(TeamLead(team_id=github_team_id, github_id=github_id))
        self.session.flush()
        return True

    def remove_lead(self, github_team_id: int, github_id: int) -> bool:
        """Remove from the lead set (membership is untouched); True if it was there."""
        team = self.require(github_team_id)
        before = len(team.lead_rows)
        team.lead_rows[:] = [r for r in team.lead_rows if r.github_id != github_id]
        self.session.flush()
        return len(team.lead_rows) != before

    def set_members(
        self, github_team_id: int, github_ids: Iterable[int]
    ) -> tuple[frozenset[int], frozenset[int]]:
        """Make the member set exactly ``github_ids``; return (added, removed)."""
        team = self.require(github_team_id)
        wanted = frozenset(github_ids)
        current = team.members
        added, removed = wanted - current, current - wanted
        if added or removed:
            team.member_rows[:] = [r for r in team.member_rows if r.github_id in wanted]
            team.member_rows.extend(
                TeamMember(team_id=github_team_id, github_id=gid) for gid in sorted(added)
            )
            self.session.flush()
        return added, removed

    def set_leads(
        self, github_team_id: int, github_ids: Iterable[int]
    ) -> tuple[frozenset[int], frozenset[int]]:
        """Make the lead set exactly ``github_ids``; return (added, removed)."""
        team = self.require(github_team_id)
        wanted = frozenset(github_ids)
        current = team.team_leads
        added, removed = wanted - current, current - wanted
        if added or removed:
            team.lead_rows[:] = [r for r in team.lead_rows if r.github_id in wanted]
            team.lead_rows.extend(
                TeamLead(team_id=github_team_id, github_id=gid) for gid in sorted(added)
            )
            self.session.flush()
        return added, removed

    def teams_of(self, github_id: int) -> list[Team]:
        """The teams this GitHub user is a member of, by name."""
        query = (
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.github_team_id)
            .where(TeamMember.github_id == github_id)
            .order_by(Team.github_team_name)
        )
        return list(self.session.scalars(query))

    def teams_led_by(self, github_id: int) -> list[Team]:
        """The teams this GitHub user leads, by name."""
        query = (
            select(Team)
            .join(TeamLead, TeamLead.team_id == Team.github_team_id)
            .where(TeamLead.github_id == github_id)
            .order_by(Team.github_team_name)
        )
        return list(self.session.scalars(query))

    def membership_count(self) -> tuple[int, int]:
        """(number of member rows, number of lead rows) across all teams."""
        members = self.session.scalar(select(func.count()).select_from(TeamMember)) or 0
        leads = self.session.scalar(select(func.count()).select_from(TeamLead)) or 0
        return int(members), int(leads)


class EventRepository:
    """Deliveries already processed, for exactly-once handling of retried events."""

    SOURCES = ("slack", "github", "job", "link")

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, source: str, event_id: str) -> bool:
        """Record the delivery; True if it is new (process it), False if it was seen before.

        Claim inside the same unit of work as the processing: if the work fails and rolls
        back, the claim goes too and the retry is processed. Two instances claiming the same id
        at once: PostgreSQL makes the second wait for the first's commit, then returns False.
        """
        if source not in self.SOURCES:
            raise ValueError(f"source must be one of {', '.join(self.SOURCES)}")
        if not event_id:
            raise ValueError("event_id must not be empty")
        statement = (
            _insert(self.session, ProcessedEvent)
            .values(source=source, event_id=event_id, processed_at=utcnow())
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(ProcessedEvent.event_id)
        )
        return self.session.execute(statement).first() is not None

    def seen(self, source: str, event_id: str) -> bool:
        """True if the delivery was processed already."""
        return self.session.get(ProcessedEvent, (source, event_id)) is not None

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Forget deliveries processed more than ``older_than`` ago; the number forgotten."""
        cutoff = (now or utcnow()) - older_than
        result: Any = self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff)
        )
        return int(result.rowcount)

    def count(self) -> int:
        """Number of remembered deliveries."""
        return int(self.session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


class SpecialTeamRepository:
    """The pinned GitHub team of each special role ('admin', 'team_lead')."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, role: str) -> SpecialTeam | None:
        """The pin for ``role``, or None if it was never resolved."""
        return self.session.get(SpecialTeam, role)

    def pin(self, role: str, configured_name: str, github_team_id: int | None) -> SpecialTeam:
        """Store (or replace) the pin: ``configured_name`` resolved to ``github_team_id``."""
        row = self.session.get(SpecialTeam, role)
        if row is None:
            row = SpecialTeam(role=role, configured_name=configured_name)
            self.session.add(row)
        row.configured_name = configured_name
        row.github_team_id = github_team_id
        row.pinned_at = utcnow()
        self.session.flush()
        return row

    def all(self) -> list[SpecialTeam]:
        """Every stored pin."""
        return list(self.session.scalars(select(SpecialTeam).order_by(SpecialTeam.role)))


class KarmaGiftRepository:
    """Karma points given with ``++``: recorded, and counted per giver for the rate limit."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, giver: str, receiver: str, now: datetime | None = None) -> None:
        """Remember that ``giver`` gave ``receiver`` a point."""
        self.session.add(KarmaGift(giver=giver, receiver=receiver, given_at=now or utcnow()))
        self.session.flush()

    def given_since(self, giver: str, since: datetime) -> int:
        """How many points ``giver`` gave since ``since``."""
        query = (
            select(func.count())
            .select_from(KarmaGift)
            .where(KarmaGift.giver == giver, KarmaGift.given_at >= since)
        )
        return int(self.session.scalar(query) or 0)

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Forget gifts older than ``older_than``; the number forgotten."""
        cutoff = (now or utcnow()) - older_than
        result: Any = self.session.execute(delete(KarmaGift).where(KarmaGift.given_at < cutoff))
        return int(result.rowcount)
