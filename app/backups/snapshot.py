"""Consistent copies of a live SQLite database through SQLite's online backup API.

``take_backup(engine, directory)`` copies every page in one step, inside one read transaction:
the copy holds exactly what was committed when it began, while writers go on (WAL mode). It is
written to a hidden temporary name, made a self-contained file (journal mode DELETE), synced,
and renamed into place as ``rocket2-<UTC time>-rev<schema revision>.db``, mode 0600 in a 0700
directory, so a half-written backup never looks like one.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from app.store.engine import DATA_DIR_MODE, DATA_FILE_MODE, sqlite_path

BACKUP_NAME = re.compile(r"^rocket2-(\d{8}T\d{6}Z)-rev([A-Za-z0-9_]+)\.db$")
TIME_FORMAT = "%Y%m%dT%H%M%SZ"


class NotASQLiteFile(ValueError):
    """The store is PostgreSQL or in memory: there is no file to back up."""


@dataclass(frozen=True)
class Backup:
    """One backup file: where it is, when it was taken, the schema revision it holds."""

    path: Path
    taken: datetime
    revision: str


def database_file(engine: Engine) -> Path:
    """The SQLite file behind ``engine``; NotASQLiteFile for PostgreSQL or in-memory."""
    path = sqlite_path(engine.url) if engine.dialect.name == "sqlite" else None
    if path is None:
        raise NotASQLiteFile(engine.dialect.name)
    return path


def backup_name(taken: datetime, revision: str) -> str:
    """The file name of a backup taken at ``taken`` (UTC) of schema ``revision``."""
    return f"rocket2-{taken.astimezone(UTC).strftime(TIME_FORMAT)}-rev{revision}.db"


def parse_name(path: Path) -> Backup | None:
    """The Backup a file name describes, or None for any other file."""
    match = BACKUP_NAME.match(path.name)
    if match is None:
        return None
    taken = datetime.strptime(match.group(1), TIME_FORMAT).replace(tzinfo=UTC)
    return Backup(path, taken, match.group(2))


def private_directory(directory: Path) -> None:
    """Create ``directory`` (0700) if missing."""
    directory.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` into the new file ``target`` (0600) with the online
    backup API, as one self-contained file, synced to disk."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DATA_FILE_MODE)
    os.close(fd)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def revision_in(path: Path) -> str:
    """The schema revision stored in the SQLite file ``path`` ("none" when it has none)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            return "none"
        rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        db.close()
    return str(rows[0][0]) if len(rows) == 1 else "none"


def take_backup(engine: Engine, directory: Path, now: datetime | None = None) -> Backup:
    """Back the store up into ``directory``; the Backup made. NotASQLiteFile on PostgreSQL."""
    source = database_file(engine)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    taken = now or datetime.now(UTC)
    private_directory(directory)
    partial = directory / f".rocket2-{taken.strftime(TIME_FORMAT)}.partial"
    partial.unlink(missing_ok=True)
    try:
        copy_database(source, partial)
        revision = revision_in(partial)
        final = directory / backup_name(taken, revision)
        os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    return Backup(final, taken, revision)


def backups_in(directory: Path) -> list[Backup]:
    """The backups in ``directory``, oldest first (an absent directory has none)."""
    if not directory.is_dir():
        return []
    found = [b for b in (parse_name(p) for p in directory.iterdir()) if b is not None]
    return sorted(found, key=lambda b: (b.taken, b.path.name))


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory``; the paths deleted. Files
    that are not backups by their name are never touched."""
    old = backups_in(directory)[:-keep] if keep > 0 else []
    for backup in old:
        backup.path.unlink(missing_ok=True)
    return [b.path for b in old]


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
