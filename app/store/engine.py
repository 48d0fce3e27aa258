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


# PostgreSQL limits, so no thread waits on the store for long (the request path never waits on
# it at all: see app.web.health and app.store.deadline):
# - a new connection gives up after 5 s: a healthy server answers in milliseconds, even across
#   a region; an unreachable one should fail while the user can still be told;
PG_CONNECT_TIMEOUT = 5  # seconds
# - a checkout waits at most 5 s for a free pooled connection: when all 8 are busy that long,
#   the database is stuck, and failing lets the command or webhook say so;
PG_POOL_TIMEOUT = 5.0  # seconds
# - server side, a statement is cancelled after 10 s (ours take milliseconds; the longest, a
#   team refresh's membership rewrite, well under a second), a lock wait after 5 s (two
#   writers on one row should never wait longer; a migration's ALTER gives up rather than
#   queue every request behind it), and a transaction left idle for 60 s is ended (a thread
#   stuck outside the database must not hold row locks);
PG_STATEMENT_TIMEOUT_MS = 10_000
PG_LOCK_TIMEOUT_MS = 5_000
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
# - for a cut network (no RST ever arrives): data sent but not acknowledged for 15 s drops the
#   connection (tcp_user_timeout), and an idle connection is probed after 30 s, every 10 s, 3
#   times (keepalives), so a dead peer is noticed within about a minute instead of the OS's
#   two hours. A *stopped* server still has its kernel acknowledging, so neither fires then;
#   the statement timeout and the bounded waits above cover that case.
PG_TCP_USER_TIMEOUT_MS = 15_000
PG_KEEPALIVES_IDLE = 30
PG_KEEPALIVES_INTERVAL = 10
PG_KEEPALIVES_COUNT = 3
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
            pool_timeout=PG_POOL_TIMEOUT,
            connect_args=pg_connect_args(),
        )
    raise ValueError("DATABASE_URL must use sqlite or postgresql")


def pg_connect_args() -> dict[str, Any]:
    """libpq parameters for every PostgreSQL connection: the limits described above."""
    options = " ".join(
        (
            f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS}",
            f"-c lock_timeout={PG_LOCK_TIMEOUT_MS}",
            f"-c idle_in_transaction_session_timeout={PG_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
        )
    )
    return {
        "connect_timeout": PG_CONNECT_TIMEOUT,
        "options": options,
        "keepalives": 1,
        "keepalives_idle": PG_KEEPALIVES_IDLE,
        "keepalives_interval": PG_KEEPALIVES_INTERVAL,
        "keepalives_count": PG_KEEPALIVES_COUNT,
        "tcp_user_timeout": PG_TCP_USER_TIMEOUT_MS,
    }


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
