"""The weekly announcement: every Saturday at noon, one random public channel is featured in
SLACK_ANNOUNCEMENT_CHANNEL. The scheduler (app.server.scheduler) claims each day's run in the
store first, so it posts once however many schedulers run."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from app.feature import Feature, RunSlot, ScheduledJob
from app.services import Services
from app.slack.pages import every_page

log = logging.getLogger("rocket2.scheduler")

RANDOM_CHANNEL_JOB = "random-channel"
CHANNEL_PAGE_SIZE = 200
MAX_PAGES = 100


def weekly_trigger(timezone: str) -> CronTrigger:
    """Every Saturday at 12:00 in ``timezone``."""
    return CronTrigger(day_of_week="sat", hour=12, minute=0, timezone=ZoneInfo(timezone))


def public_channels(client: WebClient) -> list[dict[str, Any]]:
    """Every non-archived public channel, reading every page of conversations.list.

    At most MAX_PAGES pages, so a misbehaving cursor cannot loop forever.
    """
    pages = every_page(
        lambda cursor: client.conversations_list(
            exclude_archived=True, types="public_channel", limit=CHANNEL_PAGE_SIZE, cursor=cursor
        ),
        "channels",
        MAX_PAGES,
        "random channel: conversations.list",
    )
    return [c for c in pages if not c.get("is_archived") and not c.get("is_private")]


def post_random_channel(client: WebClient, announcement_channel: str) -> str | None:
    """Post one random public channel to ``announcement_channel``; return its id, or None."""
    channels = public_channels(client)
    if not channels:
        log.info("random channel: no public channel to feature")
        return None
    pick = secrets.choice(channels)
    client.chat_postMessage(
        channel=announcement_channel,
        text=f"Featured channel of the week: <#{pick['id']}>. Come say hi!",
    )
    log.info("random channel: featured %s in %s", pick["id"], announcement_channel)
    return str(pick["id"])


def run_random_channel(services: Services, now: datetime) -> str | None:
    """The scheduled job (the scheduler runs it once per day): post a random channel."""
    return post_random_channel(services.slack, services.config.slack_announcement_channel)


JOB = ScheduledJob(
    RANDOM_CHANNEL_JOB,
    "weekly random channel",
    lambda config: weekly_trigger(config.scheduler_timezone),
    run_random_channel,
    slot=RunSlot.DAY,
    hold_lock=False,
)
FEATURE = Feature(name="announcements", jobs=(JOB,))
