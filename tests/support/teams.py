"""Helpers for the teams tests: a config naming the admin/leads teams, a GitHub client that
does not sleep between retries, local users, and a snapshot of the mirrored teams."""

from __future__ import annotations

from typing import Any

from app.github import GitHubClient
from app.store import Permission, Store
from config import Config, load_config


def teams_config(env: dict[str, str], **overrides: str) -> Config:
    """The test env's config with GITHUB_ADMIN_TEAM_NAME=admins, GITHUB_LEADS_TEAM_NAME=leads."""
    values = {
        "GITHUB_ADMIN_TEAM_NAME": "admins",
        "GITHUB_LEADS_TEAM_NAME": "leads",
        "GITHUB_DEFAULT_TEAM_NAME": "all",
        **overrides,
    }
    env.update(values)
    return load_config(environ=env)


def client(config: Config) -> GitHubClient:
    """A client for the fake GitHub that does not sleep between retries."""
    return GitHubClient.from_config(config, sleep=lambda _s: None)


def add_user(
    store: Store,
    slack_id: str,
    login: str | None = None,
    github_id: int | None = None,
    permission: Permission = Permission.member,
    email: str = "",
    verified: bool = False,
) -> None:
    """Create a local user record (``verified``: its GitHub link was proven by GitHub); a
    ``permission`` is an admin's grant, as `rocket2 user promote` makes it."""
    fields: dict[str, Any] = {
        "permission": permission,
        "granted_permission": permission,
        "email": email,
        "github_verified": verified,
    }
    if login is not None:
        fields["github_username"] = login
    if github_id is not None:
        fields["github_id"] = github_id
    with store.unit_of_work() as uow:
        uow.users.create(slack_id, **fields)


def snapshot(store: Store) -> dict[str, tuple[int, str, frozenset[int], frozenset[int]]]:
    """name → (GitHub id, slug, members, leads) of every local team."""
    with store.unit_of_work() as uow:
        return {
            t.github_team_name: (t.github_team_id, t.slug, t.members, t.team_leads)
            for t in uow.teams.list_all()
        }


def permissions(store: Store) -> dict[str, Permission]:
    """Slack id → permission of every local user."""
    with store.unit_of_work() as uow:
        return {u.slack_id: u.permission for u in uow.users.list_all()}


def github_writes(fake: Any) -> int:
    """How many write requests (POST/PUT/PATCH/DELETE, tokens excluded) the fake has seen."""
    return sum(fake.count(method, r"/orgs/.*") for method in ("POST", "PUT", "PATCH", "DELETE"))
