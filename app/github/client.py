"""The GitHub App client: a thin, synchronous httpx client for the calls Rocket 2 makes.

- App JWT → the organisation's own installation → an installation token, cached until 5
  minutes before it expires; a 401 drops it and the call runs once more with a new one;
- 5xx, 429, timeouts and connection errors are retried with backoff (or Retry-After),
  ``max_attempts`` in all; a POST that creates something is not retried;
- lists follow ``Link: rel="next"`` (only to the API's own host); errors are GitHubError
  subclasses naming the operation, never a token;
- ``with client.deadline(at, clock):`` bounds every request the thread makes inside it
  (GitHubDeadlineExceeded once no time is left). No network until a method is called.
Why not PyGithub: docs/decisions/0016-own-github-client.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github.auth import InstallationToken, TokenCache, app_jwt, parse_expires_at
from app.github.errors import (
    GitHubAuthError,
    GitHubDeadlineExceeded,
    GitHubError,
    GitHubInvitationCapped,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubTeamSynchronized,
    GitHubUnavailable,
    GitHubUnexpectedStatus,
    GitHubValidationError,
)
from app.github.models import GitHubTeam, GitHubUser, Membership
from config import Config

log = logging.getLogger("rocket2.github")

API_VERSION = "2022-11-28"
USER_AGENT = "rocket2"
PER_PAGE = 100
MAX_PAGES = 1000
RETRYABLE = frozenset({429, 500, 502, 503, 504})
SECONDARY_WAIT = 60.0  # GitHub: without retry-after, wait at least a minute
MUTATION_GAP = 1.0  # GitHub: many mutating requests serially, at least one second apart
_403 = frozenset({403})
_404 = frozenset({404})


def _seg(value: str) -> str:
    """One URL path segment (a login or slug), escaped so it cannot change the path."""
    return quote(value, safe="")


class GitHubClient:
    """GitHub App client for one organisation. Thread-safe; create one per process."""

    def __init__(
        self,
        *,
        api_url: str,
        app_id: int,
        private_key: rsa.RSAPrivateKey,
        org: str,
        timeout: float = 10.0,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.org = org
        self.app_id = app_id
        self._key = private_key
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        self._local = threading.local()  # this thread's deadline: (at, clock) or None
        self._tokens = TokenCache(clock)
        self._installation_id: int | None = None
        self._jwts: list[str] = []  # the last few JWTs, only to scrub them from error text
        base = api_url if api_url.endswith("/") else api_url + "/"
        self._origin = urlsplit(base)[:2]
        self._http = httpx.Client(
            base_url=base,
            timeout=timeout,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
            follow_redirects=False,
        )

    @classmethod
    def from_config(cls, config: Config, **kwargs: Any) -> GitHubClient:
        """A client for the configured App, organisation and GITHUB_API_URL."""
        return cls(
            api_url=config.github_api_url,
            app_id=config.github_app_id,
            private_key=config.github_key.private_key,
            org=config.github_org_name,
            **kwargs,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def deadline(self, at: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
        """Within the block, this thread's requests must end by ``at`` (a time on ``clock``).

        Each HTTP attempt's timeout is the client's timeout or the time left, whichever is
        smaller; no attempt or backoff pause starts once the time is up, and the call raises
        GitHubDeadlineExceeded. Nested deadlines keep the earlier one. Other threads using the
        same client are not affected.
        """
        previous = getattr(self._local, "deadline", None)
        if previous is not None and previous[1] is clock and previous[0] < at:
            at = previous[0]
        self._local.deadline = (at, clock)
        try:
            yield
        finally:
            self._local.deadline = previous

    def _time_left(self, operation: str) -> float | None:
        """Seconds left before this thread's deadline (None: no deadline); raises when none."""
        deadline: tuple[float, Callable[[], float]] | None = getattr(self._local, "deadline", None)
        if deadline is None:
            return None
        at, clock = deadline
        left: float = at - clock()
        if left <= 0:
            raise GitHubDeadlineExceeded(operation, None, "out of time for this request")
        return left

    # ---- authentication ------------------------------------------------------------------

    def _jwt(self) -> str:
        token = app_jwt(self.app_id, self._key, self._clock())
        self._jwts = [*self._jwts[-3:], token]
        return token

    def installation_id(self) -> int:
        """The id of the App's installation on the organisation (looked up once, then cached)."""
        if self._installation_id is None:
            operation = f"find the GitHub App's installation on organisation {self.org}"
            response = self._send(
                "GET",
                f"orgs/{_seg(self.org)}/installation",
                operation,
                headers={"Authorization": f"Bearer {self._jwt()}"},
            )
            # GitHub documents 200 only: any error is GitHub's failure, never "not installed".
            self._check(response, operation, frozenset())
            self._installation_id = int(response.json()["id"])
        return self._installation_id

    def _new_token(self) -> InstallationToken:
        operation = "create an installation access token"
        for attempt in range(2):
            installation = self.installation_id()
            response = self._send(
                "POST",
                f"app/installations/{installation}/access_tokens",
                operation,
                headers={"Authorization": f"Bearer {self._jwt()}"},
                retry=True,  # a second token is harmless
            )
            if response.status_code == 404 and attempt == 0:
                # The App was reinstalled: look the installation up again, once.
                self._installation_id = None
                continue
            self._check(response, operation, frozenset({403, 404, 422}))
            data = response.json()
            return InstallationToken(str(data["token"]), parse_expires_at(str(data["expires_at"])))
        raise GitHubNotFound(operation, 404, f"the App has no installation on {self.org}")

    def token(self) -> str:
        """A valid installation token (cached until 5 minutes before it expires)."""
        return self._tokens.get(self._new_token)

    # ---- transport -----------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        operation: str,
        *,
        headers: dict[str, str],
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
    ) -> httpx.Response:
        """One logical request with bounded retries.

        GET/PUT/PATCH/DELETE (idempotent) are retried on 429/5xx and on transport errors. POST is
        retried only when ``retry`` says so: a team-creating POST that timed out may have worked,
        and repeating it would fail with "name already exists" and confuse the caller.
        """
        retryable = (method != "POST") if retry is None else retry
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            left = self._time_left(operation)
            timeout = self._timeout if left is None else min(self._timeout, left)
            try:
                response = self._http.request(
                    method, url, headers=headers, params=params, json=json, timeout=timeout
                )
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException) and left is not None:
                    self._time_left(operation)  # raises GitHubDeadlineExceeded if time is up
                if retryable and not last:
                    self._pause(attempt, None, operation, type(exc).__name__)
                    continue
                raise GitHubUnavailable(operation, None, self._scrub(type(exc).__name__)) from None
            wait = rate_limit_wait(response, self._clock(), attempt)
            if wait is not None and not last:  # GitHub refused the request: safe to repeat
                self._slow_down(wait, response, operation)
                continue
            if wait is None and response.status_code in RETRYABLE and retryable and not last:
                self._pause(attempt, response, operation, f"HTTP {response.status_code}")
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def paced(self) -> Iterator[None]:
        """Within the block (a bulk loop), this thread's mutating requests (POST, PATCH, PUT,
        DELETE) go serially, at least MUTATION_GAP seconds apart, as GitHub recommends."""
        previous = getattr(self._local, "last_mutation", None)
        self._local.last_mutation = float("-inf")
        try:
            yield
        finally:
            self._local.last_mutation = previous

    def _pace(self, method: str) -> None:
        last: float | None = getattr(self._local, "last_mutation", None)
        if last is None or method == "GET":
            return
        wait = last + MUTATION_GAP - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._local.last_mutation = self._clock()

    @contextmanager
    def on_slow_down(self, notice: Callable[[float], None]) -> Iterator[None]:
        """Within the block, ``notice(seconds)`` is called (in this thread) before each wait
        GitHub's rate limits ask for, so the caller can say the rest follows later."""
        previous = getattr(self._local, "notice", None)
        self._local.notice = notice
        try:
            yield
        finally:
            self._local.notice = previous

    def _slow_down(self, wait: float, response: httpx.Response, operation: str) -> None:
        """Wait as GitHub's rate limit asks (in full), or raise when the deadline is nearer."""
        left = self._time_left(operation)
        if left is not None and wait >= left:
            detail = f"GitHub asked Rocket 2 to slow down for {wait:.0f} s"
            raise GitHubRateLimited(operation, response.status_code, detail, retry_in=wait)
        log.warning("GitHub: %s: rate limited; waiting %.0f s as GitHub asks", operation, wait)
        notice: Callable[[float], None] | None = getattr(self._local, "notice", None)
        if notice is not None:
            notice(wait)
        self._sleep(wait)

    def _pause(
        self, attempt: int, response: httpx.Response | None, operation: str, why: str
    ) -> None:
        delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            delay = min(self._max_backoff, float(retry_after))
        left = self._time_left(operation)
        if left is not None and delay >= left:
            raise GitHubDeadlineExceeded(operation, None, f"{why}; no time left to retry")
        log.warning("GitHub: %s: %s; retrying in %.1fs", operation, why, delay)
        self._sleep(delay)

    def _api(
        self,
        method: str,
        url: str,
        operation: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        documented: frozenset[int] = frozenset(),
        forbidden: type[GitHubError] = GitHubAuthError,
    ) -> httpx.Response:
        """An installation-authenticated call; on 401, one retry with a fresh token.
        ``documented``: the error statuses GitHub's description lists for the call;
        ``forbidden``: what a documented 403 means for it."""

        def send(token: str) -> httpx.Response:
            self._pace(method)
            auth = {"Authorization": f"token {token}"}
            return self._send(method, url, operation, headers=auth, params=params, json=json)

        token = self.token()
        response = send(token)
        if response.status_code == 401:
            log.info("GitHub: %s: token refused (401); refreshing it once", operation)
            self._tokens.invalidate(token)
            response = send(self.token())
        self._check(response, operation, documented, forbidden)
        return response

    def _pages(
        self,
        path: str,
        operation: str,
        params: dict[str, Any] | None = None,
        documented: frozenset[int] = frozenset(),
    ) -> Iterator[Any]:
        """Every item of a list endpoint, following Link rel="next" across pages."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(MAX_PAGES):
            assert url is not None
            response = self._api("GET", url, operation, params=query, documented=documented)
            items = response.json()
            if not isinstance(items, list):
                raise GitHubError(operation, response.status_code, "expected a list in the answer")
            yield from items
            url = response.links.get("next", {}).get("url")
            if not url:
                return
            if urlsplit(url)[:2] != self._origin:
                raise GitHubError(operation, None, "the next-page link points to another host")
            query = None  # the next link carries its own query
        raise GitHubError(operation, None, f"more than {MAX_PAGES} pages")

    def _check(
        self,
        response: httpx.Response,
        operation: str,
        documented: frozenset[int],
        forbidden: type[GitHubError] = GitHubAuthError,
    ) -> None:
        """Raise the GitHubError an error answer means; ``documented``: the error statuses
        GitHub lists for the call (any other 4xx is GitHub's failure, logged, never "absent")."""
        status = response.status_code
        if status < 400:
            return
        detail = self._scrub(_reason(response))
        wait = rate_limit_wait(response, self._clock(), self._max_attempts)
        if wait is not None:
            raise GitHubRateLimited(operation, status, detail, retry_in=wait)
        if status == 401:
            raise GitHubAuthError(operation, status, detail)
        if status >= 500:
            raise GitHubUnavailable(operation, status, detail)
        if status not in documented:
            log.warning(
                "GitHub: %s: HTTP %s is not a status GitHub documents for this call; "
                "treated as a failure on GitHub's side",
                operation,
                status,
            )
            raise GitHubUnexpectedStatus(operation, status, detail)
        if status == 404:
            raise GitHubNotFound(operation, status, detail)
        if status == 422:
            raise GitHubValidationError(operation, status, detail)
        if status == 403:
            raise forbidden(operation, status, detail)
        raise GitHubError(operation, status, detail)

    def _scrub(self, text: str) -> str:
        for secret in (self._tokens.current(), *self._jwts):
            if secret:
                text = text.replace(secret, "***")
        return text

    # ---- users and organisation membership -------------------------------------------------

    def get_user(self, username: str) -> GitHubUser:
        """The GitHub account ``username``; GitHubNotFound if there is none."""
        response = self._api(
            "GET", f"users/{_seg(username)}", f"look up GitHub user {username}", documented=_404
        )
        return GitHubUser.from_json(response.json())

    def get_user_by_id(self, user_id: int) -> GitHubUser:
        """The GitHub account with this numeric id; GitHubNotFound if there is none."""
        response = self._api(
            "GET", f"user/{int(user_id)}", f"look up GitHub user id {user_id}", documented=_404
        )
        return GitHubUser.from_json(response.json())

    def get_org_membership(self, username: str) -> Membership | None:
        """``username``'s membership of the organisation (active or pending), or None."""
        try:
            response = self._api(
                "GET",
                f"orgs/{_seg(self.org)}/memberships/{_seg(username)}",
                f"read {username}'s membership of {self.org}",
                documented=frozenset({403, 404}),
            )
        except GitHubNotFound:
            return None
        return Membership.from_json(response.json())

    def add_org_member(self, username: str) -> Membership:
        """Invite ``username`` to the organisation as a member (PUT memberships), unless they
        already belong or are invited; an existing owner is never demoted. Returns the
        membership, whose ``user`` carries the GitHub id. GitHubInvitationCapped when GitHub
        refuses a new invitation (its invitation cap)."""
        existing = self.get_org_membership(username)
        if existing is not None and existing.user is not None:
            return existing
        try:
            response = self._api(
                "PUT",
                f"orgs/{_seg(self.org)}/memberships/{_seg(username)}",
                f"invite {username} to {self.org}",
                json={"role": "member"},
                documented=frozenset({403, 422}),
            )
        except GitHubValidationError as exc:
            raise GitHubInvitationCapped(exc.operation, exc.status, exc.detail) from None
        return Membership.from_json(response.json())

    def remove_org_member(self, username: str) -> None:
        """Remove ``username`` from the organisation (or cancel their invitation)."""
        self._api(
            "DELETE",
            f"orgs/{_seg(self.org)}/memberships/{_seg(username)}",
            f"remove {username} from {self.org}",
            documented=frozenset({403, 404}),
        )

    def list_org_members(self) -> list[GitHubUser]:
        """Every member of the organisation (all pages)."""
        items = self._pages(
            f"orgs/{_seg(self.org)}/members",
            f"list the members of {self.org}",
            documented=frozenset({422}),
        )
        return [GitHubUser.from_json(item) for item in items]

    # ---- teams --------------------------------------------------------------------------

    def list_teams(self) -> list[GitHubTeam]:
        """Every team of the organisation (all pages)."""
        items = self._pages(
            f"orgs/{_seg(self.org)}/teams", f"list the teams of {self.org}", documented=_403
        )
        return [GitHubTeam.from_json(item) for item in items]

    def get_team(self, slug: str) -> GitHubTeam:
        """The team with this slug; GitHubNotFound if there is none."""
        response = self._api(
            "GET", f"orgs/{_seg(self.org)}/teams/{_seg(slug)}", f"read team {slug}", documented=_404
        )
        return GitHubTeam.from_json(response.json())

    def find_team(self, slug: str) -> GitHubTeam | None:
        """The team with this slug, or None."""
        try:
            return self.get_team(slug)
        except GitHubNotFound:
            return None

    def create_team(
        self, name: str, description: str = "", maintainers: tuple[str, ...] = ()
    ) -> GitHubTeam:
        """Create a closed (visible to members) team; GitHubValidationError if the name is taken."""
        body: dict[str, Any] = {"name": name, "privacy": "closed"}
        if description:
            body["description"] = description
        if maintainers:
            body["maintainers"] = list(maintainers)
        response = self._api(
            "POST",
            f"orgs/{_seg(self.org)}/teams",
            f"create team {name}",
            json=body,
            documented=frozenset({403, 422}),
        )
        return GitHubTeam.from_json(response.json())

    def edit_team(
        self, slug: str, *, name: str | None = None, description: str | None = None
    ) -> GitHubTeam:
        """Rename the team and/or change its description; returns it (with its new slug)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        response = self._api(
            "PATCH",
            f"orgs/{_seg(self.org)}/teams/{_seg(slug)}",
            f"edit team {slug}",
            json=body,
            documented=frozenset({403, 404, 422}),
        )
        return GitHubTeam.from_json(response.json())

    def rename_team(self, slug: str, new_name: str) -> GitHubTeam:
        """Rename the team; returns it with its new name and slug."""
        return self.edit_team(slug, name=new_name)

    def delete_team(self, slug: str) -> None:
        """Delete the team."""
        self._api(
            "DELETE",
            f"orgs/{_seg(self.org)}/teams/{_seg(slug)}",
            f"delete team {slug}",
            documented=frozenset({422}),
        )

    def list_team_members(self, slug: str, role: str = "all") -> list[GitHubUser]:
        """The team's members (all pages); ``role`` is 'all', 'member' or 'maintainer'."""
        if role not in ("all", "member", "maintainer"):
            raise ValueError("role must be 'all', 'member' or 'maintainer'")
        items = self._pages(
            f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/members",
            f"list the members of team {slug}",
            {"role": role},
        )
        return [GitHubUser.from_json(item) for item in items]

    def list_direct_team_members(self, slug: str, role: str = "all") -> list[GitHubUser]:
        """The team's own members (all pages), without those GitHub lists only because they
        are in a child team (``inherited``; where GitHub leaves the flag out, the members of
        the team's child teams are left out). docs/decisions/0022-child-teams.md"""
        items = list(
            self._pages(
                f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/members",
                f"list the members of team {slug}",
                {"role": role},
            )
        )
        if all("inherited" in item for item in items):
            return [GitHubUser.from_json(i) for i in items if not i["inherited"]]
        through_children = {
            user.id
            for child in self.list_child_teams(slug)
            for user in self.list_team_members(child.slug)
        }
        return [GitHubUser.from_json(i) for i in items if int(i["id"]) not in through_children]

    def list_child_teams(self, slug: str) -> list[GitHubTeam]:
        """The team's child teams (all pages)."""
        items = self._pages(
            f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/teams", f"list the child teams of {slug}"
        )
        return [GitHubTeam.from_json(item) for item in items]

    def is_direct_team_member(self, slug: str, login: str) -> bool:
        """Whether ``login`` is in the team itself (not only through a child team)."""
        return login.lower() in {u.login.lower() for u in self.list_direct_team_members(slug)}

    def list_team_maintainers(self, slug: str) -> list[GitHubUser]:
        """The team's maintainers (all pages)."""
        return self.list_team_members(slug, role="maintainer")

    def get_team_membership(self, slug: str, username: str) -> Membership | None:
        """``username``'s membership of the team, or None."""
        try:
            response = self._api(
                "GET",
                f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/memberships/{_seg(username)}",
                f"read {username}'s membership of team {slug}",
                documented=_404,
            )
        except GitHubNotFound:
            return None
        return Membership.from_json(response.json())

    def add_team_member(self, slug: str, username: str, role: str = "member") -> Membership:
        """Add ``username`` to the team with ``role`` ('member' or 'maintainer'). This sets the
        role: read get_team_membership first if a maintainer must not become a member.
        GitHubInvitationCapped when the 422 refuses a non-member's invitation (the cap)."""
        if role not in ("member", "maintainer"):
            raise ValueError("role must be 'member' or 'maintainer'")
        try:
            response = self._api(
                "PUT",
                f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/memberships/{_seg(username)}",
                f"add {username} to team {slug}",
                json={"role": role},
                documented=frozenset({403, 422}),
                forbidden=GitHubTeamSynchronized,
            )
        except GitHubValidationError as exc:
            if self.get_org_membership(username) is not None:
                raise
            raise GitHubInvitationCapped(exc.operation, exc.status, exc.detail) from None
        return Membership.from_json(response.json())

    def remove_team_member(self, slug: str, username: str) -> None:
        """Remove ``username`` from the team."""
        self._api(
            "DELETE",
            f"orgs/{_seg(self.org)}/teams/{_seg(slug)}/memberships/{_seg(username)}",
            f"remove {username} from team {slug}",
            documented=_403,
            forbidden=GitHubTeamSynchronized,
        )


def rate_limit_wait(response: httpx.Response, now: float, attempt: int) -> float | None:
    """Seconds GitHub asks for before a retry, if the answer is a rate limit (else None).

    As GitHub documents: 403 or 429; ``retry-after`` in full; ``x-ratelimit-remaining: 0``
    until ``x-ratelimit-reset``; a secondary limit without either: at least a minute, doubling
    with each attempt.
    """
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "").strip()
        return max(0.0, float(reset) - now) if reset.isdigit() else SECONDARY_WAIT
    if response.status_code == 429 or "rate limit" in _reason(response).lower():
        return float(SECONDARY_WAIT * 2 ** (attempt - 1))
    return None


def _reason(response: httpx.Response) -> str:
    """GitHub's message (and validation errors) from an error answer, or the status phrase."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(data, dict):
        return response.reason_phrase or "error"
    parts = [str(data.get("message") or response.reason_phrase or "error")]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or error.get("code") or ""))
        else:
            parts.append(str(error))
    return "; ".join(p for p in parts if p)
