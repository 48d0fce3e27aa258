"""Slack's App Manifest API (apps.manifest.validate|create|update) with an app configuration
token, and auth.test's granted scopes, for `rocket2 setup` and `rocket2 doctor`.

Every failure is a ManifestApiError whose text is in operator words and quotes no token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from app.slack.client import SLACK_TIMEOUT_SECONDS

TOKEN_WORDS = {
    "invalid_auth": "Slack refused the app configuration token; generate one under "
    "https://api.slack.com/apps → Your App Configuration Tokens",
    "not_authed": "no app configuration token was sent; pass --config-token or set "
    "SLACK_CONFIG_TOKEN",
    "token_expired": "the app configuration token has expired (they last 12 hours); "
    "generate a new one, or rotate it with tooling.tokens.rotate",
    "token_revoked": "the app configuration token was revoked; generate a new one",
    "app_not_found": "Slack knows no app with that id in this token's workspace; check "
    "--update APP_ID (the app's Basic Information page shows it)",
    "invalid_app_id": "that is not a Slack app id (A…); check --update APP_ID",
    "ratelimited": "Slack asks to slow down (rate limited); try again in a minute",
}


class ManifestApiError(Exception):
    """Slack refused a manifest call; ``str()`` says why and what to do."""


@dataclass(frozen=True)
class CreatedApp:
    """What apps.manifest.create returns that Rocket 2 keeps (Slack gives no bot token)."""

    app_id: str
    signing_secret: str
    oauth_authorize_url: str


def _client(base_url: str, token: str) -> WebClient:
    return WebClient(token=token, base_url=base_url, timeout=SLACK_TIMEOUT_SECONDS)


def _explain(exc: SlackApiError) -> ManifestApiError:
    body: Any = exc.response.data if exc.response is not None else {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    if error == "invalid_manifest":
        lines = [
            f"  {item.get('pointer', '/')}: {item.get('message', '')}"
            for item in body.get("errors") or []
            if isinstance(item, dict)
        ]
        return ManifestApiError("Slack refused the manifest:\n" + "\n".join(lines))
    words = TOKEN_WORDS.get(error, f"Slack answered {error or 'an error'}")
    return ManifestApiError(words)


def _data(call: Callable[[], SlackResponse]) -> dict[str, Any]:
    try:
        answer = call()
    except SlackApiError as exc:
        raise _explain(exc) from None
    return dict(answer.data) if isinstance(answer.data, dict) else {}


def validate(base_url: str, token: str, manifest: dict[str, Any]) -> None:
    """apps.manifest.validate; ManifestApiError when Slack refuses the manifest or the token."""
    client = _client(base_url, token)
    _data(lambda: client.apps_manifest_validate(manifest=manifest))


def create(base_url: str, token: str, manifest: dict[str, Any]) -> CreatedApp:
    """apps.manifest.create: the new app's id, signing secret and install link."""
    client = _client(base_url, token)
    data = _data(lambda: client.apps_manifest_create(manifest=manifest))
    credentials = data.get("credentials") or {}
    return CreatedApp(
        app_id=str(data.get("app_id", "")),
        signing_secret=str(credentials.get("signing_secret", "")),
        oauth_authorize_url=str(data.get("oauth_authorize_url", "")),
    )


def update(base_url: str, token: str, app_id: str, manifest: dict[str, Any]) -> None:
    """apps.manifest.update of the app ``app_id``."""
    client = _client(base_url, token)
    _data(lambda: client.apps_manifest_update(app_id=app_id, manifest=manifest))


@dataclass(frozen=True)
class Identity:
    """What auth.test says about the bot token: its workspace, its bot and its scopes."""

    team_id: str
    team: str
    user_id: str
    scopes: frozenset[str]


def identify(base_url: str, bot_token: str) -> Identity:
    """auth.test with the bot token; the scopes come from its x-oauth-scopes header.

    SlackApiError when Slack refuses the token.
    """
    answer = _client(base_url, bot_token).auth_test()
    header = next((v for k, v in answer.headers.items() if k.lower() == "x-oauth-scopes"), "")
    if isinstance(header, list):
        header = ",".join(header)
    return Identity(
        team_id=str(answer.get("team_id", "")),
        team=str(answer.get("team", "")),
        user_id=str(answer.get("user_id", "")),
        scopes=frozenset(s.strip() for s in str(header).split(",") if s.strip()),
    )
