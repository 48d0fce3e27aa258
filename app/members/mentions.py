"""``@Rocket 2 …`` in a channel: the words after the mention run as a command; the reply is an
ephemeral message to the member who wrote it."""

from __future__ import annotations

import re
from typing import Any

from app.services import Services
from app.slack.commands.dispatch import dispatch

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")


def on_mention(ctx: Services, event: dict[str, Any], event_id: str) -> None:
    """Handle one checked ``app_mention`` (its event id is the claim of anything it counts)."""
    channel, user = event.get("channel"), event.get("user")
    if not channel or not user:
        return
    # Drop the leading mention of the bot; later mentions are arguments (`@bot @ada ++`).
    text = _LEADING_MENTION.sub("", str(event.get("text", "")), count=1)
    reply = dispatch(text, user, ctx, claim=event_id)
    ctx.slack.chat_postEphemeral(
        channel=channel, user=user, text=reply["text"], blocks=reply.get("blocks")
    )
