"""One workspace: Slack requests from any other workspace are refused before any listener.

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
from typing import Any

from slack_bolt import BoltResponse

log = logging.getLogger("rocket2.slack")

FOREIGN_TEXT = "Sorry, Rocket 2 only works for members of its own workspace."
STARTING_TEXT = "Rocket 2 is still starting. Please try again in a minute."
_TEAM_ID = re.compile(r"[^A-Z0-9]")


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


def workspace_gate(
    configured: str, learned: Callable[[], str | None]
) -> Callable[..., BoltResponse | None]:
    """A Bolt global middleware refusing requests from any workspace but ours."""

    def check_workspace(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        ours = configured or learned()
        teams = caller_teams(body)
        is_command = "command" in body
        if ours is None:
            log.warning("slack request refused: the workspace id is not known yet")
            if is_command:
                return _ephemeral(STARTING_TEXT)
            return BoltResponse(status=503, body="")
        others = sorted(teams - {ours})
        if teams and not others:
            next_()
            return None
        what = "command" if is_command else f"event {_kind(body)}"
        team = _clean(others[0]) if others else "none named"
        log.warning("slack %s from another workspace (%s) refused", what, team)
        return _ephemeral(FOREIGN_TEXT) if is_command else BoltResponse(status=200, body="")

    return check_workspace


def _ephemeral(text: str) -> BoltResponse:
    body = json.dumps({"response_type": "ephemeral", "text": text})
    return BoltResponse(status=200, body=body, headers={"content-type": "application/json"})


def _kind(body: dict[str, Any]) -> str:
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else body.get("type")
    return re.sub(r"[^a-z_]", "", str(kind or "?"))[:40] or "?"


def _clean(team: str) -> str:
    return _TEAM_ID.sub("", team)[:20] or "?"
