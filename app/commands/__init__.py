"""The command seam: everything Rocket 2 *does* in answer to Slack and GitHub lives behind it.

The HTTP side (app/slack_endpoint.py, app/github_webhook.py) only verifies, acknowledges and
hands over. It calls exactly these four things, so the members/teams work can plug in a real
parser and services here without touching either blueprint:

``make_context(config, slack) -> CommandContext``
    Called once per worker in ``create_app``; must not do network I/O. Add services (store,
    GitHub client, …) as fields of CommandContext and build them here, lazily if they connect.

``dispatch(text, user_id, ctx) -> dict``
    One slash command (``/rocket TEXT`` from ``user_id``). Runs *after* the ack, in Bolt's
    bounded listener executor, so it may take its time (Slack allows 30 minutes for
    response_url). Returns a Slack message payload (``text``, optional ``blocks``,
    ``response_type`` "ephemeral" or "in_channel") which is posted to the command's
    response_url. An exception is logged and the user gets a generic error message.

``slack_event_handlers(ctx) -> {event type: handler(event)}``
    Slack Events API handlers (``team_join``, …), also run after the ack. Repeated deliveries
    (X-Slack-Retry-Num) are filtered out before a handler sees them.

``github_event_handlers(ctx) -> {X-GitHub-Event: handler(payload)}``
    GitHub webhook handlers, run after the signature check and JSON parse. Events with no
    handler get 202. A handler raising KeyError/TypeError/ValueError means "payload not as
    expected" (400); any other exception means "try again later" (503).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from app.commands.help import command_list_message
from config import Config

Message = dict[str, Any]
SlackEventHandler = Callable[[dict[str, Any]], None]
GitHubEventHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class CommandContext:
    """What a command needs: the config and clients. The members work adds store, github, …."""

    config: Config
    slack: WebClient


def make_context(config: Config, slack: WebClient) -> CommandContext:
    """Build the per-worker command context. No network I/O."""
    return CommandContext(config=config, slack=slack)


def dispatch(text: str, user_id: str, ctx: CommandContext) -> Message:
    """Run one `/rocket` command and return the reply. For now: the command list for anything."""
    words = text.strip().split()
    if not words or words[0].lower() == "help":
        return command_list_message()
    return command_list_message(unknown=words[0])


def slack_event_handlers(ctx: CommandContext) -> Mapping[str, SlackEventHandler]:
    """Slack event type → handler. For now: a mention answers with the command list."""

    def on_mention(event: dict[str, Any]) -> None:
        channel, user = event.get("channel"), event.get("user")
        if not channel or not user:
            return
        words = str(event.get("text", "")).split()
        text = " ".join(w for w in words if not w.startswith("<@"))
        reply = dispatch(text, user, ctx)
        ctx.slack.chat_postEphemeral(
            channel=channel, user=user, text=reply["text"], blocks=reply.get("blocks")
        )

    return {"app_mention": on_mention}


def github_event_handlers(ctx: CommandContext) -> Mapping[str, GitHubEventHandler]:
    """X-GitHub-Event → handler. None yet (organization, team, membership come with members)."""
    return {}
