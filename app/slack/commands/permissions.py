"""Who may do what.

- member < team_lead < admin; a caller without a record counts as a member;
- "lead" = team_lead or admin; "lead of T" = admin, or listed in T's team_leads (a maintainer of
  the GitHub team) with a GitHub link GitHub itself verified (``User.github_verified``).
"""

from __future__ import annotations

from app.slack.blocks import code
from app.slack.commands.errors import PermissionDenied
from app.store import Permission, Team, UnitOfWork, User

ROLE_NAMES = {
    Permission.member: "members",
    Permission.team_lead: "team leads and admins",
    Permission.admin: "admins",
}


def permission_of(uow: UnitOfWork, slack_id: str) -> Permission:
    """The caller's permission (member when they have no record)."""
    user = uow.users.get(slack_id)
    return user.permission if user is not None else Permission.member


def require(uow: UnitOfWork, slack_id: str, minimum: Permission, doing: str) -> Permission:
    """The caller's permission; PermissionDenied (saying who may) if it is below ``minimum``."""
    permission = permission_of(uow, slack_id)
    if permission < minimum:
        raise PermissionDenied(
            f"Only {ROLE_NAMES[minimum]} can {doing}; you are "
            f"{'an' if permission is Permission.admin else 'a'} {permission.value}."
        )
    return permission


def is_lead_of(user: User | None, team: Team) -> bool:
    """Whether ``user`` may manage ``team``: an admin, or one of its listed leads whose GitHub
    link is verified (a typed, unproven login gives no lead powers)."""
    if user is None:
        return False
    if user.permission is Permission.admin:
        return True
    return user.github_verified and user.github_id is not None and user.github_id in team.team_leads


def require_lead_of(uow: UnitOfWork, slack_id: str, team: Team, doing: str) -> User:
    """The caller's record; PermissionDenied unless they are an admin or a lead of ``team``."""
    user = uow.users.get(slack_id)
    if not is_lead_of(user, team):
        raise PermissionDenied(
            f"Only admins and the leads of team {code(team.github_team_name)} can {doing}."
        )
    assert user is not None
    return user
