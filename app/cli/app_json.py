"""app.json for Heroku's Deploy button, generated from the config schema.

Regenerate with `rocket2 app-json > app.json`; a test keeps the committed file in sync.
"""

from __future__ import annotations

import json
from typing import Any

from app.platforms import GITHUB, SLACK
from config.docs import app_json_env


def app_json() -> dict[str, Any]:
    """The app.json document."""
    return {
        "name": "Rocket 2",
        "description": "The Slack bot that runs a student club's members and teams, "
        "mirrored to GitHub.",
        "keywords": ["slack", "bot", "github", "flask"],
        "success_url": "/healthz",
        "buildpacks": [{"url": "heroku/python"}],
        "formation": {"web": {"quantity": 1, "size": "basic"}},
        # Heroku's disk is wiped daily: the button provisions PostgreSQL, which sets
        # DATABASE_URL; the Procfile's release phase migrates it.
        "addons": ["heroku-postgresql:essential-0"],
        "env": _with_platform_needs(app_json_env()),
    }


def _with_platform_needs(env: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The env, with what the Slack app and the GitHub App must grant (app.platforms)."""
    permissions = ", ".join(f"{name}: {level}" for name, level in GITHUB.permissions.items())
    env["SLACK_API_TOKEN"]["description"] += (
        f" The app's bot scopes: {', '.join(SLACK.bot_scopes)} (`rocket2 setup slack`)."
    )
    env["GITHUB_APP_ID"]["description"] += (
        f" The App's permissions: {permissions}; events: {', '.join(GITHUB.events)} "
        "(`rocket2 setup github`)."
    )
    return env


def render() -> str:
    """app.json's exact text."""
    return json.dumps(app_json(), indent=2, ensure_ascii=False) + "\n"
