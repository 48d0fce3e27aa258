"""Onboarding: Slack's ``team_join`` creates the newcomer's record and sends a welcome DM.

- The record is created only if absent; an existing one is never overwritten. Name, e-mail
  and photo come from the event's profile.
- Each ``event_id`` is claimed in the store (``processed_events``) in the same transaction as
  the record, so a Slack retry — to this instance or another one sharing the database — is
  processed once. If the transaction fails, the claim goes with it and a retry can succeed.
- The DM is sent after the commit (never inside a transaction): ``chat.postMessage`` to the
  user id, and if Slack refuses that, ``conversations.open`` then ``chat.postMessage`` to the
  opened channel. A DM that cannot be sent is logged, once, and the record stays.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from app import sizes
from app.logs import log_id
from app.outside import report_failure
from app.slack import blocks
from app.slack.ids import SLACK_USER_ID
from app.slack.payloads import Member, Profile, TeamJoin

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.onboarding")

WELCOME_TITLE = "Welcome to the club!"
WELCOME = (
    "Hi <@{user}>, I'm Rocket 2, the club's bot. To join the club's GitHub organisation "
    "({org}), link your GitHub account (GitHub confirms it is yours):\n"
    "`/rocket user link`\n"
    "You can add more about yourself with `/rocket user edit --name`, `--major`, `--pos` and "
    "`--bio`, and "
    "`/rocket help` lists everything I can do."
)


def profile_fields(user: Member) -> dict[str, str]:
    """Name, e-mail and photo from a Slack user object, cut to the columns' sizes."""
    profile = user.profile or Profile()
    name = user.real_name or profile.real_name or profile.display_name or ""
    image = profile.image_192 or profile.image_72 or ""
    return {
        "name": name[: sizes.NAME],
        "email": (profile.email or "")[: sizes.EMAIL],
        "image_url": image[: sizes.URL] if image.startswith("https://") else "",
    }


def on_team_join(services: Services, event: TeamJoin, event_id: str) -> None:
    """Handle one checked ``team_join`` (see the module docstring)."""
    user, slack_id = event.user, event.user.id
    if not SLACK_USER_ID.match(slack_id):
        log.warning("team_join %s with an unusable user id; ignored", log_id(event_id))
        return
    if user.is_bot or user.deleted:
        log.info("team_join %s: %s is a bot or deleted; no record", log_id(event_id), slack_id)
        return
    with services.store.unit_of_work() as uow:
        if event_id and not uow.events.claim("slack", event_id):
            log.info("team_join %s already processed; skipping", log_id(event_id))
            return
        _record, created = uow.users.create_if_absent(slack_id, **profile_fields(user))
    log.info(
        "team_join %s: %s %s",
        log_id(event_id),
        slack_id,
        "recorded" if created else "already recorded",
    )
    send_welcome(services, slack_id)


def welcome_message(slack_id: str, org: str) -> blocks.Message:
    """The onboarding DM."""
    text = WELCOME.format(user=slack_id, org=blocks.escape(org))
    return blocks.message(text, [blocks.header(WELCOME_TITLE), blocks.section(text)])


def send_welcome(ctx: Services, slack_id: str) -> bool:
    """DM the welcome; True if Slack accepted it. Logs (never raises) on failure."""
    message = welcome_message(slack_id, ctx.config.github_org_name)
    try:
        try:
            ctx.slack.chat_postMessage(
                channel=slack_id, text=message["text"], blocks=message["blocks"]
            )
        except SlackApiError:
            opened = ctx.slack.conversations_open(users=slack_id)
            channel = (opened.get("channel") or {}).get("id")
            if not channel:
                raise
            ctx.slack.chat_postMessage(
                channel=channel, text=message["text"], blocks=message["blocks"]
            )
    except Exception as exc:
        report_failure(f"welcome DM to {slack_id}", exc)
        return False
    log.info("welcome DM sent to %s", slack_id)
    return True
