"""What the team commands return and raise, independent of the Slack parser.

A command returns a TeamReply (a one-line summary plus more mrkdwn lines) or raises
TeamCommandError (the text is shown to the caller as is; TeamPermissionDenied for refusals).
app.teams.slash turns these into Block Kit messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slack_sdk import WebClient

from app.github import GitHubClient
from app.store import Store
from config import Config


class Deps(Protocol):
    """What the team commands use; app.commands.Services has exactly these."""

    @property
    def config(self) -> Config:
        """The configuration."""
        ...

    @property
    def store(self) -> Store:
        """The database."""
        ...

    @property
    def github(self) -> GitHubClient:
        """The GitHub App client."""
        ...

    @property
    def slack(self) -> WebClient:
        """The Slack Web API client."""
        ...


@dataclass(frozen=True)
class TeamReply:
    """A successful command's answer: ``text`` (one line) and more mrkdwn ``lines``."""

    text: str
    lines: tuple[str, ...] = ()


class TeamCommandError(Exception):
    """The command cannot do what was asked; ``str(error)`` is the reply (Slack mrkdwn)."""


class TeamPermissionDenied(TeamCommandError):
    """The caller's role does not allow this."""


def mention(slack_id: str) -> str:
    """A Slack user mention."""
    return f"<@{slack_id}>"
