"""GitHub's answers as its REST description renders them (API version 2022-11-28).

One home for the shapes both GitHub stand-ins give: each function returns the documented
object with every required field (tests/data/openapi/github.json holds the schemas; the
contract check in the tests validates every answer against them). ``api`` is the stand-in's
base URL; every ``*_url`` is an absolute URI under it, as GitHub's are under its own.
"""

from __future__ import annotations

from typing import Any

STAMP = "2026-01-01T00:00:00Z"  # created_at / updated_at of everything the stand-in holds
ORG_ID = 9000
DOCS = "https://docs.github.com/rest"


def simple_user(api: str, login: str, user_id: int) -> dict[str, Any]:
    """A ``simple-user`` (lists of members, a membership's user)."""
    base = f"{api}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "avatar_url": f"{api}/avatars/{user_id}",
        "gravatar_id": "",
        "url": base,
        "html_url": f"{api}/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "User",
        "site_admin": False,
        "user_view_type": "public",
    }


def public_user(api: str, login: str, user_id: int) -> dict[str, Any]:
    """A ``public-user`` (``GET /users/{username}``, ``GET /user/{account_id}``, ``GET /user``)."""
    return {
        **simple_user(api, login, user_id),
        "name": None,
        "company": None,
        "blog": None,
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def team_member(api: str, login: str, user_id: int, inherited: bool = False) -> dict[str, Any]:
    """A ``team-member`` (a team's member list); ``inherited``: through a child team."""
    return {**simple_user(api, login, user_id), "inherited": inherited}


def organization_simple(api: str, org: str) -> dict[str, Any]:
    """An ``organization-simple`` (in an organisation membership)."""
    base = f"{api}/orgs/{org}"
    return {
        "login": org,
        "id": ORG_ID,
        "node_id": f"O_{ORG_ID}",
        "url": base,
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events",
        "hooks_url": f"{base}/hooks",
        "issues_url": f"{base}/issues",
        "members_url": f"{base}/members{{/member}}",
        "public_members_url": f"{base}/public_members{{/member}}",
        "avatar_url": f"{api}/avatars/{ORG_ID}",
        "description": None,
    }


def team_organization(api: str, org: str) -> dict[str, Any]:
    """A ``team-organization`` (the organisation inside a ``team-full``)."""
    return {
        **organization_simple(api, org),
        "html_url": f"{api}/{org}",
        "has_organization_projects": False,
        "has_repository_projects": False,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": STAMP,
        "updated_at": STAMP,
        "archived_at": None,
    }


def organization_full(api: str, org: str) -> dict[str, Any]:
    """An ``organization-full`` (``GET /orgs/{org}``): the fields a team's organisation has."""
    return team_organization(api, org)


def team_simple(api: str, org: str, team: dict[str, Any]) -> dict[str, Any]:
    """A ``team-simple`` (a team's ``parent``): ``team`` has id, name, slug, description,
    privacy."""
    base = f"{api}/organizations/{ORG_ID}/team/{team['id']}"
    return {
        "id": team["id"],
        "node_id": f"T_{team['id']}",
        "url": base,
        "members_url": f"{base}/members{{/member}}",
        "name": team["name"],
        "description": team.get("description") or None,
        "permission": "pull",
        "privacy": team.get("privacy", "closed"),
        "notification_setting": "notifications_enabled",
        "html_url": f"{api}/orgs/{org}/teams/{team['slug']}",
        "repositories_url": f"{base}/repos",
        "slug": team["slug"],
        "type": "organization",
    }


def team(api: str, org: str, team: dict[str, Any], parent: dict[str, Any] | None) -> dict[str, Any]:
    """A ``team`` (the organisation's team list, a team's child teams)."""
    return {
        **team_simple(api, org, team),
        "parent": None if parent is None else team_simple(api, org, parent),
    }


def team_full(
    api: str, org: str, team_: dict[str, Any], parent: dict[str, Any] | None, members: int
) -> dict[str, Any]:
    """A ``team-full`` (one team read, created or edited)."""
    return {
        **team(api, org, team_, parent),
        "created_at": STAMP,
        "updated_at": STAMP,
        "members_count": members,
        "repos_count": 0,
        "organization": team_organization(api, org),
    }


def team_membership(api: str, team_id: int, login: str, role: str, state: str) -> dict[str, Any]:
    """A ``team-membership``: role, state and the membership's own URL."""
    url = f"{api}/organizations/{ORG_ID}/team/{team_id}/memberships/{login}"
    return {"url": url, "role": role, "state": state}


def org_membership(
    api: str, org: str, user: dict[str, Any], role: str, state: str
) -> dict[str, Any]:
    """An ``org-membership``; ``user`` is a simple-user."""
    return {
        "url": f"{api}/orgs/{org}/memberships/{user['login']}",
        "state": state,
        "role": role,
        "organization_url": f"{api}/orgs/{org}",
        "organization": organization_simple(api, org),
        "user": user,
    }


def organization_invitation(
    api: str, invitation_id: int, user: dict[str, Any], role: str, inviter: dict[str, Any]
) -> dict[str, Any]:
    """An ``organization-invitation`` for the account ``user`` (a simple-user)."""
    return {
        "id": invitation_id,
        "node_id": f"OI_{invitation_id}",
        "login": user["login"],
        "email": None,
        "role": "direct_member" if role == "member" else role,
        "created_at": STAMP,
        "failed_at": None,
        "failed_reason": None,
        "inviter": inviter,
        "team_count": 0,
        "invitation_teams_url": f"{api}/organizations/{ORG_ID}/invitations/{invitation_id}/teams",
        "invitation_source": "member",
    }


def installation(api: str, org: str, app_id: int, installation_id: int) -> dict[str, Any]:
    """An ``installation`` (the App's installation on the organisation)."""
    account = {**simple_user(api, org, ORG_ID), "type": "Organization"}
    return {
        "id": installation_id,
        "app_id": app_id,
        "app_slug": "rocket2",
        "account": account,
        "target_id": ORG_ID,
        "target_type": "Organization",
        "single_file_name": None,
        "repository_selection": "selected",
        "access_tokens_url": f"{api}/app/installations/{installation_id}/access_tokens",
        "html_url": f"{api}/organizations/{org}/settings/installations/{installation_id}",
        "repositories_url": f"{api}/installation/repositories",
        "events": ["membership", "organization", "team"],
        "permissions": {"members": "write", "metadata": "read"},
        "created_at": STAMP,
        "updated_at": STAMP,
        "suspended_by": None,
        "suspended_at": None,
    }


def error(message: str, status: int) -> dict[str, Any]:
    """A ``basic-error``."""
    return {"message": message, "documentation_url": DOCS, "status": str(status)}


def validation_error(errors: list[dict[str, str]]) -> dict[str, Any]:
    """A ``validation-error`` (422)."""
    return {"message": "Validation Failed", "documentation_url": DOCS, "errors": errors}
