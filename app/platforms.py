"""What Rocket 2 needs from Slack and from GitHub, declared once.

`rocket2 setup` builds both apps' manifests from it, `rocket2 doctor` checks the live apps
against it, and README and app.json quote it; a test fails when a handler needs a scope, an
event or a permission that is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class SlashCommandDeclaration:
    """A slash command as a Slack app declares it."""

    command: str
    path: str  # where Slack posts it, under PUBLIC_URL
    description: str
    usage_hint: str
    should_escape: bool  # Slack sends @mentions as <@U…|name>, which Rocket 2 reads


@dataclass(frozen=True, slots=True)
class SlackNeeds:
    """The Slack app: its command, its events and the bot token's scopes."""

    command: SlashCommandDeclaration
    events_path: str
    bot_events: tuple[str, ...]
    bot_scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GitHubNeeds:
    """The GitHub App: its permissions, its webhook events and its callback path.

    The webhook path is GITHUB_WEBHOOK_ENDPT (default /webhook), a setting of the deploy.
    """

    permissions: MappingProxyType[str, str]  # name → "read" | "write"
    events: tuple[str, ...]
    callback_path: str


SLACK = SlackNeeds(
    command=SlashCommandDeclaration(
        command="/rocket",
        path="/slack/commands",
        description="The club's members and teams",
        usage_hint="help | user … | team … | karma …",
        should_escape=True,
    ),
    events_path="/slack/events",
    bot_events=("app_mention", "team_join"),
    bot_scopes=(
        "app_mentions:read",
        "channels:read",
        "chat:write",
        "commands",
        "im:write",
        "users:read",
        "users:read.email",
    ),
)

GITHUB = GitHubNeeds(
    permissions=MappingProxyType({"members": "write", "emails": "read"}),
    events=("membership", "organization", "team"),
    callback_path="/github/link",
)

ACCESS_RANK = {"read": 1, "write": 2, "admin": 3}


def grants(granted: str | None, needed: str) -> bool:
    """Whether an access level ``granted`` covers ``needed`` (write covers read)."""
    return ACCESS_RANK.get(granted or "", 0) >= ACCESS_RANK[needed]


def missing_permissions(granted: dict[str, str]) -> dict[str, str]:
    """The declared permissions that ``granted`` lacks or grants below the declared level."""
    return {
        name: level
        for name, level in GITHUB.permissions.items()
        if not grants(granted.get(name), level)
    }
