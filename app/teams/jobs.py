"""The scheduled ``team refresh`` (TEAM_REFRESH_SCHEDULE, daily at 04:00 by default), so drift
from missed webhooks heals without anyone asking. The scheduler (app.server.scheduler) runs it
once per minute slot across instances and reports a failure as one line; a refresh is
idempotent, so even a second run would change nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from app.feature import ScheduledJob
from app.services import Services
from app.teams.refresh import RefreshReport, refresh
from config import Config

log = logging.getLogger("rocket2.teams.job")

TEAM_REFRESH_JOB = "team-refresh"


def refresh_trigger(config: Config) -> CronTrigger | None:
    """The TEAM_REFRESH_SCHEDULE trigger in SCHEDULER_TIMEZONE, or None when it is off."""
    if config.team_refresh_schedule == "off":
        return None
    return CronTrigger.from_crontab(
        config.team_refresh_schedule, timezone=ZoneInfo(config.scheduler_timezone)
    )


def run_refresh(services: Services, now: datetime) -> RefreshReport:
    """One scheduled refresh (the scheduler runs it once per slot); its report."""
    report = refresh(services.store, services.github, services.config)
    log.info("scheduled team refresh done: %s", report.summary().replace("\n", " "))
    return report


JOB = ScheduledJob(TEAM_REFRESH_JOB, "team refresh", refresh_trigger, run_refresh)
