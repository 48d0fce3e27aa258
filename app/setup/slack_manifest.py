"""The Slack app manifest built from app.platforms.SLACK, and its offline check: Slack's
published JSON Schema (vendored in schemas/, see PROVENANCE.md) plus Rocket 2's own rules."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

from app.platforms import SLACK

DEFAULT_NAME = "Rocket 2"
SCHEMA_FILE = "slack-manifest.schema.1.0.0.json"
# Slack's create-app screen; manifest_json pre-fills it where the screen supports it (not all
# of Slack's screens do, so the manifest is also written to a file).
CREATE_APP_URL = "https://api.slack.com/apps?new_app=1"


def build_manifest(public_url: str, name: str = DEFAULT_NAME) -> dict[str, Any]:
    """The manifest of Rocket 2's Slack app, served at ``public_url`` (https://HOST)."""
    base = public_url.rstrip("/")
    command = SLACK.command
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "The club's members and teams, mirrored to GitHub.",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": False},
            "slash_commands": [
                {
                    "command": command.command,
                    "url": base + command.path,
                    "description": command.description,
                    "usage_hint": command.usage_hint,
                    "should_escape": command.should_escape,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(SLACK.bot_scopes)}},
        "settings": {
            "event_subscriptions": {
                "request_url": base + SLACK.events_path,
                "bot_events": list(SLACK.bot_events),
            },
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("app.setup").joinpath("schemas", SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_problems(manifest: dict[str, Any]) -> list[str]:
    """Where ``manifest`` breaks Slack's published schema: "pointer: message" each."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(_schema())
    return [
        f"/{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def _is_https(url: object) -> bool:
    parts = urlsplit(str(url))
    return parts.scheme == "https" and bool(parts.hostname)


def _urls(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    commands = manifest.get("features", {}).get("slash_commands", [])
    urls = [(f"/features/slash_commands/{i}/url", c.get("url", "")) for i, c in enumerate(commands)]
    events = manifest.get("settings", {}).get("event_subscriptions", {})
    urls.append(("/settings/event_subscriptions/request_url", events.get("request_url", "")))
    return urls


def rule_problems(manifest: dict[str, Any]) -> list[str]:
    """Where ``manifest`` breaks Rocket 2's rules: https URLs, exactly the declared scopes,
    events and command, socket mode and token rotation off."""
    problems = [
        f"{at}: must be an https:// address" for at, url in _urls(manifest) if not _is_https(url)
    ]
    scopes = manifest.get("oauth_config", {}).get("scopes", {}).get("bot", [])
    if sorted(scopes) != sorted(SLACK.bot_scopes):
        problems.append(f"/oauth_config/scopes/bot: must be exactly {', '.join(SLACK.bot_scopes)}")
    settings = manifest.get("settings", {})
    events = settings.get("event_subscriptions", {}).get("bot_events", [])
    if sorted(events) != sorted(SLACK.bot_events):
        problems.append(
            f"/settings/event_subscriptions/bot_events: must be exactly "
            f"{', '.join(SLACK.bot_events)}"
        )
    for flag in ("socket_mode_enabled", "token_rotation_enabled"):
        if settings.get(flag) is not False:
            problems.append(f"/settings/{flag}: must be false")
    commands = manifest.get("features", {}).get("slash_commands", [])
    wanted = SLACK.command
    if [(c.get("command"), c.get("should_escape")) for c in commands] != [
        (wanted.command, wanted.should_escape)
    ]:
        problems.append(
            f"/features/slash_commands: must be {wanted.command} alone, with should_escape true"
        )
    return problems


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Every problem of ``manifest``: Slack's schema first, then Rocket 2's rules."""
    return schema_problems(manifest) + rule_problems(manifest)


def creation_link(manifest: dict[str, Any]) -> str:
    """Slack's create-app link with the manifest as JSON in ``manifest_json``."""
    text = json.dumps(manifest, separators=(",", ":"))
    return f"{CREATE_APP_URL}&manifest_json={quote(text, safe='')}"
