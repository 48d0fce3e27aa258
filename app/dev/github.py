"""The GitHub stand-in: one organisation, its accounts, members and teams, behind the REST API
calls Rocket 2 makes (served under ``/github/``).

- App endpoints (``GET /orgs/{org}/installation``, ``POST /app/installations/{id}/access_tokens``)
  need a JWT signed RS256 with the App's key, issued by GITHUB_APP_ID, living at most 10 minutes;
  every other call needs an installation token the stand-in issued and that has not expired.
- Lists are paginated with ``per_page`` (at most 100) and ``Link`` headers, as GitHub's.
- An invitation to the organisation is accepted at once (a playground has nobody to click it).
- Every change, through the API or the page ("on GitHub"), sends the webhook GitHub would send.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from app.dev.http import json_response
from app.dev.state import JsonState
from app.dev.webhooks import WebhookSender

INSTALLATION_ID = 1
MAX_JWT_LIFETIME = 600 + 60
TOKEN_TTL = 3600
MAX_PER_PAGE = 100
SENDER = {"login": "you-on-github", "id": 1001, "type": "User"}
SEED_ACCOUNTS = ("you-on-github", "ada-lovelace", "grace-hopper", "linus-t")


class Refused(HTTPException):
    """A JSON error answer, as GitHub gives them."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__()
        body: dict[str, Any] = {"message": message}
        if errors:
            body["errors"] = errors
        self.response = json_response(body, status)


def slugify(name: str) -> str:
    """GitHub's team slug: lower case, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


def seed(org: str) -> Callable[[], dict[str, Any]]:
    """The organisation a fresh playground starts with: a few accounts, the owner, team 'all'."""

    def build() -> dict[str, Any]:
        users = {login: {"login": login, "id": 1001 + i} for i, login in enumerate(SEED_ACCOUNTS)}
        return {
            "org": org,
            "users": users,
            "org_members": {"you-on-github": "admin"},
            "invitations": {},
            "teams": {
                "1": {"id": 1, "name": "all", "slug": "all", "description": "", "members": {}}
            },
            "next_id": 2000,
        }

    return build


class GitHubStandIn:
    """The stand-in's state and its REST API. Thread-safe (one lock over the state)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        org: str,
        app_id: int,
        public_key: rsa.RSAPublicKey,
        webhooks: WebhookSender,
    ) -> None:
        self.org = org
        self.app_id = app_id
        self.public_key = public_key
        self.webhooks = webhooks
        self.state = JsonState(data_dir / "github.json", seed(org))
        self.tokens: dict[str, float] = {}
        self.lock = self.state.lock
        o = "/orgs/<org>"
        self.routes = Map(
            [
                Rule(f"{o}/installation", methods=["GET"], endpoint=self._installation),
                Rule(
                    "/app/installations/<int:iid>/access_tokens",
                    methods=["POST"],
                    endpoint=self._access_token,
                ),
                Rule("/users/<login>", methods=["GET"], endpoint=self._get_user),
                Rule("/user/<int:uid>", methods=["GET"], endpoint=self._get_user_by_id),
                Rule(f"{o}/members", methods=["GET"], endpoint=self._list_members),
                Rule(f"{o}/memberships/<login>", methods=["GET"], endpoint=self._get_membership),
                Rule(f"{o}/memberships/<login>", methods=["PUT"], endpoint=self._put_membership),
                Rule(f"{o}/memberships/<login>", methods=["DELETE"], endpoint=self._del_membership),
                Rule(f"{o}/teams", methods=["GET"], endpoint=self._list_teams),
                Rule(f"{o}/teams", methods=["POST"], endpoint=self._create_team),
                Rule(f"{o}/teams/<slug>", methods=["GET"], endpoint=self._get_team),
                Rule(f"{o}/teams/<slug>", methods=["PATCH"], endpoint=self._edit_team),
                Rule(f"{o}/teams/<slug>", methods=["DELETE"], endpoint=self._delete_team),
                Rule(f"{o}/teams/<slug>/members", methods=["GET"], endpoint=self._team_members),
                Rule(
                    f"{o}/teams/<slug>/memberships/<login>",
                    methods=["GET"],
                    endpoint=self._get_team_membership,
                ),
                Rule(
                    f"{o}/teams/<slug>/memberships/<login>",
                    methods=["PUT"],
                    endpoint=self._put_team_membership,
                ),
                Rule(
                    f"{o}/teams/<slug>/memberships/<login>",
                    methods=["DELETE"],
                    endpoint=self._delete_team_membership,
                ),
            ]
        )

    @property
    def data(self) -> dict[str, Any]:
        """The persisted state (read under ``lock``)."""
        return self.state.data

    # ---- serving --------------------------------------------------------------------------

    def handle(self, request: Request, path: str) -> Response:
        """Answer one REST call; ``path`` is the part after ``/github``."""
        try:
            endpoint, matched = self.routes.bind("stand-in").match(path, method=request.method)
            args = dict(matched)
            org = args.pop("org", None)
            if org is not None and org.lower() != self.org.lower():
                raise Refused(404, "Not Found")
            if endpoint not in (self._installation, self._access_token):
                self._require_token(request)
            with self.lock:
                response: Response = endpoint(request, **args)
            return response
        except Refused as refused:
            return refused.response  # type: ignore[return-value]
        except HTTPException:
            return json_response({"message": "Not Found"}, 404)

    # ---- authentication -------------------------------------------------------------------

    def _bearer(self, request: Request) -> str:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value:
            raise Refused(401, "Requires authentication")
        return value

    def _require_jwt(self, request: Request) -> None:
        try:
            claims = jwt.decode(
                self._bearer(request),
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iat": False},
                leeway=0,
            )
        except jwt.PyJWTError as exc:
            raise Refused(401, f"A JSON web token could not be decoded ({exc})") from exc
        if str(claims["iss"]) != str(self.app_id):
            raise Refused(401, "Integration not found")
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME or claims["exp"] > time.time() + 600:
            raise Refused(401, "'Expiration time' claim ('exp') is too far in the future")

    def _require_token(self, request: Request) -> None:
        expires = self.tokens.get(self._bearer(request))
        if expires is None or expires <= time.time():
            raise Refused(401, "Bad credentials")

    def _installation(self, request: Request) -> Response:
        self._require_jwt(request)
        body = {"id": INSTALLATION_ID, "app_id": self.app_id, "account": {"login": self.org}}
        return json_response(body)

    def _access_token(self, request: Request, iid: int) -> Response:
        self._require_jwt(request)
        if iid != INSTALLATION_ID:
            raise Refused(404, "Not Found")
        token = "ghs_" + secrets.token_hex(18)
        expires = time.time() + TOKEN_TTL
        self.tokens[token] = expires
        stamp = datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json_response({"token": token, "expires_at": stamp}, 201)

    # ---- accounts and the organisation -----------------------------------------------------

    def _user(self, login: str) -> dict[str, Any]:
        user = self.data["users"].get(login.lower())
        if user is None:
            raise Refused(404, "Not Found")
        return {"login": user["login"], "id": user["id"], "type": "User"}

    def _get_user(self, request: Request, login: str) -> Response:
        return json_response(self._user(login))

    def _get_user_by_id(self, request: Request, uid: int) -> Response:
        for user in self.data["users"].values():
            if user["id"] == uid:
                return json_response(self._user(user["login"]))
        raise Refused(404, "Not Found")

    def _list_members(self, request: Request) -> Response:
        return self._paged(request, [self._user(login) for login in self.data["org_members"]])

    def _org_membership(self, login: str) -> dict[str, Any]:
        key = login.lower()
        if key in self.data["org_members"]:
            state, role = "active", self.data["org_members"][key]
        elif key in self.data["invitations"]:
            state, role = "pending", self.data["invitations"][key]
        else:
            raise Refused(404, "Not Found")
        org = {"login": self.org}
        return {"state": state, "role": role, "organization": org, "user": self._user(login)}

    def _get_membership(self, request: Request, login: str) -> Response:
        return json_response(self._org_membership(login))

    def _put_membership(self, request: Request, login: str) -> Response:
        role = (request.get_json(silent=True) or {}).get("role", "member")
        if role not in ("member", "admin"):
            raise Refused(422, "Validation Failed")
        self.add_org_member(login, role)
        return json_response(self._org_membership(login))

    def _del_membership(self, request: Request, login: str) -> Response:
        self.remove_org_member(login)
        return Response(status=204)

    def add_account(self, login: str) -> dict[str, Any]:
        """Create a GitHub account (outside the organisation) unless it exists."""
        with self.lock:
            key = login.lower()
            if key not in self.data["users"]:
                self.data["next_id"] += 1
                self.data["users"][key] = {"login": login, "id": self.data["next_id"]}
                self.state.save()
            return self._user(login)

    def add_org_member(self, login: str, role: str = "member") -> None:
        """Invite ``login`` and have the invitation accepted (webhooks: invited, added)."""
        with self.lock:
            user = self._user(login)
            key = login.lower()
            if key in self.data["org_members"]:
                self.data["org_members"][key] = role
                self.state.save()
                return
            self.data["invitations"][key] = role
            self._send(
                "organization", {"action": "member_invited", "invitation": user, "user": user}
            )
            del self.data["invitations"][key]
            self.data["org_members"][key] = role
            self.state.save()
            membership = {"state": "active", "role": role, "user": user}
            self._send("organization", {"action": "member_added", "membership": membership})

    def remove_org_member(self, login: str) -> None:
        """Remove ``login`` from the organisation and every team (webhook: member_removed)."""
        with self.lock:
            key = login.lower()
            user = self._user(login)
            if key not in self.data["org_members"] and key not in self.data["invitations"]:
                raise Refused(404, "Not Found")
            role = self.data["org_members"].pop(key, None) or self.data["invitations"].pop(key)
            for team in self.data["teams"].values():
                team["members"].pop(key, None)
            self.state.save()
            membership = {"state": "active", "role": role, "user": user}
            self._send("organization", {"action": "member_removed", "membership": membership})

    # ---- teams ----------------------------------------------------------------------------

    def _team(self, slug: str) -> dict[str, Any]:
        for team in self.data["teams"].values():
            if team["slug"] == slug.lower():
                return dict(team)
        raise Refused(404, "Not Found")

    @staticmethod
    def _team_json(team: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": team["id"],
            "node_id": f"T_{team['id']}",
            "name": team["name"],
            "slug": team["slug"],
            "description": team["description"] or None,
            "privacy": team.get("privacy", "closed"),
            "permission": "pull",
        }

    def _taken(self, name: str, other_than: int | None = None) -> bool:
        return any(
            t["id"] != other_than
            and (t["name"].lower() == name.lower() or t["slug"] == slugify(name))
            for t in self.data["teams"].values()
        )

    def _list_teams(self, request: Request) -> Response:
        return self._paged(request, [self._team_json(t) for t in self.data["teams"].values()])

    def _create_team(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        team = self.create_team(
            str(body.get("name") or "").strip(),
            str(body.get("description") or ""),
            tuple(str(m) for m in body.get("maintainers") or ()),
        )
        return json_response(self._team_json(team), 201)

    def create_team(
        self, name: str, description: str = "", maintainers: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Create a team (webhook: team created; membership added for each maintainer)."""
        with self.lock:
            if not name:
                raise Refused(
                    422, "Validation Failed", [{"field": "name", "code": "missing_field"}]
                )
            if self._taken(name):
                raise Refused(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "Team",
                            "field": "name",
                            "code": "already_exists",
                            "message": "Name must be unique for this org",
                        }
                    ],
                )
            self.data["next_id"] += 1
            team_id = self.data["next_id"]
            team = {
                "id": team_id,
                "name": name,
                "slug": slugify(name),
                "description": description,
                "members": {},
            }
            self.data["teams"][str(team_id)] = team
            self.state.save()
            self._send("team", {"action": "created", "team": self._team_json(team)})
            for login in maintainers:
                self.put_team_membership(team["slug"], login, "maintainer")
            return team

    def _get_team(self, request: Request, slug: str) -> Response:
        return json_response(self._team_json(self._team(slug)))

    def _edit_team(self, request: Request, slug: str) -> Response:
        team = self.data["teams"][str(self._team(slug)["id"])]
        body = request.get_json(silent=True) or {}
        changes: dict[str, Any] = {}
        if "name" in body:
            name = str(body["name"]).strip()
            if not name or self._taken(name, other_than=team["id"]):
                raise Refused(422, "Validation Failed")
            changes["name"] = {"from": team["name"]}
            team["name"], team["slug"] = name, slugify(name)
        if "description" in body:
            changes["description"] = {"from": team["description"]}
            team["description"] = str(body["description"] or "")
        if "privacy" in body:
            team["privacy"] = str(body["privacy"])
        self.state.save()
        self._send("team", {"action": "edited", "team": self._team_json(team), "changes": changes})
        return json_response(self._team_json(team))

    def _delete_team(self, request: Request, slug: str) -> Response:
        team = self._team(slug)
        del self.data["teams"][str(team["id"])]
        self.state.save()
        self._send("team", {"action": "deleted", "team": self._team_json(team)})
        return Response(status=204)

    def _team_members(self, request: Request, slug: str) -> Response:
        role = request.args.get("role", "all")
        members = self._team(slug)["members"]
        users = [self._user(login) for login, r in members.items() if role in ("all", r)]
        return self._paged(request, users)

    def _team_membership(self, slug: str, login: str) -> dict[str, Any]:
        team = self._team(slug)
        key = login.lower()
        if key not in team["members"]:
            raise Refused(404, "Not Found")
        state = "active" if key in self.data["org_members"] else "pending"
        return {"state": state, "role": team["members"][key], "url": f"/teams/{team['id']}/{key}"}

    def _get_team_membership(self, request: Request, slug: str, login: str) -> Response:
        return json_response(self._team_membership(slug, login))

    def _put_team_membership(self, request: Request, slug: str, login: str) -> Response:
        role = (request.get_json(silent=True) or {}).get("role", "member")
        self.put_team_membership(slug, login, str(role))
        return json_response(self._team_membership(slug, login))

    def put_team_membership(self, slug: str, login: str, role: str = "member") -> None:
        """Add ``login`` to the team as member or maintainer, inviting them to the organisation
        first if needed (webhook: membership added, when they were not in the team)."""
        with self.lock:
            if role not in ("member", "maintainer"):
                raise Refused(422, "Validation Failed")
            user = self._user(login)
            team = self.data["teams"][str(self._team(slug)["id"])]
            key = login.lower()
            if key not in self.data["org_members"]:
                self.add_org_member(login)
            new = key not in team["members"]
            team["members"][key] = role
            self.state.save()
            if new:
                self._send(
                    "membership",
                    {
                        "action": "added",
                        "scope": "team",
                        "member": user,
                        "team": self._team_json(team),
                    },
                )

    def _delete_team_membership(self, request: Request, slug: str, login: str) -> Response:
        self.remove_team_member(slug, login)
        return Response(status=204)

    def remove_team_member(self, slug: str, login: str) -> None:
        """Take ``login`` out of the team (webhook: membership removed)."""
        with self.lock:
            team = self.data["teams"][str(self._team(slug)["id"])]
            if team["members"].pop(login.lower(), None) is None:
                raise Refused(404, "Not Found")
            self.state.save()
            self._send(
                "membership",
                {
                    "action": "removed",
                    "scope": "team",
                    "member": self._user(login),
                    "team": self._team_json(team),
                },
            )

    # ---- helpers --------------------------------------------------------------------------

    def _send(self, event: str, payload: dict[str, Any]) -> None:
        self.webhooks.send(
            event, {**payload, "organization": {"login": self.org}, "sender": SENDER}
        )

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        items = sorted(items, key=lambda item: int(item["id"]))
        per_page = max(1, min(int(request.args.get("per_page", 30)), MAX_PER_PAGE))
        page = max(1, int(request.args.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        args = {k: v for k, v in request.args.items() if k != "page"}

        def link(n: int) -> str:
            return f"{request.base_url}?{urlencode({**args, 'page': n})}"

        rels = []
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(1)}>; rel="first"', f'<{link(page - 1)}>; rel="prev"']
        chunk = items[(page - 1) * per_page : page * per_page]
        return json_response(chunk, headers={"Link": ", ".join(rels)} if rels else None)

    def view(self) -> dict[str, Any]:
        """The organisation for the page: members, and each team's members and maintainers."""
        with self.lock:
            teams = []
            for team in sorted(self.data["teams"].values(), key=lambda t: t["name"].lower()):
                members = team["members"]
                teams.append(
                    {
                        "name": team["name"],
                        "slug": team["slug"],
                        "maintainers": sorted(k for k, r in members.items() if r == "maintainer"),
                        "members": sorted(k for k, r in members.items() if r == "member"),
                    }
                )
            return {
                "org": self.org,
                "accounts": sorted(u["login"] for u in self.data["users"].values()),
                "members": sorted(self.data["org_members"]),
                "teams": teams,
                "deliveries": list(reversed(self.webhooks.deliveries[-10:])),
            }
