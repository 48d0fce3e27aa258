"""The GitHub stand-in (app.dev.github) for the tests, hosted on pytest-httpserver, with the
test-only abilities layered on top:

- recording: every request (``requests``, ``bodies``, ``count(method, path_regex)``,
  ``token_requests``), and the contract check of every exchange against GitHub's description
  (tests/support/contract.py);
- fault injection: ``fail(method, path_regex, status, times)``; ``hold(method, path_regex)``
  holds matching requests until ``release_holds()`` (or ``HOLD_LIMIT``), to keep a command
  busy without timing; ``held`` counts the requests being held;
- a controllable ``clock`` (tokens, JWTs, codes); ``approve(url, login)`` / ``deny(url)`` press
  Authorize or Cancel on the authorize page; ``seed_small_org()``; small pages (2 items).

Use in a test module (pytest registers fixtures bound at module level)::

    from tests.support import fake_github as fake_support

    fake_github = fake_support.fake_github

    def test_x(fake_github, env):
        fake_github.seed_small_org()
        config = load_config(environ=env)   # env["GITHUB_API_URL"] points at the stand-in
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.dev.github import GitHubStandIn, Team, slugify
from app.dev.github.base import json_answer
from config import decode_github_key
from tests.support import contract

FakeTeam = Team
__all__ = ["FakeGitHub", "FakeTeam", "fake_for_env", "fake_github", "slugify"]


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    body: Any
    headers: dict[str, str]
    query: str


class FakeGitHub(GitHubStandIn):
    """The stand-in for one test. All state is public so tests can arrange and inspect it."""

    HOLD_LIMIT = 30.0  # a held request is answered after this at the latest (never hangs)

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
        super().__init__(
            api_url=httpserver.url_for("/"),
            app_id=app_id,
            public_key=public_key,
            org=org,
            installation_id=installation_id,
            page_size=page_size,
            token_ttl=token_ttl,
            clock=clock,
        )
        self.server = httpserver
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, JSON body) of writes
        self._failures: list[_Failure] = []
        self._holds: list[tuple[str, re.Pattern[str], threading.Event]] = []
        self.held = 0  # requests waiting in a hold right now
        httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)

    # ---- arranging ----------------------------------------------------------------------

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
        ids["outsider"] = self.add_user("outsider")  # a GitHub account outside the organisation
        return ids

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
        failure = _Failure(
            method.upper(),
            re.compile(path_regex),
            status,
            times,
            {"message": message},
            headers or {},
            query,
        )
        with self.lock:
            self._failures.append(failure)

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

    def approve(self, authorize_url: str, login: str, token_for: str | None = None) -> str:
        """The member, signed in to GitHub as ``login``, presses Authorize on the page at
        ``authorize_url``: returns the URL GitHub redirects them to (with code and state).
        ``token_for``: the code's token belongs to that account instead (GitHub's word wins)."""
        self.add_user(login)
        if token_for is not None:
            self.add_user(token_for)
        return self._press(authorize_url, {"login": token_for or login, "choice": "approve"})

    def deny(self, authorize_url: str) -> str:
        """The member presses Cancel: the redirect carries error=access_denied and the state."""
        return self._press(authorize_url, {"choice": "deny"})

    def _press(self, authorize_url: str, choice: dict[str, str]) -> str:
        page = httpx.get(authorize_url, follow_redirects=False, timeout=10)
        assert page.status_code == 200, page.text
        form = {**dict(parse_qsl(urlsplit(authorize_url).query)), **choice}
        response = httpx.post(authorize_url.split("?")[0], data=form, timeout=10)
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
        contract.read_body(request)
        response, outside = self._answer(request)
        contract.check(contract.description("github"), request, response, injected=outside)
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
                    return json_answer(failure.status, failure.body, failure.headers), True
        return self.handle(request, request.path)

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
    """The GitHub stand-in for the test's ``env`` (an empty organisation; seed it as needed).

    Bind it in a test module with ``fake_github = tests.support.fake_github.fake_github``.
    """
    yield fake_for_env(httpserver, env)
