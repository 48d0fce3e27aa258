"""Build the SQLAlchemy engine from DATABASE_URL.

SQLite (the default, ``sqlite:///data/rocket2.db``): the file's directory is created if missing
(mode 0700; the server's umask 077 makes the database 0600), and every connection gets WAL
mode, foreign keys on and a busy timeout. pysqlite's own implicit transaction handling is
switched off and every transaction starts with ``BEGIN IMMEDIATE``, so two writers (two
Gunicorn workers, two containers on one volume) queue on the busy timeout instead of failing
half-way with "database is locked".

PostgreSQL goes through psycopg 3 (config already turned ``postgres://`` into
``postgresql+psycopg://``); connections are checked before use (``pool_pre_ping``) because
Heroku's database drops idle connections, and the pool is bounded (see PG_POOL_SIZE).

Keep units of work short: never hold one open across a GitHub or Slack call (call the API
first, then open the unit of work), since on SQLite every transaction takes the write lock.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000
# At most 8 connections per process: two Gunicorn workers stay within the 20 connections of
# Heroku's smallest PostgreSQL plans, with room for `rocket2 db upgrade` and a psql session.
PG_POOL_SIZE = 4
PG_MAX_OVERFLOW = 4


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; map postgres:// and postgresql:// to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database)


PG_CONNECT_TIMEOUT = 10  # seconds
DATA_DIR_MODE = 0o700  # the SQLite directory holds member e-mails: the server's user only
DATA_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")

log = logging.getLogger("rocket2.store")


def make_private(database: Path) -> None:
    """Make an existing SQLite database (and its -wal/-shm/-journal) 0600 when it is ours and
    others can read it, as a database from before umask 077 is; warn when its directory is
    open to others (the directory is never changed: it may be shared, like /tmp)."""
    for suffix in SQLITE_SIDE_FILES:
        file = database.with_name(database.name + suffix)
        try:
            info = file.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                file.chmod(DATA_FILE_MODE)
                log.warning("%s was readable by others; it is now 0600", file.name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not make %s private: %s", file.name, exc.strerror)
    try:
        mode = database.parent.stat().st_mode
    except OSError:
        return
    if mode & 0o077 and not mode & stat.S_ISVTX:
        log.warning(
            "the database directory %s is open to others: chmod 700 it", database.parent.name
        )


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (SQLite or PostgreSQL), configured as described above."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, echo)
    if backend == "postgresql":
        return create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_MAX_OVERFLOW,
            # An unreachable server fails in seconds, not after the OS's TCP timeout.
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
        )
    raise ValueError("DATABASE_URL must use sqlite or postgresql")


def engine_from_config(config: Config) -> Engine:
    """Create the engine for the configured DATABASE_URL."""
    return make_engine(config.database_url.reveal())


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    path = sqlite_path(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if path is None:
        # One shared connection, or every checkout would see a different empty database.
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        path.parent.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
        make_private(path)
        kwargs.update(connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if path is not None:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
