"""The scheduled ``db backup`` (BACKUP_DIR set, BACKUP_SCHEDULE daily at 03:30 by default), for
deploys without an object store: a snapshot into the mounted directory, keeping the newest
BACKUP_KEEP.

The scheduler (app.server.scheduler) runs it once per minute slot across instances, holding the
``backup`` lock, so two instances on one volume (a rolling deploy) back up once; a failure is
one log line. On PostgreSQL the job is off (the platform or pg_dump backs it up).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from app.backups.snapshot import Backup, prune, take_backup
from app.feature import ScheduledJob
from app.services import Services
from config import Config

log = logging.getLogger("rocket2.backups.job")

BACKUP_JOB = "db-backup"


def backup_trigger(config: Config) -> CronTrigger | None:
    """The BACKUP_SCHEDULE trigger when BACKUP_DIR is set and the store is SQLite, else None."""
    sqlite = config.database_url.reveal().startswith("sqlite")
    if not config.backup_dir or config.backup_schedule == "off" or not sqlite:
        return None
    return CronTrigger.from_crontab(
        config.backup_schedule, timezone=ZoneInfo(config.scheduler_timezone)
    )


def run_backup(services: Services, now: datetime) -> Backup:
    """One scheduled backup (named by ``now``) and prune; the scheduler runs it once per slot."""
    config = services.config
    directory = Path(config.backup_dir)
    backup = take_backup(services.store.engine, directory, now)
    removed = prune(directory, config.backup_keep)
    log.info(
        "scheduled backup: %s (schema %s); %d older removed, %d kept",
        backup.path.name,
        backup.revision,
        len(removed),
        config.backup_keep,
    )
    return backup


JOB = ScheduledJob(BACKUP_JOB, "database backup", backup_trigger, run_backup, lock="backup")
