"""What the team logic returns: a TeamReply (a one-line summary plus more mrkdwn lines), which
app.teams.slash turns into Block Kit. Refusals are the command framework's CommandError and
PermissionDenied (app.slack.commands.errors)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TeamReply:
    """A successful command's answer: ``text`` (one line) and more mrkdwn ``lines``."""

    text: str
    lines: tuple[str, ...] = ()


def mention(slack_id: str) -> str:
    """A Slack user mention."""
    return f"<@{slack_id}>"
