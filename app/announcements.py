"""The weekly announcement: every Saturday at noon, one random public channel is featured in
SLACK_ANNOUNCEMENT_CHANNEL. Each day's run is claimed in the store first, so it posts once
however many schedulers run (app.server.scheduler schedules it)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from app.outside import report_failure
from app.services import ScheduledJob
from app.slack.pages import every_page
from app.store import Store

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
    try:
        channels = public_channels(client)
        if not channels:
            log.info("random channel: no public channel to feature")
            return None
        pick = secrets.choice(channels)
        client.chat_postMessage(
            channel=announcement_channel,
            text=f"Featured channel of the week: <#{pick['id']}>. Come say hi!",
        )
    except Exception as exc:  # an outside failure must not kill the scheduler
        report_failure("weekly random-channel post", exc)
        return None
    log.info("random channel: featured %s in %s", pick["id"], announcement_channel)
    return str(pick["id"])


def claim_run(store: Store | None, job: str, timezone: str) -> bool:
    """Claim today's run of ``job`` (the date in ``timezone``); False if it already ran today.

    Without a store (tests of the job alone) every run counts as the first.
    """
    if store is None:
        return True
    key = f"{job}:{datetime.now(ZoneInfo(timezone)).date().isoformat()}"
    with store.unit_of_work() as uow:
        claimed = uow.events.claim("job", key)
    if not claimed:
        log.info("%s: already ran (%s); skipping", job, key)
    return claimed


def run_random_channel(
    store: Store | None, client: WebClient, announcement_channel: str, timezone: str
) -> str | None:
    """The scheduled job: claim today's run, then post a random channel (API after the claim)."""
    try:
        if not claim_run(store, RANDOM_CHANNEL_JOB, timezone):
            return None
    except Exception as exc:
        report_failure("weekly random-channel post (claiming the run)", exc)
        return None
    return post_random_channel(client, announcement_channel)


JOB = ScheduledJob(
    RANDOM_CHANNEL_JOB,
    "weekly random channel",
    lambda config: weekly_trigger(config.scheduler_timezone),
    lambda config, slack, store: run_random_channel(
        store, slack, config.slack_announcement_channel, config.scheduler_timezone
    ),
)
