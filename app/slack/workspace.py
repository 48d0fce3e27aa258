"""One workspace: Slack requests from any other workspace are refused before any handler.

The club's workspace is SLACK_TEAM_ID, or, when that is empty, the workspace Slack's
``auth.test`` names for the bot token (app.slack.authorize learns it in the background).
Every workspace id a payload names for its caller must be that one: the outer ``team_id``,
a command's ``user_team``, an event's ``team`` / ``user_team`` / ``source_team``, a
``team_join`` user's ``team_id``, an interaction's ``team.id`` / ``user.team_id``.

- Another workspace (an outside member in a Slack Connect channel): a command gets a polite
  ephemeral refusal as its ack; an event is acknowledged (200, so Slack does not retry) and
  ignored. One log line each, naming the workspace id only. A payload naming no workspace
  at all is refused the same way.
- Workspace not known yet (SLACK_TEAM_ID empty and auth.test has not answered): fail closed.
  A command is asked to try again in a minute; an event gets 503, so Slack delivers it again.

Guests of the club's own workspace (single- and multi-channel guests) belong to it and are
members like anyone else; what they may do is what their member record allows.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.slack.payloads import SlashCommand

log = logging.getLogger("rocket2.slack")

FOREIGN_TEXT = "Sorry, Rocket 2 only works for members of its own workspace."
STARTING_TEXT = "Rocket 2 is still starting. Please try again in a minute."
_TEAM_ID = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class Refusal:
    """The answer to a refused request: ``status`` and a JSON ``body`` ("" for none)."""

    status: int
    body: str = ""


def caller_teams(body: dict[str, Any]) -> set[str]:
    """Every workspace id ``body`` names for the caller (empty values left out)."""
    found: list[Any] = [body.get("team_id"), body.get("user_team")]
    event = body.get("event")
    if isinstance(event, dict):
        found += [event.get("team"), event.get("user_team"), event.get("source_team")]
        user = event.get("user")
        if isinstance(user, dict):
            found.append(user.get("team_id"))
    for key, field in (("team", "id"), ("user", "team_id")):
        value = body.get(key)
        if isinstance(value, dict):
            found.append(value.get(field))
    return {str(team) for team in found if isinstance(team, str) and team}


class WorkspaceGate:
    """Refuses commands and events from any workspace but ours (None: let it through)."""

    def __init__(self, configured: str, learned: Callable[[], str | None]) -> None:
        self._configured = configured
        self._learned = learned

    def refuse_command(self, command: SlashCommand) -> Refusal | None:
        """None for a command from our workspace, else its ephemeral refusal (as its ack)."""
        ours = self._configured or self._learned()
        if ours is None:
            log.warning("slack request refused: the workspace id is not known yet")
            return _ephemeral(STARTING_TEXT)
        other = _other(command.teams, ours)
        if other is None:
            return None
        log.warning("slack command from another workspace (%s) refused", other)
        return _ephemeral(FOREIGN_TEXT)

    def refuse_event(self, body: dict[str, Any]) -> Refusal | None:
        """None for an event from our workspace; else 200 (ignored) or 503 (not known yet)."""
        ours = self._configured or self._learned()
        if ours is None:
            log.warning("slack request refused: the workspace id is not known yet")
            return Refusal(503)
        other = _other(caller_teams(body), ours)
        if other is None:
            return None
        log.warning("slack event %s from another workspace (%s) refused", _kind(body), other)
        return Refusal(200)


def _other(teams: set[str], ours: str) -> str | None:
    """None when ``teams`` names ours only; else the (cleaned) other one, or "none named"."""
    others = sorted(teams - {ours})
    if teams and not others:
        return None
    return _clean(others[0]) if others else "none named"


def _ephemeral(text: str) -> Refusal:
    return Refusal(200, json.dumps({"response_type": "ephemeral", "text": text}))


def _kind(body: dict[str, Any]) -> str:
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else body.get("type")
    return re.sub(r"[^a-z_]", "", str(kind or "?"))[:40] or "?"


def _clean(team: str) -> str:
    return _TEAM_ID.sub("", team)[:20] or "?"
