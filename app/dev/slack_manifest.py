"""The Slack stand-in's App Manifest API (``apps.manifest.validate|create|update``) and the
scopes its ``auth.test`` grants the bot token (the ``x-oauth-scopes`` header).

Shapes as Slack's method reference pages give them: HTTP 200 with ``ok``; an app configuration
token (``xoxe…``) the stand-in issued, else ``invalid_auth``; an invalid manifest is
``invalid_manifest`` with ``errors[{message, pointer}]``. Validation uses Slack's published
manifest schema (vendored in app/setup/schemas) and Slack's documented request-URL rule.
The token is shown on ``/dev/api/slack/config-token`` (loopback only), as Slack shows it on the
"Your Apps" page.
"""

from __future__ import annotations

import hmac
import json
import secrets
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug import Request, Response

from app.dev.http import fields, json_response
from app.dev.state import JsonState
from app.platforms import SLACK

SCHEMA = ("schemas", "slack-manifest.schema.1.0.0.json")


def seed() -> dict[str, Any]:
    """No app made from a manifest yet; the playground's app has the declared scopes."""
    return {
        "config_token": "xoxe.xoxp-1-dev" + secrets.token_hex(16),
        "apps": {},
        "granted_scopes": list(SLACK.bot_scopes),
    }


@cache
def _validator() -> Any:
    from jsonschema import Draft7Validator

    text = resources.files("app.setup").joinpath(*SCHEMA).read_text("utf-8")
    return Draft7Validator(json.loads(text))


def manifest_errors(manifest: Any) -> list[dict[str, str]]:
    """Slack's ``errors`` for ``manifest``: the schema's, then request URLs Slack must reach."""
    if not isinstance(manifest, dict):
        return [{"message": "Manifest must be a JSON object", "pointer": "/"}]
    errors = [
        {"message": e.message, "pointer": "/" + "/".join(str(p) for p in e.absolute_path)}
        for e in _validator().iter_errors(manifest)
    ]
    settings = manifest.get("settings") or {}
    events = settings.get("event_subscriptions")
    if events and not events.get("request_url") and not settings.get("socket_mode_enabled"):
        errors.append(
            {
                "message": "Event Subscription requires either Request URL or Socket Mode Enabled",
                "pointer": "/settings/event_subscriptions",
            }
        )
    for i, command in enumerate((manifest.get("features") or {}).get("slash_commands") or []):
        url = command.get("url") if isinstance(command, dict) else None
        if url and urlsplit(str(url)).scheme != "https":
            errors.append(
                {
                    "message": "Must be a valid https URL",
                    "pointer": f"/features/slash_commands/{i}/url",
                }
            )
    return errors


class SlackManifestStandIn:
    """Apps made from manifests, the app configuration token and the bot token's scopes."""

    def __init__(self, data_dir: Path) -> None:
        self.state = JsonState(data_dir / "slack_apps.json", seed)

    @property
    def config_token(self) -> str:
        """The app configuration token this stand-in accepts."""
        return str(self.state.data["config_token"])

    def granted_scopes(self) -> list[str]:
        """The scopes auth.test reports for the bot token."""
        with self.state.lock:
            return list(self.state.data["granted_scopes"])

    def set_granted_scopes(self, scopes: list[str]) -> None:
        """Grant exactly ``scopes`` (the playground's "reinstall with other scopes")."""
        with self.state.lock:
            self.state.data["granted_scopes"] = list(scopes)
            self.state.save()

    def handle(self, request: Request, method: str) -> Response:
        """Answer ``apps.manifest.<verb>``."""
        args = fields(request)
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        token = bearer if scheme.lower() == "bearer" else str(args.get("token", ""))
        if not hmac.compare_digest(token.encode(), self.config_token.encode()):
            return json_response({"ok": False, "error": "invalid_auth"})
        manifest = args.get("manifest")
        if isinstance(manifest, str):
            try:
                manifest = json.loads(manifest)
            except ValueError:
                return json_response({"ok": False, "error": "invalid_manifest_format"})
        errors = manifest_errors(manifest)
        if errors or not isinstance(manifest, dict):
            return json_response({"ok": False, "error": "invalid_manifest", "errors": errors})
        with self.state.lock:
            if method == "apps.manifest.validate":
                return json_response({"ok": True})
            if method == "apps.manifest.create":
                return json_response(self._create(manifest))
            if method == "apps.manifest.update":
                return json_response(self._update(str(args.get("app_id", "")), manifest))
        return json_response({"ok": False, "error": "unknown_method"})

    def _create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        app_id = "A0DEV" + secrets.token_hex(3).upper()
        credentials = {
            "client_id": f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}",
            "client_secret": secrets.token_hex(16),
            "verification_token": secrets.token_urlsafe(18),
            "signing_secret": secrets.token_hex(16),
        }
        self.state.data["apps"][app_id] = {"manifest": manifest}
        self._grant(manifest)
        scopes = ",".join(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))
        query = urlencode({"client_id": credentials["client_id"], "scope": scopes})
        return {
            "ok": True,
            "app_id": app_id,
            "credentials": credentials,
            "oauth_authorize_url": f"https://slack.com/oauth/v2/authorize?{query}",
        }

    def _update(self, app_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
        app = self.state.data["apps"].get(app_id)
        if app is None:
            return {"ok": False, "error": "app_not_found"}
        old = app["manifest"].get("oauth_config", {}).get("scopes", {})
        app["manifest"] = manifest
        self._grant(manifest)
        changed = old != manifest.get("oauth_config", {}).get("scopes", {})
        return {"ok": True, "app_id": app_id, "permissions_updated": changed}

    def _grant(self, manifest: dict[str, Any]) -> None:
        """Installing the app grants its manifest's bot scopes (the playground installs it)."""
        self.state.data["granted_scopes"] = list(
            manifest.get("oauth_config", {}).get("scopes", {}).get("bot", [])
        )
        self.state.save()
