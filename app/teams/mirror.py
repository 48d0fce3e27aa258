"""The local side of mirroring: store GitHub's view of a team, and keep each member's role in
step with the special teams (GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME).

Special teams are pinned by GitHub team id (table ``special_teams``): ``team refresh`` resolves
a configured name once, renames on GitHub follow the id, and a team that cannot be found grants
nothing (docs/decisions/0002-special-teams-pinned-by-id.md). Roles (docs/decisions/0017):
- a member's role is the higher of what an admin granted (``User.granted_permission``) and what
  the pinned teams give their *proven* GitHub account (admin team → admin, leads team →
  team_lead; nothing while ``User.github_verified`` is False);
- ``reconcile`` recomputes it, both ways, whenever a membership or a link changes and on every
  ``team refresh``; an admin's grant is never taken by it;
- it never removes the last admin: that admin keeps the role and the change says so.
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
    """A permission change GitHub's special teams asked for. ``kept``: it was a demotion of the
    last admin, so it was not made (``after`` is what GitHub alone would give)."""

    slack_id: str
    before: Permission
    after: Permission
    kept: bool = False

    @property
    def promoted(self) -> bool:
        """True for a promotion, False for a demotion."""
        return self.after > self.before

    def describe(self) -> str:
        """E.g. 'promoted to admin', or 'kept admin: the last admin (GitHub gives member)'."""
        if self.kept:
            return f"kept {self.before.value}: the last admin (GitHub gives {self.after.value})"
        verb = "promoted" if self.promoted else "demoted"
        return f"{verb} to {self.after.value}"

    def line(self) -> str:
        """E.g. 'U123 → admin' or 'U123 admin → member'."""
        if self.promoted:
            return f"{self.slack_id} → {self.after.value}"
        return f"{self.slack_id} {self.before.value} → {self.after.value}"


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
    """Recompute the role of the member with this GitHub id if ``team`` is a special team."""
    return _on_change(uow, config, team, github_id)


def on_leave(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    """Recompute the role of the member with this GitHub id if ``team`` is a special team."""
    return _on_change(uow, config, team, github_id)


def _on_change(uow: UnitOfWork, config: Config, team: Team, github_id: int) -> RoleChange | None:
    if special_role(uow, config, team.github_team_id) is None:
        return None
    user = uow.users.by_github_id(github_id)
    return reconcile(uow, config, user) if user is not None else None


def apply_roles(uow: UnitOfWork, config: Config, user: User) -> RoleChange | None:
    """Recompute ``user``'s role from the mirrored special teams (see ``reconcile``)."""
    return reconcile(uow, config, user)


def github_role(uow: UnitOfWork, config: Config, user: User) -> Permission:
    """What the pinned special teams, as mirrored, give ``user``: member unless the link is
    proven; admin before team_lead."""
    if not user.github_verified or user.github_id is None:
        return Permission.member
    for role, permission in SPECIAL_ROLES:
        team_id = pinned_team_id(uow, config, role)
        team = uow.teams.get(team_id) if team_id is not None else None
        if team is not None and user.github_id in team.members:
            return permission
    return Permission.member


def wanted_role(uow: UnitOfWork, config: Config, user: User) -> Permission:
    """The role ``user`` should hold: the higher of the admin's grant and GitHub's."""
    return max(user.granted_permission, github_role(uow, config, user), key=lambda p: p.rank)


def reconcile(uow: UnitOfWork, config: Config, user: User) -> RoleChange | None:
    """Set ``user``'s permission to ``wanted_role``; the change (None if none). The last admin
    is never demoted: then nothing changes and the change is returned with ``kept``."""
    wanted = wanted_role(uow, config, user)
    if wanted == user.permission:
        return None
    if user.permission is Permission.admin and _last_admin(uow, user.slack_id):
        log.warning(
            "user %s keeps admin: the last admin (GitHub gives %s)", user.slack_id, wanted.value
        )
        return RoleChange(user.slack_id, user.permission, wanted, kept=True)
    return _set(uow, user.slack_id, user.permission, wanted)


def reconcile_all(uow: UnitOfWork, config: Config) -> list[RoleChange]:
    """``reconcile`` every member who holds a role or whose account is in a special team;
    promotions first, so a new admin exists before the old one is demoted."""
    users = {u.slack_id: u for u in uow.users.with_roles()}
    for role, _ in SPECIAL_ROLES:
        team_id = pinned_team_id(uow, config, role)
        team = uow.teams.get(team_id) if team_id is not None else None
        if team is not None:
            users.update((u.slack_id, u) for u in uow.users.by_github_ids(team.members))
    ordered = sorted(
        users.values(),
        key=lambda u: (wanted_role(uow, config, u) <= u.permission, u.slack_id),
    )
    changes = [reconcile(uow, config, user) for user in ordered]
    return [change for change in changes if change is not None]


def _last_admin(uow: UnitOfWork, slack_id: str) -> bool:
    admins = uow.users.lock_admins()
    return [a.slack_id for a in admins] == [slack_id]


def _set(uow: UnitOfWork, slack_id: str, before: Permission, after: Permission) -> RoleChange:
    uow.users.set_permission(slack_id, after)
    change = RoleChange(slack_id, before, after)
    log.info("user %s %s", slack_id, change.describe())
    return change
