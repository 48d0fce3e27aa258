"""The one bundle every handler works with: the config, Slack's Web API, the store, the GitHub
App, and the `/rocket` commands the app was built with.

``make_services(config, slack, commands)`` builds it once per worker with no network I/O (the
store and the GitHub client connect on first use; app.features builds ``commands`` from the
feature list). ``attach`` keeps it on the Flask app and
``services_of`` gives it back, typed, to whatever holds the app (the Gunicorn hooks, /healthz).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient

from app.github import GitHubClient
from app.store import Store
from config import Config

EXTENSION = "rocket2.services"


class Commands(Protocol):
    """The `/rocket` commands (app.slack.commands.dispatch.Commands)."""

    def dispatch(
        self, text: str, user_id: str, services: Services, claim: str = ""
    ) -> dict[str, Any]:
        """Run one `/rocket TEXT` from ``user_id``; the reply (never raises)."""
        ...


@dataclass(frozen=True)
class Services:
    """What a command, an event or a job needs."""

    config: Config
    slack: WebClient
    store: Store
    github: GitHubClient
    commands: Commands


def make_services(
    config: Config,
    slack: WebClient,
    commands: Commands,
    *,
    store: Store | None = None,
    github: GitHubClient | None = None,
) -> Services:
    """The per-worker bundle. No network I/O (nothing connects until used)."""
    return Services(
        config=config,
        slack=slack,
        store=store if store is not None else Store.from_config(config),
        github=github if github is not None else GitHubClient.from_config(config),
        commands=commands,
    )


def attach(app: Any, services: Services) -> None:
    """Keep ``services`` on the Flask ``app`` (in its ``extensions``)."""
    app.extensions[EXTENSION] = services


def services_of(app: Any) -> Services | None:
    """The bundle ``attach`` kept on ``app``, or None (not a Rocket 2 app, or not built yet)."""
    found = getattr(app, "extensions", {}).get(EXTENSION)
    return found if isinstance(found, Services) else None
