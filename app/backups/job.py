"""The scheduled ``db backup`` (BACKUP_DIR set, BACKUP_SCHEDULE daily at 03:30 by default), for
deploys without an object store: a snapshot into the mounted directory, keeping the newest
BACKUP_KEEP.

Only the scheduler's host runs jobs (app.server.scheduler), and a run also takes the ``backup``
cross-instance lock without waiting and claims ``job:db-backup:<minute>`` in the store, so two
instances on one volume (a rolling deploy) back up once. Failures are one log line and never stop
the scheduler. On PostgreSQL the job is off (the platform or pg_dump backs it up).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from app.backups.snapshot import Backup, prune, take_backup
from app.outside import report_failure
from app.services import ScheduledJob
from app.store import Store
from app.store.locks import once_per_slot
from config import Config

log = logging.getLogger("rocket2.backups.job")

BACKUP_JOB = "db-backup"
LOCK_NAME = "backup"


def backup_trigger(config: Config) -> CronTrigger | None:
    """The BACKUP_SCHEDULE trigger when BACKUP_DIR is set and the store is SQLite, else None."""
    sqlite = config.database_url.reveal().startswith("sqlite")
    if not config.backup_dir or config.backup_schedule == "off" or not sqlite:
        return None
    return CronTrigger.from_crontab(
        config.backup_schedule, timezone=ZoneInfo(config.scheduler_timezone)
    )


def scheduled_backup(config: Config, now: datetime | None = None) -> Backup | None:
    """One scheduled backup and prune; the Backup, or None if skipped or failed."""
    store = Store.from_config(config)
    now = now or datetime.now(UTC)
    slot = f"{BACKUP_JOB}:{now:%Y-%m-%dT%H:%M}"
    directory = Path(config.backup_dir)
    try:
        with once_per_slot(store, LOCK_NAME, slot) as skip:
            if skip:
                log.info("scheduled backup: %s %s; skipped", slot, skip)
                return None
            backup = take_backup(store.engine, directory, now)
            removed = prune(directory, config.backup_keep)
    except Exception as exc:  # a failure must not kill the scheduler
        report_failure("scheduled database backup", exc)
        return None
    finally:
        store.dispose()
    log.info(
        "scheduled backup: %s (schema %s); %d older removed, %d kept",
        backup.path.name,
        backup.revision,
        len(removed),
        config.backup_keep,
    )
    return backup


JOB = ScheduledJob(
    BACKUP_JOB,
    "database backup",
    backup_trigger,
    lambda config, slack, store: scheduled_backup(config),
)
