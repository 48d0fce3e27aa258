"""Run the Alembic migrations programmatically, safely when several instances start at once.

``upgrade(engine)`` takes a lock first, then upgrades to head inside one transaction:

- PostgreSQL: a session-level advisory lock on a dedicated connection, so every instance that
  starts against the same database waits for the first to finish;
- SQLite: an exclusive ``flock`` on ``<database>.migration.lock`` next to the database file (the
  instances share the file, so they share the lock); in-memory databases need no lock.
(app.store.locks implements both.)

The lock is waited for with a bound (``lock_timeout`` seconds, default 120) and then fails with a
clear message instead of hanging a deploy. A second upgrade finds the schema at head and does
nothing, so running it on every start is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from app.store import locks

log = logging.getLogger("rocket2.store.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = "migration"
DEFAULT_LOCK_TIMEOUT = 120.0


MigrationLockTimeout = locks.LockTimeout


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    """An Alembic Config pointing at the packaged migrations (no alembic.ini needed)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of Rocket 2."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - there is always at least one revision
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class UpgradeResult:
    """What ``upgrade`` did: the revision before and after (None = empty database)."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        """True if at least one migration ran."""
        return self.before != self.after


def upgrade(
    engine: Engine, revision: str = "head", lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> UpgradeResult:
    """Upgrade the database to ``revision`` under the migration lock; idempotent."""
    with migration_lock(engine, lock_timeout):
        cfg = alembic_config(engine)
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
            after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after)
    else:
        log.info("database already at %s", after)
    return UpgradeResult(before, after)


@contextmanager
def migration_lock(engine: Engine, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the cross-instance migration lock for the duration of the block."""
    with locks.hold(engine, MIGRATION_LOCK, timeout):
        yield
