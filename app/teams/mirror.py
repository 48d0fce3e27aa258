"""The local side of mirroring: store GitHub's view of a team, and promote or demote members
who join or leave the special teams (GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME).

Special teams are pinned by GitHub team id (table ``special_teams``): ``team refresh`` resolves
a configured name once, renames on GitHub follow the id, and a team that cannot be found grants
nothing (docs/decisions/0002-special-teams-pinned-by-id.md). Promotion rules:
- only a member whose GitHub link is verified (``User.github_verified``) is promoted: joining the
  admin team makes them admin; joining the leads team makes them at least team_lead — a
  promotion never lowers anyone;
- demotion applies to anyone: leaving the admin team makes an admin team_lead if they are still
  in the leads team, else member; leaving the leads team makes a team_lead member;
- ``team refresh`` only promotes, never demotes (admins made with `rocket2 user promote` or
  `user edit --permission` are not in the GitHub admin team and must keep their role).
Only members with a Rocket 2 record (matched by GitHub id) have a permission to change.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import IntegrityError

from app import sizes
from app.github import GitHubClient, GitHubTeam
from app.store import AlreadyExists, Permission, Team, UnitOfWork, User
from config import Config

log = logging.getLogger("rocket2.teams")

NAME_LIMIT = sizes.NAME  # the column holds placeholders too


def once_more_on_conflict[T](work: Callable[[], T]) -> T:
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


def github_slug(name: str) -> str:
    """GitHub's slug for a team name, by its documented rule ("My TEam Näme" →
    ``my-team-name``): accents dropped, lower case, other characters collapsed to '-'. Only
    for a name GitHub has not answered for yet: where GitHub gives the slug, use GitHub's."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", plain.lower()).strip("-")


def same_team(configured: str, name: str, slug: str) -> bool:
    """Whether a configured team name (name or slug, any case) designates this team."""
    key = configured.strip().lower()
    return bool(key) and key in (name.strip().lower(), slug.strip().lower())


def names_clash(configured: str, name: str) -> bool:
    """Whether GitHub would take ``name`` for the team ``configured`` names (same name in any
    case, or the same slug)."""
    wanted = github_slug(configured)
    return bool(wanted) and (
        configured.strip().lower() == name.strip().lower() or wanted == github_slug(name)
    )


DEFAULT_TEAM_DESCRIPTION = "Everyone in the club with a GitHub account"


def create_default_team(github: GitHubClient, config: Config) -> GitHubTeam:
    """Create GITHUB_DEFAULT_TEAM_NAME on GitHub (the caller found it missing)."""
    return github.create_team(config.github_default_team_name, description=DEFAULT_TEAM_DESCRIPTION)


def is_default_team(config: Config, name: str, slug: str) -> bool:
    """Whether this is GITHUB_DEFAULT_TEAM_NAME."""
    return same_team(config.github_default_team_name, name, slug)


# ---- special teams, pinned by GitHub team id ------------------------------------------------

SPECIAL_ROLES: tuple[tuple[str, Permission], ...] = (
    (Permission.admin.value, Permission.admin),
    (Permission.team_lead.value, Permission.team_lead),
)


def configured_name(config: Config, role: str) -> str:
    """GITHUB_ADMIN_TEAM_NAME ('admin') or GITHUB_LEADS_TEAM_NAME ('team_lead'), stripped."""
    name = config.github_admin_team_name if role == "admin" else config.github_leads_team_name
    return name.strip()


def pinned_team_id(uow: UnitOfWork, config: Config, role: str) -> int | None:
    """The GitHub team id that grants ``role`` now, or None (not configured, not resolved yet,
    resolved for another configured name, or no such team was found): then nobody gets it."""
    name = configured_name(config, role)
    pin = uow.special_teams.get(role)
    if not name or pin is None or pin.configured_name != name:
        return None
    return pin.github_team_id


def special_role(uow: UnitOfWork, config: Config, team_id: int) -> Permission | None:
    """admin if ``team_id`` is the pinned admin team, team_lead for the pinned leads team."""
    for role, permission in SPECIAL_ROLES:
        if pinned_team_id(uow, config, role) == team_id:
            return permission
    return None


def is_special_name(config: Config, name: str) -> bool:
    """Whether ``name`` is (as GitHub compares names and slugs) a configured special team."""
    return any(names_clash(configured_name(config, role), name) for role, _ in SPECIAL_ROLES)


def is_special_team(uow: UnitOfWork, config: Config, team: Team) -> bool:
    """Whether ``team`` is pinned (under any configured name) or named like a special team."""
    pinned = {pin.github_team_id for pin in uow.special_teams.all()}
    return (
        team.github_team_id in pinned
        or is_special_name(config, team.github_team_name)
        or is_special_name(config, team.slug)
    )


def resolve_pins(uow: UnitOfWork, config: Config, teams: Iterable[GitHubTeam]) -> list[str]:
    """Pin each configured special team that has no pin for its current name, from ``teams``
    (GitHub's list, read now); what was pinned, e.g. ``admin → admins``.

    A pin is never re-resolved for the same configured name, even when its team is gone:
    `rocket2 teams repin` clears the pins (docs/decisions/0002-special-teams-pinned-by-id.md).
    """
    listed = list(teams)
    said = []
    for role, _ in SPECIAL_ROLES:
        name = configured_name(config, role)
        pin = uow.special_teams.get(role)
        if not name or (pin is not None and pin.configured_name == name):
            continue
        found = next((t for t in listed if same_team(name, t.name, t.slug)), None)
        uow.special_teams.pin(role, name, found.id if found is not None else None)
        said.append(f"{role} → {found.name if found is not None else 'not found'}")
        log.info("special team %s pinned: %s", role, said[-1])
    return said


PinStatus = Literal["pinned", "not found", "not configured", "unresolved"]


def pin_status(uow: UnitOfWork, config: Config) -> dict[str, PinStatus]:
    """role → whether its special team is pinned to a team we mirror (store only, no GitHub)."""
    status: dict[str, PinStatus] = {}
    for role, _ in SPECIAL_ROLES:
        name = configured_name(config, role)
        pin = uow.special_teams.get(role)
        if not name:
            status[role] = "not configured"
        elif pin is None or pin.configured_name != name:
            status[role] = "unresolved"
        elif pin.github_team_id is None or uow.teams.get(pin.github_team_id) is None:
            status[role] = "not found"
        else:
            status[role] = "pinned"
    return status


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
    way (``name~id``, once, within the column) and the next refresh settles it. Nothing is
    written when nothing differs.
    """
    existing = uow.teams.get(team_id)
    if existing is not None and existing.github_team_name == name and existing.slug == slug:
        return existing, False
    stale = {
        other.github_team_id: other.github_team_name
        for other in (uow.teams.by_name(name), uow.teams.by_slug(slug) if slug else None)
        if other is not None and other.github_team_id != team_id
    }
    for other_id, other_name in stale.items():
        suffix = f"~{other_id}"
        placeholder = other_name[: NAME_LIMIT - len(suffix)] + suffix
        log.info("team %s: name taken by stale team %s; renaming it", name, placeholder)
        uow.teams.update(other_id, github_team_name=placeholder, slug="")
    team, _created = uow.teams.upsert(team_id, name, slug=slug)
    return team, True


def on_join(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    """Promote the verified member with this GitHub id if ``team`` is a pinned special team."""
    role = special_role(uow, config, team.github_team_id)
    user = uow.users.by_github_id(github_id)
    if role is None or user is None or not user.github_verified or user.permission >= role:
        return None
    return _set(uow, user.slack_id, user.permission, role)


def on_leave(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    """Demote the member with this GitHub id (verified or not) if ``team`` is a pinned special
    team."""
    role = special_role(uow, config, team.github_team_id)
    user = uow.users.by_github_id(github_id)
    if role is None or user is None or user.permission != role:
        return None
    after = Permission.member
    if role is Permission.admin and user.github_verified and _in_leads_team(uow, config, github_id):
        after = Permission.team_lead
    return _set(uow, user.slack_id, user.permission, after)


def apply_roles(uow: UnitOfWork, config: Config, user: User) -> RoleChange | None:
    """Promote a just-verified ``user`` to the role their mirrored membership of the pinned
    special teams gives (admin before team_lead); None if it gives nothing more."""
    if not user.github_verified or user.github_id is None:
        return None
    for role, permission in SPECIAL_ROLES:
        team_id = pinned_team_id(uow, config, role)
        team = uow.teams.get(team_id) if team_id is not None else None
        if team is not None and user.github_id in team.members:
            if user.permission >= permission:
                return None
            return _set(uow, user.slack_id, user.permission, permission)
    return None


def _in_leads_team(uow: UnitOfWork, config: Config, github_id: int) -> bool:
    team_id = pinned_team_id(uow, config, Permission.team_lead.value)
    leads = uow.teams.get(team_id) if team_id is not None else None
    return leads is not None and github_id in leads.members


def _set(uow: UnitOfWork, slack_id: str, before: Permission, after: Permission) -> RoleChange:
    uow.users.set_permission(slack_id, after)
    change = RoleChange(slack_id, before, after)
    log.info("user %s %s", slack_id, change.describe())
    return change
