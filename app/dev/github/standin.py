"""The GitHub stand-in: one organisation, its accounts, members and teams, behind the REST
calls Rocket 2 makes and the App's web flow, answering as GitHub's description documents.

The playground serves it under ``/github/`` (persisted, sending webhooks); the tests host it
on a local HTTP server and layer recording, fault injection and a clock on top
(tests/support/fake_github.py). Every route group lives in its own module."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from app.dev.github.app_auth import AppAuth
from app.dev.github.base import Answer, Team, not_found
from app.dev.github.oauth import OAuth
from app.dev.github.people import People
from app.dev.github.teams import Teams


def _no_events(event: str, payload: dict[str, Any]) -> None:
    """Where webhooks go when nobody listens."""


class GitHubStandIn(AppAuth, People, Teams, OAuth):
    """GitHub for one organisation. Thread-safe (one lock over the state)."""

    def __init__(
        self,
        *,
        api_url: str,
        app_id: int,
        public_key: rsa.RSAPublicKey,
        org: str,
        installation_id: int = 7001,
        page_size: int = 100,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.time,
        events: Callable[[str, dict[str, Any]], None] = _no_events,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.app_id, self.public_key, self.org = app_id, public_key, org
        self.installation_id, self.page_size, self.token_ttl = installation_id, page_size, token_ttl
        self.clock, self.events = clock, events
        self.auto_accept_invitations = False
        self.lock = threading.RLock()
        self.users, self.org_members, self.invitations = {}, {}, {}
        self.invitation_cap, self.invitation_clock = 50, time.time
        self.invitations_sent, self.blocked = [], set()
        self.teams = {}
        self.next_id = 1000
        self.tokens, self.revoked, self.jwts, self.jwt_rejections = {}, set(), [], []
        self.client_id = self.client_secret = ""
        self.codes, self.user_tokens = {}, {}
        self.revoked_user_tokens, self.issued_secrets = set(), []
        self.unverified_emails = set()
        # GET /user/emails: lower login → GitHub's e-mail objects (default: one verified)
        self.user_emails: dict[str, list[dict[str, Any]]] = {}
        self.emails_permission = True  # False: the App lacks "Email addresses" (403)
        self.grants: set[str] = set()  # lower logins that authorized the App (consent given)

    def handle(self, request: Request, path: str) -> tuple[Response, bool]:
        """Answer one call (``path``: under the API base); and whether the answer is outside
        the description on purpose."""
        org = re.escape(self.org)
        own_auth = self.app_routes() + self.oauth_routes()
        routes = own_auth + self.people_routes(org) + self.team_routes(org)
        try:
            for method, pattern, handler in routes:
                match = re.fullmatch(pattern, path, flags=re.IGNORECASE)
                if match and method == request.method:
                    if (method, pattern, handler) not in own_auth:
                        self.require_token(request)
                    with self.lock:
                        return handler(request, *match.groups()), False
            raise not_found(documented=False)
        except Answer as answer:
            return answer.response, answer.outside

    # ---- the playground's view and its saved state ------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The organisation as a JSON document (the playground saves it)."""
        with self.lock:
            teams = {
                str(t.id): {**t.fields(), "members": t.members, "parent_id": t.parent_id}
                for t in self.teams.values()
            }
            return {
                "org": self.org,
                "users": self.users,
                "org_members": self.org_members,
                "invitations": self.invitations,
                "teams": teams,
                "next_id": self.next_id,
            }

    def load_json(self, data: dict[str, Any]) -> None:
        """Take the organisation from a document ``to_json`` wrote."""
        with self.lock:
            self.users = dict(data.get("users", {}))
            self.org_members = dict(data.get("org_members", {}))
            self.invitations = dict(data.get("invitations", {}))
            self.teams = {
                int(t["id"]): Team(
                    int(t["id"]),
                    t["name"],
                    t["slug"],
                    t.get("description") or "",
                    t.get("privacy", "closed"),
                    dict(t.get("members", {})),
                    t.get("parent_id"),
                )
                for t in data.get("teams", {}).values()
            }
            self.next_id = int(data.get("next_id", self.next_id))

    def view(self) -> dict[str, Any]:
        """The organisation for the page: members, and each team's members and maintainers."""
        with self.lock:
            teams = []
            for team in sorted(self.teams.values(), key=lambda t: t.name.lower()):
                roles = team.members.items()
                teams.append(
                    {
                        "name": team.name,
                        "slug": team.slug,
                        "maintainers": sorted(k for k, r in roles if r == "maintainer"),
                        "members": sorted(k for k, r in roles if r == "member"),
                    }
                )
            return {
                "org": self.org,
                "accounts": sorted(u["login"] for u in self.users.values()),
                "members": sorted(self.org_members),
                "teams": teams,
            }


SEED_ACCOUNTS = ("you-on-github", "ada-lovelace", "grace-hopper", "linus-t")


def playground_seed(org: str) -> dict[str, Any]:
    """The organisation a fresh playground starts with: a few accounts, the owner, team 'all'."""
    users = {login: {"login": login, "id": 1001 + i} for i, login in enumerate(SEED_ACCOUNTS)}
    team = {"id": 1, "name": "all", "slug": "all", "description": "", "members": {}}
    return {
        "org": org,
        "users": users,
        "org_members": {"you-on-github": "admin"},
        "invitations": {},
        "teams": {"1": team},
        "next_id": 2000,
    }
