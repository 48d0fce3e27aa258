"""The command seam: everything Rocket 2 *does* in answer to Slack and GitHub lives behind it.

The HTTP side (app/slack_endpoint.py, app/github_webhook.py) only verifies, acknowledges and
hands over. It calls exactly these four things:

``make_context(config, slack) -> CommandContext``
    Called once per worker in ``create_app`` (after Gunicorn's fork); no network I/O. The
    store and the GitHub client connect lazily, on their first use.

``dispatch(text, user_id, ctx) -> dict``
    One slash command (``/rocket TEXT`` from ``user_id``). Runs *after* the ack, in Bolt's
    bounded listener executor. Returns a Slack message payload (``text``, ``blocks``,
    ``response_type`` "ephemeral") which is posted to the command's response_url. It never
    raises: see app.commands.dispatcher for the parser and its error replies, and
    app.commands.registry for how a feature registers its command group.

``slack_event_handlers(ctx) -> {event type: handler(event, event_id)}``
    Slack Events API handlers (``team_join``, ``app_mention``), also run after the ack.

``github_event_handlers(ctx) -> {X-GitHub-Event: handler(payload, delivery)}``
    GitHub webhook handlers, run after the signature check and JSON parse, with the
    X-GitHub-Delivery id (for exactly-once processing). Events with no handler, and handlers
    returning "ignored", get 202. Payloads are checked against their shape first
    (app.github.webhook_payloads). A handler raising KeyError/TypeError/ValueError means
    "payload not as expected" (400); an outside failure (GitHub, the database) means "try
    again later" (503); anything else is a bug (500, logged with its traceback).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from app.commands.dispatcher import dispatch as _dispatch
from app.github import GitHubClient
from app.store import Store
from config import Config

Message = dict[str, Any]
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")
SlackEventHandler = Callable[[dict[str, Any], str], None]
# (payload, X-GitHub-Delivery) -> None/"processed", "duplicate" (200) or "ignored" (202)
GitHubEventHandler = Callable[[dict[str, Any], str], str | None]


@dataclass(frozen=True)
class CommandContext:
    """What a command needs: the config, the Slack Web API client, the store, the GitHub App."""

    config: Config
    slack: WebClient
    store: Store
    github: GitHubClient


def make_context(
    config: Config,
    slack: WebClient,
    *,
    store: Store | None = None,
    github: GitHubClient | None = None,
) -> CommandContext:
    """Build the per-worker command context. No network I/O (nothing connects until used)."""
    return CommandContext(
        config=config,
        slack=slack,
        store=store if store is not None else Store.from_config(config),
        github=github if github is not None else GitHubClient.from_config(config),
    )


def dispatch(text: str, user_id: str, ctx: CommandContext, claim: str = "") -> Message:
    """Run one `/rocket` command and return the reply (never raises). ``claim`` is the
    delivery's store claim (see app.commands.dispatcher.dispatch)."""
    return _dispatch(text, user_id, ctx, claim)


def slack_event_handlers(ctx: CommandContext) -> Mapping[str, SlackEventHandler]:
    """Slack event type → handler(event, event_id)."""
    from app.onboarding import on_team_join

    def on_mention(event: dict[str, Any], event_id: str) -> None:
        channel, user = event.get("channel"), event.get("user")
        if not channel or not user:
            return
        # Drop the leading mention of the bot; later mentions are arguments (`@bot @ada ++`).
        text = _LEADING_MENTION.sub("", str(event.get("text", "")), count=1)
        reply = dispatch(text, user, ctx, claim=event_id)
        ctx.slack.chat_postEphemeral(
            channel=channel, user=user, text=reply["text"], blocks=reply.get("blocks")
        )

    def on_join(event: dict[str, Any], event_id: str) -> None:
        on_team_join(ctx, event, event_id)

    return {"app_mention": on_mention, "team_join": on_join}


def github_event_handlers(ctx: CommandContext) -> Mapping[str, GitHubEventHandler]:
    """X-GitHub-Event → handler: organization, team and membership (app.teams.webhooks)."""
    from app.teams.webhooks import event_handlers, webhook_client

    return event_handlers(ctx.store, webhook_client(ctx.config), ctx.config)
