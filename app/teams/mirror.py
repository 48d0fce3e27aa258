"""The local side of mirroring: store GitHub's view of a team, and promote or demote members
who join or leave GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME.

Promotion rules (the reference's, made explicit):
- joining the admin team makes a member admin; joining the leads team makes them at least
  team_lead (an admin stays admin) — a promotion never lowers anyone;
- leaving the admin team makes an admin team_lead if they are still in the leads team, else
  member; leaving the leads team makes a team_lead member (an admin stays admin);
- ``team refresh`` only promotes, never demotes (admins made with `rocket2 user promote` or
  `user edit --permission` are not in the GitHub admin team and must keep their role).
Only members with a Rocket 2 record (matched by GitHub id) have a permission to change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from app.store import AlreadyExists, Permission, Team, UnitOfWork
from config import Config

log = logging.getLogger("rocket2.teams")

T = TypeVar("T")


def once_more_on_conflict(work: Callable[[], T]) -> T:
    """Run ``work`` (which opens one unit of work); if a concurrent writer inserted the same
    team or membership row first, run it once more (the failed attempt rolled back entirely).

    The concurrent writer is usually the webhook GitHub sends for the very change a command
    just made. On PostgreSQL both transactions insert the row and the second fails on the
    unique key; on SQLite, BEGIN IMMEDIATE serialises them and this never triggers.
    """
    try:
        return work()
    except (AlreadyExists, IntegrityError):
        log.info("a concurrent writer stored the same team or member first; retrying once")
        return work()


def same_team(configured: str, name: str, slug: str) -> bool:
    """Whether a configured team name (name or slug, any case) designates this team."""
    key = configured.strip().lower()
    return bool(key) and key in (name.strip().lower(), slug.strip().lower())


def special_role(config: Config, name: str, slug: str) -> Permission | None:
    """admin for the admin team, team_lead for the leads team, None for any other team."""
    if same_team(config.github_admin_team_name, name, slug):
        return Permission.admin
    if same_team(config.github_leads_team_name, name, slug):
        return Permission.team_lead
    return None


def is_default_team(config: Config, name: str, slug: str) -> bool:
    """Whether this is GITHUB_DEFAULT_TEAM_NAME."""
    return same_team(config.github_default_team_name, name, slug)


@dataclass(frozen=True)
class RoleChange:
    """A permission change made because someone joined or left a special team."""

    slack_id: str
    before: Permission
    after: Permission

    @property
    def promoted(self) -> bool:
        """True for a promotion, False for a demotion."""
        return self.after > self.before

    def describe(self) -> str:
        """E.g. 'promoted to admin'."""
        verb = "promoted" if self.promoted else "demoted"
        return f"{verb} to {self.after.value}"


def mirror_team(uow: UnitOfWork, team_id: int, name: str, slug: str) -> tuple[Team, bool]:
    """Create or rename the local team ``team_id`` to GitHub's name and slug; (team, changed).

    GitHub team names are unique, so a *different* local team holding the same name or slug is
    stale (renamed or deleted on GitHub while we missed the event): it is renamed out of the
    way (``name~id``) and the next refresh settles it. Nothing is written when nothing differs.
    """
    existing = uow.teams.get(team_id)
    if existing is not None and existing.github_team_name == name and existing.slug == slug:
        return existing, False
    for other in (uow.teams.by_name(name), uow.teams.by_slug(slug)):
        if other is not None and other.github_team_id != team_id:
            placeholder = f"{other.github_team_name}~{other.github_team_id}"
            log.info("team %s: name taken by stale team %s; renaming it", name, placeholder)
            uow.teams.update(other.github_team_id, github_team_name=placeholder, slug="")
    team, _created = uow.teams.upsert(team_id, name, slug=slug)
    return team, True


def on_join(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    """Promote the member with this GitHub id if ``team`` is the admin or leads team."""
    role = special_role(config, team.github_team_name, team.slug)
    user = uow.users.by_github_id(github_id)
    if role is None or user is None or user.permission >= role:
        return None
    return _set(uow, user.slack_id, user.permission, role)


def on_leave(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    """Demote the member with this GitHub id if ``team`` is the admin or leads team."""
    role = special_role(config, team.github_team_name, team.slug)
    user = uow.users.by_github_id(github_id)
    if role is None or user is None or user.permission != role:
        return None
    after = Permission.member
    if role is Permission.admin and _in_leads_team(uow, config, github_id):
        after = Permission.team_lead
    return _set(uow, user.slack_id, user.permission, after)


def _in_leads_team(uow: UnitOfWork, config: Config, github_id: int) -> bool:
    if not config.github_leads_team_name:
        return False
    leads = uow.teams.by_name(config.github_leads_team_name)
    return leads is not None and github_id in leads.members


def _set(uow: UnitOfWork, slack_id: str, before: Permission, after: Permission) -> RoleChange:
    uow.users.set_permission(slack_id, after)
    change = RoleChange(slack_id, before, after)
    log.info("user %s %s", slack_id, change.describe())
    return change
