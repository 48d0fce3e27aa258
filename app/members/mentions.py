"""``@Rocket 2 …`` in a channel: the words after the mention run as a command; the reply is an
ephemeral message to the member who wrote it."""

from __future__ import annotations

import re

from app.services import Services
from app.slack.payloads import AppMention

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*")


def on_mention(services: Services, event: AppMention, event_id: str) -> None:
    """Handle one checked ``app_mention`` (its event id is the claim of anything it counts)."""
    if not event.channel or not event.user:
        return
    # Drop the leading mention of the bot; later mentions are arguments (`@bot @ada ++`).
    text = _LEADING_MENTION.sub("", event.text, count=1)
    reply = services.commands.dispatch(text, event.user, services, claim=event_id)
    services.slack.chat_postEphemeral(
        channel=event.channel, user=event.user, text=reply["text"], blocks=reply.get("blocks")
    )
