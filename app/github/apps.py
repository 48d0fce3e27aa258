"""The GitHub App's view of itself (App JWT calls) and the manifest flow's code exchange, for
`rocket2 setup github` and `rocket2 doctor`. One attempt per call, no retries.

Each call returns parsed JSON or raises AppCallError with the HTTP status (0: unreachable)
and a short, secret-free reason.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github.auth import app_jwt
from app.github.client import API_VERSION, USER_AGENT

TIMEOUT_SECONDS = 10.0


class AppCallError(Exception):
    """A call GitHub refused or that did not reach GitHub."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _headers(token: str | None = None) -> dict[str, str]:
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _call(method: str, url: str, token: str | None = None) -> Any:
    try:
        answer = httpx.request(method, url, headers=_headers(token), timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise AppCallError(0, f"GitHub is not reachable ({type(exc).__name__})") from None
    if answer.status_code >= 300:
        try:
            message = str(answer.json().get("message", ""))[:200]
        except ValueError:
            message = ""
        raise AppCallError(answer.status_code, message or f"HTTP {answer.status_code}")
    return answer.json() if answer.content else None


def convert_manifest_code(api_url: str, code: str) -> dict[str, Any]:
    """``POST /app-manifests/{code}/conversions``: the new App with its pem, webhook_secret,
    client_id and client_secret (GitHub accepts each code once, within an hour)."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    result: dict[str, Any] = _call("POST", url)
    return result


def organisation_exists(api_url: str, org: str) -> bool:
    """Whether ``GET /orgs/{org}`` finds the organisation (AppCallError if GitHub is down)."""
    try:
        _call("GET", f"{api_url.rstrip('/')}/orgs/{quote(org, safe='')}")
    except AppCallError as exc:
        if exc.status == 404:
            return False
        raise
    return True


class AppView:
    """The App's own endpoints, each called with a fresh App JWT."""

    def __init__(self, api_url: str, app_id: int, key: rsa.RSAPrivateKey) -> None:
        self._base = api_url.rstrip("/")
        self._app_id = app_id
        self._key = key

    def _get(self, path: str) -> Any:
        return _call("GET", self._base + path, app_jwt(self._app_id, self._key, time.time()))

    def app(self) -> dict[str, Any]:
        """``GET /app``: the App with its ``permissions`` and ``events``."""
        result: dict[str, Any] = self._get("/app")
        return result

    def installation(self, org: str) -> dict[str, Any]:
        """``GET /orgs/{org}/installation``: 404 (AppCallError) when not installed there."""
        result: dict[str, Any] = self._get(f"/orgs/{quote(org, safe='')}/installation")
        return result

    def hook_config(self) -> dict[str, Any]:
        """``GET /app/hook/config``: the webhook's url and content_type."""
        result: dict[str, Any] = self._get("/app/hook/config")
        return result

    def deliveries(self, count: int = 10) -> list[dict[str, Any]]:
        """``GET /app/hook/deliveries``: the most recent deliveries, newest first."""
        result: list[dict[str, Any]] = self._get(f"/app/hook/deliveries?per_page={count}")
        return result
