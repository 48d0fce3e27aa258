"""A fake GitHub REST API on pytest-httpserver, for the GitHub client, the commands and the teams
work. It behaves like GitHub where Rocket 2 depends on it:

- App endpoints (``GET /orgs/{org}/installation``, ``POST /app/installations/{id}/access_tokens``)
  need ``Authorization: Bearer <JWT>``. Every JWT is verified with the public key of the
  configured GITHUB_KEY (RS256), its issuer must be GITHUB_APP_ID, and expired ones (or ones
  living longer than 10 minutes) are refused with 401. Verified claims are kept in ``jwts``.
- API endpoints need an installation token the fake issued, not expired (by ``clock``) and not
  revoked (``revoke_tokens()``).
- Lists are paginated: ``per_page`` is capped at ``page_size`` (2 by default), with ``Link``
  headers (next, prev, first, last) like GitHub's.
- State: users, organisation members and invitations, teams with member/maintainer roles.
- The App's user-authorization web flow, as GitHub documents it: ``GET /login/oauth/authorize``
  (``approve(url, login)`` / ``deny(url)`` play the member pressing Authorize or Cancel and
  return the redirect GitHub sends them to), ``POST /login/oauth/access_token`` (client id and
  secret, one-time codes that expire, the redirect_uri; errors such as
  ``bad_verification_code`` answered with HTTP 200 as GitHub does), ``GET /user`` with a user
  token, and ``DELETE /applications/{client_id}/token`` (basic auth) which revokes it.
- Failure injection: ``fail(method, path_regex, status, times)``; ``hold(method, path_regex)``
  holds matching requests until ``release_holds()`` (or ``HOLD_LIMIT``), to keep a command
  busy without timing; ``held`` counts the requests being held.
- Every request is recorded: ``count(method, path_regex)``, ``token_requests``.

Use in a test module (pytest registers fixtures bound at module level)::

    from tests.support import fake_github as fake_support

    fake_github = fake_support.fake_github

    def test_x(fake_github, env):
        fake_github.seed_small_org()
        config = load_config(environ=env)   # env["GITHUB_API_URL"] points at the fake
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.dev import github_shapes as shapes
from config import decode_github_key
from tests.support import contract

MAX_JWT_LIFETIME = 600 + 60  # GitHub: exp at most 10 minutes ahead (with the 60 s backdate)
CODE_TTL = 600  # GitHub: an authorization code expires after 10 minutes
USER_TOKEN_TTL = 8 * 3600  # GitHub App user tokens expire after 8 hours


@dataclass
class FakeTeam:
    """A fake team; ``members`` maps lower-case login → 'member' or 'maintainer'."""

    id: int
    name: str
    slug: str
    description: str = ""
    privacy: str = "closed"
    members: dict[str, str] = field(default_factory=dict)

    parent_id: int | None = None

    def fields(self) -> dict[str, Any]:
        """What the shapes read: id, name, slug, description, privacy."""
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "privacy": self.privacy,
        }


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    body: Any
    headers: dict[str, str]
    query: str


def slugify(name: str) -> str:
    """GitHub's team slug: lower case, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


class FakeGitHub:
    """The fake GitHub API. All state is public so tests can arrange and inspect it."""

    def __init__(
        self,
        httpserver: HTTPServer,
        *,
        app_id: int,
        public_key: rsa.RSAPublicKey,
        org: str,
        installation_id: int = 7001,
        page_size: int = 2,
        token_ttl: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = httpserver
        self.app_id = app_id
        self.public_key = public_key
        self.org = org
        self.installation_id = installation_id
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.clock = clock
        self.auto_accept_invitations = False
        self.lock = threading.RLock()
        self._signed_in: tuple[str, str] = ("", "deny")  # (login, "approve" | "deny")

        self.users: dict[str, dict[str, Any]] = {}  # lower login → {"id", "login"}
        self.org_members: dict[str, str] = {}  # lower login → "member" | "admin"
        self.invitations: dict[str, str] = {}  # lower login → role
        self.teams: dict[int, FakeTeam] = {}
        self.tokens: dict[str, float] = {}  # token → expires_at
        self.revoked: set[str] = set()
        self.jwts: list[dict[str, Any]] = []  # claims of every verified JWT
        self.jwt_rejections: list[str] = []  # why each refused JWT was refused
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, JSON body) of writes
        self._failures: list[_Failure] = []
        self._holds: list[tuple[str, re.Pattern[str], threading.Event]] = []
        self.held = 0  # requests waiting in a hold right now
        # The App's web flow: client credentials, codes and user tokens.
        self.client_id = ""
        self.client_secret = ""
        self.codes: dict[str, dict[str, Any]] = {}  # code → {"login", "redirect_uri", "expires"}
        self.user_tokens: dict[str, dict[str, Any]] = {}  # token → {"login", "expires"}
        self.revoked_user_tokens: set[str] = set()
        self.issued_secrets: list[str] = []  # every code and user token, to check logs for
        self._next_user_id = 1000
        self._next_team_id = 500
        httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    # ---- arranging ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to use as GITHUB_API_URL."""
        return self.server.url_for("/").rstrip("/")

    def add_user(self, login: str, user_id: int | None = None) -> int:
        """Create a GitHub account (not in the organisation); return its id."""
        with self.lock:
            key = login.lower()
            if key not in self.users:
                if user_id is None:
                    self._next_user_id += 1
                    user_id = self._next_user_id
                self.users[key] = {"id": user_id, "login": login}
            return int(self.users[key]["id"])

    def add_org_member(self, login: str, role: str = "member") -> int:
        """Create the account if needed and make it an active organisation member."""
        user_id = self.add_user(login)
        with self.lock:
            self.org_members[login.lower()] = role
            self.invitations.pop(login.lower(), None)
        return user_id

    def add_team(
        self,
        name: str,
        members: Iterable[str] = (),
        maintainers: Iterable[str] = (),
        description: str = "",
        team_id: int | None = None,
    ) -> int:
        """Create a team whose members (and maintainers) are organisation members; its id."""
        with self.lock:
            if team_id is None:
                self._next_team_id += 1
                team_id = self._next_team_id
            team = FakeTeam(team_id, name, slugify(name), description)
            for login in members:
                self.add_org_member(login)
                team.members[login.lower()] = "member"
            for login in maintainers:
                self.add_org_member(login)
                team.members[login.lower()] = "maintainer"
            self.teams[team_id] = team
            return team_id

    def seed_small_org(self) -> dict[str, int]:
        """Seven members and five teams (≥3 pages of each list at page_size 2). Returns the
        user ids by login."""
        logins = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
        ids = {login: self.add_org_member(login) for login in logins}
        self.add_team("all", members=logins)
        self.add_team("backend", members=["bob", "carol"], maintainers=["alice"])
        self.add_team("design", members=["erin"], maintainers=["dave"])
        self.add_team("admins", members=["alice"])
        self.add_team("leads", members=["alice", "dave"])
        self.add_user("outsider")  # a GitHub account outside the organisation
        ids["outsider"] = int(self.users["outsider"]["id"])
        return ids

    def team(self, name_or_slug: str) -> FakeTeam | None:
        """The team with this name or slug, or None."""
        key = name_or_slug.lower()
        with self.lock:
            for team in self.teams.values():
                if team.slug == key or team.name.lower() == key:
                    return team
        return None

    def team_logins(self, name_or_slug: str, role: str = "all") -> set[str]:
        """Lower-case logins in the team (optionally only one role)."""
        team = self.team(name_or_slug)
        assert team is not None, f"no fake team {name_or_slug}"
        return {login for login, r in team.members.items() if role in ("all", r)}

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int = 502,
        times: int = 1,
        message: str = "Server Error",
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> None:
        """Answer the next ``times`` requests matching the method ('*': any), the path regex and
        (if given) a substring of the query string with ``status`` instead."""
        with self.lock:
            self._failures.append(
                _Failure(
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    times,
                    {"message": message},
                    headers or {},
                    query,
                )
            )

    HOLD_LIMIT = 30.0  # a held request is answered after this at the latest (never hangs)

    def hold(self, method: str, path_regex: str) -> None:
        """Hold requests matching the method ('*': any) and path regex until released."""
        with self.lock:
            self._holds.append((method.upper(), re.compile(path_regex), threading.Event()))

    def release_holds(self) -> None:
        """Answer every held request (and stop holding)."""
        with self.lock:
            holds, self._holds = self._holds, []
        for _, _, gate in holds:
            gate.set()

    def _wait_if_held(self, request: Request) -> None:
        with self.lock:
            gates = [
                gate
                for method, path, gate in self._holds
                if method in (request.method, "*") and path.fullmatch(request.path)
            ]
            self.held += len(gates)
        for gate in gates:
            gate.wait(self.HOLD_LIMIT)
        with self.lock:
            self.held -= len(gates)

    def revoke_tokens(self) -> None:
        """Revoke every installation token issued so far (their next use gets 401)."""
        with self.lock:
            self.revoked.update(self.tokens)

    def set_oauth_app(self, client_id: str, client_secret: str) -> None:
        """The App's client id and secret, which the web flow's endpoints check."""
        with self.lock:
            self.client_id, self.client_secret = client_id, client_secret

    def approve(self, authorize_url: str, login: str, token_for: str | None = None) -> str:
        """The member, signed in to GitHub as ``login``, presses Authorize on the page at
        ``authorize_url``: returns the URL GitHub redirects them to (with code and state).
        ``token_for``: the code's token belongs to that account instead (GitHub's word wins)."""
        self.add_user(login)
        if token_for is not None:
            self.add_user(token_for)
        with self.lock:
            self._signed_in = (token_for or login, "approve")
        return self._follow(authorize_url)

    def deny(self, authorize_url: str) -> str:
        """The member presses Cancel: the redirect carries error=access_denied and the state."""
        with self.lock:
            self._signed_in = ("", "deny")
        return self._follow(authorize_url)

    def _follow(self, authorize_url: str) -> str:
        response = httpx.get(authorize_url, follow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def expire_codes(self) -> None:
        """Make every code issued so far expired."""
        with self.lock:
            for entry in self.codes.values():
                entry["expires"] = self.clock() - 1

    def count(self, method: str | None = None, path_regex: str = r".*") -> int:
        """Number of requests so far matching the method (None: any) and path regex."""
        pattern = re.compile(path_regex)
        with self.lock:
            return sum(
                1
                for m, p in self.requests
                if (method is None or m == method.upper()) and pattern.fullmatch(p)
            )

    @property
    def token_requests(self) -> int:
        """How many installation tokens were requested."""
        return self.count("POST", r"/app/installations/\d+/access_tokens")

    @property
    def installation_lookups(self) -> int:
        """How many times the organisation's installation was looked up."""
        return self.count("GET", r"/orgs/[^/]+/installation")

    # ---- serving ------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        """Answer one request, and hold the exchange to GitHub's description (contract)."""
        response, injected = self._answer(request)
        contract.check(contract.description("github"), request, response, injected=injected)
        return response

    def _answer(self, request: Request) -> tuple[Response, bool]:
        self._wait_if_held(request)
        with self.lock:
            self.requests.append((request.method, request.path))
            if request.method in ("POST", "PUT", "PATCH"):
                self.bodies.append((request.method, request.path, request.get_json(silent=True)))
            for failure in self._failures:
                if (
                    failure.times > 0
                    and failure.method in (request.method, "*")
                    and failure.path.fullmatch(request.path)
                    and failure.query in request.query_string.decode()
                ):
                    failure.times -= 1
                    return _json(failure.status, failure.body, failure.headers), True
            try:
                return self._route(request), False
            except _Answer as answer:
                return answer.response, answer.outside

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        org = re.escape(self.org)
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/login/oauth/authorize", self._oauth_authorize),
            ("POST", r"/login/oauth/access_token", self._oauth_access_token),
            ("GET", r"/user", self._authenticated_user),
            ("DELETE", r"/applications/([^/]+)/token", self._revoke_user_token),
            ("GET", r"/orgs/([^/]+)/installation", self._installation),
            ("POST", r"/app/installations/(\d+)/access_tokens", self._access_token),
            ("GET", r"/users/([^/]+)", self._get_user),
            ("GET", r"/user/(\d+)", self._get_user_by_id),
            ("GET", rf"/orgs/{org}/members", self._org_members),
            ("GET", rf"/orgs/{org}/memberships/([^/]+)", self._get_org_membership),
            ("PUT", rf"/orgs/{org}/memberships/([^/]+)", self._put_org_membership),
            ("DELETE", rf"/orgs/{org}/memberships/([^/]+)", self._delete_org_membership),
            ("GET", rf"/orgs/{org}/teams", self._list_teams),
            ("POST", rf"/orgs/{org}/teams", self._create_team),
            ("GET", rf"/orgs/{org}/teams/([^/]+)", self._get_team),
            ("PATCH", rf"/orgs/{org}/teams/([^/]+)", self._edit_team),
            ("DELETE", rf"/orgs/{org}/teams/([^/]+)", self._delete_team),
            ("GET", rf"/orgs/{org}/teams/([^/]+)/members", self._team_members),
            ("GET", rf"/orgs/{org}/teams/([^/]+)/memberships/([^/]+)", self._get_team_membership),
            ("PUT", rf"/orgs/{org}/teams/([^/]+)/memberships/([^/]+)", self._put_team_membership),
            (
                "DELETE",
                rf"/orgs/{org}/teams/([^/]+)/memberships/([^/]+)",
                self._delete_team_membership,
            ),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                if handler not in self._own_auth:
                    self._require_token(request)
                return handler(request, *match.groups())
        raise _Answer(_json(404, shapes.error("Not Found", 404)), outside=True)

    @property
    def _own_auth(self) -> tuple[Callable[..., Response], ...]:
        """Handlers that check their own credentials (not an installation token)."""
        return (
            self._installation,
            self._access_token,
            self._oauth_authorize,
            self._oauth_access_token,
            self._authenticated_user,
            self._revoke_user_token,
        )

    # ---- the App's user-authorization web flow --------------------------------------------

    def _oauth_authorize(self, request: Request) -> Response:
        """The authorize page, after the member's choice: a 302 back to redirect_uri."""
        client_id = request.args.get("client_id", "")
        redirect_uri = request.args.get("redirect_uri", "")
        state = request.args.get("state", "")
        if client_id != self.client_id or not redirect_uri:
            return Response("Not Found", status=404)
        login, choice = self._signed_in
        if choice == "deny":
            query = {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": "https://docs.github.com/apps/troubleshooting-authorization-request-errors/#access-denied",
                "state": state,
            }
        else:
            code = secrets.token_hex(10)
            self.codes[code] = {
                "login": login,
                "redirect_uri": redirect_uri,
                "expires": self.clock() + CODE_TTL,
            }
            self.issued_secrets.append(code)
            query = {"code": code, "state": state}
        sep = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": redirect_uri + sep + urlencode(query)})

    def _oauth_access_token(self, request: Request) -> Response:
        """Exchange a code: GitHub answers errors with HTTP 200 and an ``error`` field."""
        params = {**request.args.to_dict(), **request.form.to_dict()}
        params.update(request.get_json(silent=True) or {})
        if params.get("client_id") != self.client_id or not self.client_id:
            return self._oauth_error(request, "incorrect_client_credentials")
        if params.get("client_secret") != self.client_secret:
            return self._oauth_error(request, "incorrect_client_credentials")
        entry = self.codes.pop(str(params.get("code", "")), None)  # one-time
        if entry is None or entry["expires"] <= self.clock():
            return self._oauth_error(request, "bad_verification_code")
        if params.get("redirect_uri") not in (None, entry["redirect_uri"]):
            return self._oauth_error(request, "redirect_uri_mismatch")
        token = "ghu_" + secrets.token_hex(18)
        self.user_tokens[token] = {
            "login": entry["login"],
            "expires": self.clock() + USER_TOKEN_TTL,
        }
        self.issued_secrets.append(token)
        body = {
            "access_token": token,
            "expires_in": USER_TOKEN_TTL,
            "refresh_token": "ghr_" + secrets.token_hex(30),
            "refresh_token_expires_in": 15897600,
            "scope": "",
            "token_type": "bearer",
        }
        self.issued_secrets.append(str(body["refresh_token"]))
        return self._oauth_answer(request, body)

    def _oauth_error(self, request: Request, error: str) -> Response:
        descriptions = {
            "incorrect_client_credentials": "The client_id and/or client_secret passed are "
            "incorrect.",
            "bad_verification_code": "The code passed is incorrect or expired.",
            "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL "
            "for this application.",
        }
        body = {
            "error": error,
            "error_description": descriptions[error],
            "error_uri": f"https://docs.github.com/apps/troubleshooting#{error}",
        }
        return self._oauth_answer(request, body)

    def _oauth_answer(self, request: Request, body: dict[str, Any]) -> Response:
        """JSON when asked for it (Accept: application/json), else form-encoded, as GitHub."""
        if "application/json" in request.headers.get("Accept", ""):
            return _json(200, body)
        return Response(
            urlencode(body), status=200, content_type="application/x-www-form-urlencoded"
        )

    def _live_user_token(self, token: str) -> dict[str, Any] | None:
        entry = self.user_tokens.get(token)
        if entry is None or token in self.revoked_user_tokens or entry["expires"] <= self.clock():
            return None
        return entry

    def _authenticated_user(self, request: Request) -> Response:
        """``GET /user``: the account the user token belongs to."""
        entry = self._live_user_token(self._bearer(request))
        if entry is None:
            return _json(401, {"message": "Bad credentials"})
        return _json(200, self._public_user(entry["login"]))

    def _revoke_user_token(self, request: Request, client_id: str) -> Response:
        """``DELETE /applications/{client_id}/token``: basic auth with the App's client id and
        secret; body ``{"access_token": …}``."""
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if scheme.lower() != "basic" or (user, password) != (self.client_id, self.client_secret):
            return _json(401, {"message": "Bad credentials"})
        if client_id != self.client_id:
            return _json(404, {"message": "Not Found"})
        token = str((request.get_json(silent=True) or {}).get("access_token") or "")
        if token not in self.user_tokens:
            return _validation("access_token", "invalid")
        self.revoked_user_tokens.add(token)
        return Response(status=204)

    def user_token_revoked(self, token: str) -> bool:
        """Whether a user token was revoked."""
        with self.lock:
            return token in self.revoked_user_tokens

    # ---- authentication -------------------------------------------------------------------

    def _bearer(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value:
            raise _Answer(_json(401, {"message": "Requires authentication"}))
        return value

    def _require_jwt(self, request: Request) -> dict[str, Any]:
        token = self._bearer(request)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,  # checked below against self.clock
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as exc:
            return self._reject_jwt(f"invalid JWT: {type(exc).__name__}")
        now = self.clock()
        if str(claims["iss"]) != str(self.app_id):
            return self._reject_jwt("wrong issuer")
        if claims["exp"] <= now:
            return self._reject_jwt("expired")
        if claims["iat"] > now + 60:
            return self._reject_jwt("issued in the future")
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME or claims["exp"] > now + 600:
            return self._reject_jwt("expires too far in the future")
        self.jwts.append(claims)
        return claims

    def _reject_jwt(self, why: str) -> dict[str, Any]:
        self.jwt_rejections.append(why)
        raise _Answer(_json(401, {"message": f"A JSON web token could not be decoded ({why})"}))

    def _require_token(self, request: Request) -> None:
        token = self._bearer(request)
        expires = self.tokens.get(token)
        if expires is None or token in self.revoked or expires <= self.clock():
            raise _Answer(_json(401, {"message": "Bad credentials"}))

    def _installation(self, request: Request, org: str) -> Response:
        self._require_jwt(request)
        if org.lower() != self.org.lower():  # not documented: GitHub lists 200 only
            raise _Answer(_json(404, shapes.error("Not Found", 404)), outside=True)
        return _json(
            200, shapes.installation(self.url, self.org, self.app_id, self.installation_id)
        )

    def _access_token(self, request: Request, installation_id: str) -> Response:
        self._require_jwt(request)
        if int(installation_id) != self.installation_id:
            return _json(404, {"message": "Not Found"})
        token = "ghs_" + secrets.token_hex(18)
        expires = self.clock() + self.token_ttl
        self.tokens[token] = expires
        stamp = datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _json(201, {"token": token, "expires_at": stamp})

    # ---- users and organisation -----------------------------------------------------------

    def _user(self, login: str, documented: bool = True) -> dict[str, Any]:
        user = self.users.get(login.lower())
        if user is None:
            raise _Answer(_json(404, shapes.error("Not Found", 404)), outside=not documented)
        return user

    def _user_json(self, login: str) -> dict[str, Any]:
        user = self._user(login)
        return shapes.simple_user(self.url, user["login"], user["id"])

    def _public_user(self, login: str) -> dict[str, Any]:
        user = self._user(login)
        return shapes.public_user(self.url, user["login"], user["id"])

    def _get_user(self, request: Request, login: str) -> Response:
        return _json(200, self._public_user(login))

    def _get_user_by_id(self, request: Request, user_id: str) -> Response:
        for user in self.users.values():
            if user["id"] == int(user_id):
                return _json(200, self._public_user(user["login"]))
        return _json(404, {"message": "Not Found"})

    def _org_members(self, request: Request) -> Response:
        users = sorted((self._user_json(login) for login in self.org_members), key=_by_id)
        return self._paged(request, users)

    def _org_membership_json(self, login: str) -> dict[str, Any]:
        key = login.lower()
        if key in self.org_members:
            state, role = "active", self.org_members[key]
        elif key in self.invitations:
            state, role = "pending", self.invitations[key]
        else:
            raise _Answer(_json(404, {"message": "Not Found"}))
        return shapes.org_membership(self.url, self.org, self._user_json(login), role, state)

    def _get_org_membership(self, request: Request, login: str) -> Response:
        return _json(200, self._org_membership_json(login))

    def _put_org_membership(self, request: Request, login: str) -> Response:
        self._user(login, documented=False)
        role = (request.get_json(silent=True) or {}).get("role", "member")
        if role not in ("member", "admin"):
            return _validation("role", "invalid")
        key = login.lower()
        if key in self.org_members or self.auto_accept_invitations:
            self.org_members[key] = role
        else:
            self.invitations[key] = role
        return _json(200, self._org_membership_json(login))

    def _delete_org_membership(self, request: Request, login: str) -> Response:
        key = login.lower()
        if key not in self.org_members and key not in self.invitations:
            return _json(404, {"message": "Not Found"})
        self.org_members.pop(key, None)
        self.invitations.pop(key, None)
        for team in self.teams.values():
            team.members.pop(key, None)
        return Response(status=204)

    # ---- teams ---------------------------------------------------------------------------

    def _team_or_404(self, slug: str, documented: bool = True) -> FakeTeam:
        """The team; else 404 (``documented``: a status the call's description lists; if not,
        GitHub's real answer, marked outside the description)."""
        for team in self.teams.values():
            if team.slug == slug.lower():
                return team
        raise _Answer(_json(404, shapes.error("Not Found", 404)), outside=not documented)

    def _name_taken(self, name: str, other_than: int | None = None) -> bool:
        return any(
            t.id != other_than and (t.name.lower() == name.lower() or t.slug == slugify(name))
            for t in self.teams.values()
        )

    def _team_json(self, team: FakeTeam, full: bool = False) -> dict[str, Any]:
        parent = self.teams.get(team.parent_id) if team.parent_id is not None else None
        fields = None if parent is None else parent.fields()
        if full:
            count = len(team.members)
            return shapes.team_full(self.url, self.org, team.fields(), fields, count)
        return shapes.team(self.url, self.org, team.fields(), fields)

    def _list_teams(self, request: Request) -> Response:
        teams = sorted((self._team_json(t) for t in self.teams.values()), key=_by_id)
        return self._paged(request, teams)

    def _create_team(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        name = str(body.get("name") or "").strip()
        if not name:
            return _validation("name", "missing_field")
        if self._name_taken(name):
            return _validation("name", "already_exists", "Name must be unique for this org")
        privacy = body.get("privacy", "secret")
        if privacy not in ("secret", "closed"):
            return _validation("privacy", "invalid")
        team_id = self.add_team(
            name,
            maintainers=body.get("maintainers") or (),
            description=body.get("description") or "",
        )
        self.teams[team_id].privacy = privacy
        return _json(201, self._team_json(self.teams[team_id], full=True))

    def _get_team(self, request: Request, slug: str) -> Response:
        return _json(200, self._team_json(self._team_or_404(slug), full=True))

    def _edit_team(self, request: Request, slug: str) -> Response:
        team = self._team_or_404(slug)
        body = request.get_json(silent=True) or {}
        if "name" in body:
            name = str(body["name"]).strip()
            if not name:
                return _validation("name", "missing_field")
            if self._name_taken(name, other_than=team.id):
                return _validation("name", "already_exists", "Name must be unique for this org")
            team.name, team.slug = name, slugify(name)
        if "description" in body:
            team.description = str(body["description"] or "")
        if "privacy" in body:
            team.privacy = str(body["privacy"])
        return _json(200, self._team_json(team, full=True))

    def _delete_team(self, request: Request, slug: str) -> Response:
        team = self._team_or_404(slug, documented=False)
        del self.teams[team.id]
        return Response(status=204)

    def _team_members(self, request: Request, slug: str) -> Response:
        team = self._team_or_404(slug, documented=False)
        role = request.args.get("role", "all")
        logins = [login for login, r in team.members.items() if role in ("all", r)]
        users = [shapes.team_member(self.url, u["login"], u["id"]) for u in map(self._user, logins)]
        return self._paged(request, sorted(users, key=_by_id))

    def _team_membership_json(self, team: FakeTeam, login: str) -> dict[str, Any]:
        key = login.lower()
        if key not in team.members:
            raise _Answer(_json(404, {"message": "Not Found"}))
        state = "active" if key in self.org_members else "pending"
        return shapes.team_membership(self.url, team.id, login, team.members[key], state)

    def _get_team_membership(self, request: Request, slug: str, login: str) -> Response:
        return _json(200, self._team_membership_json(self._team_or_404(slug), login))

    def _put_team_membership(self, request: Request, slug: str, login: str) -> Response:
        team = self._team_or_404(slug, documented=False)
        self._user(login, documented=False)
        role = (request.get_json(silent=True) or {}).get("role", "member")
        if role not in ("member", "maintainer"):
            return _validation("role", "invalid")
        key = login.lower()
        if key not in self.org_members:  # GitHub invites non-members to the organisation
            self.invitations.setdefault(key, "member")
        team.members[key] = role
        return _json(200, self._team_membership_json(team, login))

    def _delete_team_membership(self, request: Request, slug: str, login: str) -> Response:
        team = self._team_or_404(slug, documented=False)
        if team.members.pop(login.lower(), None) is None:
            raise _Answer(_json(404, shapes.error("Not Found", 404)), outside=True)
        return Response(status=204)

    # ---- pagination ----------------------------------------------------------------------

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), self.page_size)
        page = max(1, int(request.args.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        args = {k: v for k, v in request.args.items() if k != "page"}

        def link(n: int) -> str:
            return f"{request.base_url}?{urlencode({**args, 'page': n})}"

        rels = []
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(1)}>; rel="first"', f'<{link(page - 1)}>; rel="prev"']
        headers = {"Link": ", ".join(rels)} if rels else {}
        return _json(200, chunk, headers)


class _Answer(Exception):
    """An answer given at once; ``outside``: one GitHub's description does not document for
    the operation, given on purpose (the contract check then checks the request only)."""

    def __init__(self, response: Response, outside: bool = False) -> None:
        self.response = response
        self.outside = outside


def _by_id(item: dict[str, Any]) -> int:
    return int(item["id"])


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _validation(field_name: str, code: str, message: str = "Validation Failed") -> Response:
    error = {"resource": "Team", "field": field_name, "code": code, "message": message}
    return _json(422, shapes.validation_error([error]))


def fake_for_env(httpserver: HTTPServer, env: dict[str, str], **kwargs: Any) -> FakeGitHub:
    """A FakeGitHub that trusts the key, App id and organisation in ``env`` (and its client id
    and secret, if set); sets env["GITHUB_API_URL"] and env["GITHUB_OAUTH_URL"] to the fake."""
    key = decode_github_key(env["GITHUB_KEY"])
    fake = FakeGitHub(
        httpserver,
        app_id=int(env["GITHUB_APP_ID"]),
        public_key=key.private_key.public_key(),
        org=env["GITHUB_ORG_NAME"],
        **kwargs,
    )
    env["GITHUB_API_URL"] = fake.url
    env["GITHUB_OAUTH_URL"] = fake.url
    if env.get("GITHUB_CLIENT_ID"):
        fake.set_oauth_app(env["GITHUB_CLIENT_ID"], env.get("GITHUB_CLIENT_SECRET", ""))
    return fake


@pytest.fixture
def fake_github(httpserver: HTTPServer, env: dict[str, str]) -> Iterator[FakeGitHub]:
    """The fake GitHub for the test's ``env`` (an empty organisation; seed it as needed).

    Bind it in a test module with ``fake_github = tests.support.fake_github.fake_github``.
    """
    yield fake_for_env(httpserver, env)
