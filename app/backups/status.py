"""Whether the SQLite store is protected: for ``rocket2 doctor``.

``protection_warning(config)`` is None when the store is PostgreSQL (the platform's backups or
pg_dump are the operator's), when replication is on (REPLICA_URL), or when BACKUP_DIR holds a
backup younger than RECENT; otherwise one sentence saying what is missing and how to fix it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.backups.snapshot import backups_in
from config import Config

RECENT = timedelta(hours=36)  # a daily backup, with room for one late run


def protection_warning(config: Config, now: datetime | None = None) -> str | None:
    """One warning when a SQLite deploy has neither replication nor a recent backup, else None."""
    if not config.database_url.reveal().startswith("sqlite") or config.replica_url:
        return None
    advice = (
        "set REPLICA_URL (continuous replication, the compose file's litestream service) or "
        "BACKUP_DIR (a daily `rocket2 db backup`); see docs/operators/backups.md"
    )
    if not config.backup_dir:
        return f"the SQLite database is neither replicated nor backed up: {advice}"
    found = backups_in(Path(config.backup_dir))
    if not found:
        return f"no backup in BACKUP_DIR yet, and no replication: {advice}"
    age = (now or datetime.now(UTC)) - found[-1].taken
    if age > RECENT:
        hours = int(age.total_seconds() // 3600)
        return f"the newest backup in BACKUP_DIR is {hours} hours old, and no replication: {advice}"
    return None
