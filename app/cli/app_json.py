"""app.json for Heroku's Deploy button, generated from the config schema.

Regenerate with `rocket2 app-json > app.json`; a test keeps the committed file in sync.
"""

from __future__ import annotations

import json
from typing import Any

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
        "env": app_json_env(),
    }


def render() -> str:
    """app.json's exact text."""
    return json.dumps(app_json(), indent=2, ensure_ascii=False) + "\n"
