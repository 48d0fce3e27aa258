"""``db restore``: put a backup in place of the SQLite store, safely.

``restore(engine, source)``:

1. checks ``source`` is a Rocket 2 database: a SQLite file that passes ``PRAGMA quick_check``,
   holds ``users`` and ``teams``, and whose ``alembic_version`` is a revision this version
   ships (so a backup from a newer release is refused, not half-understood);
2. refuses while a server uses the store: every Gunicorn master and the Litestream service hold
   the ``server`` lock shared (app.store.locks.share), so an exclusive try fails while any runs,
   in this container or another one on the same volume;
3. copies the current database aside (online backup API: the copy includes its WAL) as
   ``<name>.replaced-<UTC time>.db``, copies ``source`` into place, and removes the old
   ``-wal``/``-shm``;
4. migrates the restored database forward, and counts its members and teams.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from app.backups.snapshot import TIME_FORMAT, copy_database, database_file
from app.store import locks
from app.store.engine import make_private
from app.store.filelock import SERVER_LOCK
from app.store.migrate import MIGRATION_LOCK, UpgradeResult, upgrade
from app.store.revision import shipped_revisions

REQUIRED_TABLES = ("alembic_version", "users", "teams")
LOCK_TIMEOUT = 30.0


class RestoreRefused(RuntimeError):
    """The restore did not start; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    upgrade: UpgradeResult
    replaced: Path | None
    members: int
    teams: int


def check_backup(source: Path) -> str:
    """The schema revision of the Rocket 2 database ``source``; RestoreRefused if it is not one."""
    if not source.is_file():
        raise RestoreRefused(f"{source} is not a file")
    try:
        db = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            missing = [t for t in REQUIRED_TABLES if t not in tables]
            if missing:
                raise RestoreRefused(
                    f"{source} is not a Rocket 2 database (no {', '.join(missing)} table)"
                )
            revisions = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{source} is not a Rocket 2 database (SQLite: {exc})") from None
    if not ok or ok[0] != "ok":
        raise RestoreRefused(f"{source} fails SQLite's integrity check: {ok[0] if ok else '?'}")
    if len(revisions) != 1 or revisions[0] not in shipped_revisions():
        raise RestoreRefused(
            f"{source} has schema revision {revisions or 'none'}, which this version of Rocket 2 "
            "does not know (a backup from a newer release needs that release)"
        )
    return str(revisions[0])


IN_USE = (
    "a Rocket 2 server or the Litestream service is using {database}. Stop them first: "
    "`docker compose stop rocket2 litestream` on the VM (then run the restore with "
    "`docker compose run --rm --no-deps rocket2 rocket2 db restore PATH`), or stop the "
    "`gunicorn -c gunicorn.conf.py` process; start them again afterwards."
)


def restore(engine: Engine, source: Path, now: datetime | None = None) -> Restored:
    """Restore ``source`` over the engine's SQLite file (see the module's steps)."""
    database = database_file(engine)
    check_backup(source)
    if source.resolve() == database.resolve():
        raise RestoreRefused("the backup is the database itself")
    with locks.try_hold(engine, SERVER_LOCK) as free:
        if not free:
            raise RestoreRefused(IN_USE.format(database=database))
        engine.dispose()
        with locks.hold(engine, MIGRATION_LOCK, LOCK_TIMEOUT):
            replaced = _swap_in(database, source, now or datetime.now(UTC))
        engine.dispose()
        result = upgrade(engine, lock_timeout=LOCK_TIMEOUT)
        members, teams = _counts(engine)
    return Restored(result, replaced, members, teams)


def _swap_in(database: Path, source: Path, now: datetime) -> Path | None:
    """Copy ``source`` to ``database``, keeping the current one aside; the aside path."""
    incoming = database.with_name(f".{database.name}.restoring")
    incoming.unlink(missing_ok=True)
    copy_database(source, incoming)
    replaced = None
    if database.exists():
        replaced = database.with_name(f"{database.name}.replaced-{now.strftime(TIME_FORMAT)}.db")
        copy_database(database, replaced)
    for suffix in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    os.replace(incoming, database)
    make_private(database)
    return replaced


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        members = connection.scalar(text("SELECT count(*) FROM users"))
        teams = connection.scalar(text("SELECT count(*) FROM teams"))
    return int(members or 0), int(teams or 0)
