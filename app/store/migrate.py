"""Run the Alembic migrations programmatically, safely when several instances start at once.

``upgrade(engine)`` takes a lock first, then upgrades to head inside one transaction:

- PostgreSQL: a session-level advisory lock on a dedicated connection, so every instance that
  starts against the same database waits for the first to finish;
- SQLite: an exclusive ``flock`` on ``<database>.migration.lock`` next to the database file (the
  instances share the file, so they share the lock); in-memory databases need no lock.
(app.store.locks implements both.)

The lock is waited for with a bound (``lock_timeout`` seconds, default 120) and then fails with a
clear message instead of hanging a deploy. A second upgrade finds the schema at head and does
nothing, so running it on every start is idempotent. Finding it there is cheap: one SELECT of the
stored revision against the newest one shipped (read from the migration files' headers), with
no lock taken and Alembic not imported; Alembic is loaded only when there is something to do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from app.store import locks
from app.store.revision import MIGRATIONS_DIR, shipped_head, version_dirs

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger("rocket2.store.migrate")

MIGRATION_LOCK = "migration"
DEFAULT_LOCK_TIMEOUT = 120.0


MigrationLockTimeout = locks.LockTimeout


def alembic_config(engine: Engine | None = None) -> AlembicConfig:
    """An Alembic Config pointing at the packaged migrations, the store's and the feature
    packages' (no alembic.ini needed)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(d) for d in version_dirs()))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of Rocket 2 (as Alembic computes it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - there is always at least one revision
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """The one revision in the database's ``alembic_version`` table, read with one SELECT; None
    for an empty database, or when the table holds anything but exactly one row."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def is_current(engine: Engine) -> bool:
    """True when the database is already at the newest shipped revision (cheap: no Alembic).
    False when it cannot tell (the database cannot be read): the full upgrade then reports
    the cause, under the lock, as it does for every other failure."""
    head = shipped_head()
    if head is None:
        return False
    try:
        return stored_revision(engine) == head
    except (SQLAlchemyError, OSError):
        return False


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
    """Upgrade the database to ``revision`` under the migration lock; idempotent.

    Already at head: nothing is locked and Alembic is not imported.
    """
    if revision == "head" and is_current(engine):
        head = shipped_head()
        log.info("database already at %s", head)
        return UpgradeResult(head, head)
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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
