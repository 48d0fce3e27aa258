"""The scheduled ``team refresh`` (TEAM_REFRESH_SCHEDULE, daily at 04:00 by default), so drift
from missed webhooks heals without anyone asking.

It runs in the scheduler host worker (app.server.scheduler). Each run builds its own store and
GitHub client and closes them afterwards (a daily job should not keep a pool open). Two instances
(dynos, containers) each run a scheduler, so a run also:

- takes the ``team-refresh`` cross-instance lock (PostgreSQL advisory lock, or a ``flock``
  next to the SQLite file) without waiting — if another instance holds it, this one skips;
- claims ``job:team-refresh:<minute>`` in ``processed_events`` — an instance whose trigger
  fires the same minute after the first one finished skips too.

A refresh is idempotent, so even a second run would change nothing. Failures are logged as
one line and never stop the scheduler.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from app.github import GitHubClient
from app.outside import report_failure
from app.services import ScheduledJob
from app.store import Store
from app.store.locks import once_per_slot
from app.teams.refresh import RefreshReport, refresh
from config import Config

log = logging.getLogger("rocket2.teams.job")

TEAM_REFRESH_JOB = "team-refresh"
LOCK_NAME = "team-refresh"


def refresh_trigger(config: Config) -> CronTrigger | None:
    """The TEAM_REFRESH_SCHEDULE trigger in SCHEDULER_TIMEZONE, or None when it is off."""
    if config.team_refresh_schedule == "off":
        return None
    return CronTrigger.from_crontab(
        config.team_refresh_schedule, timezone=ZoneInfo(config.scheduler_timezone)
    )


def scheduled_refresh(config: Config, now: datetime | None = None) -> RefreshReport | None:
    """One scheduled refresh; the report, or None if skipped (another instance) or failed."""
    store = Store.from_config(config)
    github = GitHubClient.from_config(config)
    slot = f"{TEAM_REFRESH_JOB}:{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M}"
    try:
        with once_per_slot(store, LOCK_NAME, slot) as skip:
            if skip:
                log.info("scheduled team refresh: %s %s; skipped", slot, skip)
                return None
            report = refresh(store, github, config)
    except Exception as exc:  # a failure must not kill the scheduler
        report_failure("scheduled team refresh", exc)
        return None
    finally:
        github.close()
        store.dispose()
    log.info("scheduled team refresh done: %s", report.summary().replace("\n", " "))
    return report


JOB = ScheduledJob(
    TEAM_REFRESH_JOB,
    "team refresh",
    refresh_trigger,
    lambda config, slack, store: scheduled_refresh(config),
)
