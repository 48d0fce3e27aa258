"""Cross-instance locks on the database, for migrations and "run once across instances" work.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated connection,
  keyed by a 63-bit hash of the lock's name. Advisory locks are per database, so two apps on one
  server do not block each other.
- SQLite file: an exclusive ``flock`` on ``<database>.<name>.lock`` next to the database; every
  process using the file (Gunicorn workers, containers sharing the volume) shares it.
- In-memory SQLite: a single process by definition; the lock is always granted.

``share(engine, name, timeout)`` takes a SQLite lock *shared* for as long as the returned file
stays open (every running server holds ``server`` so, and ``db restore`` refuses while any does:
an exclusive try then fails, across containers sharing the volume, since they share one kernel);
app.store.filelock does it with the standard library alone, for Gunicorn's master.

``hold(engine, name, timeout)`` waits (bounded) and raises LockTimeout; ``try_hold(engine, name)``
returns at once, yielding whether this process got the lock; ``try_lease(engine, name)`` does
the same but yields a Lease (or None), whose ``still_held()`` says whether the lock is still
ours: a PostgreSQL restart or a dropped connection takes a session lock away silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import Connection, Engine, text

from app.store.engine import sqlite_path
from app.store.filelock import LockTimeout as LockTimeout
from app.store.filelock import lock_path, share_file

if TYPE_CHECKING:
    from app.store.session import Store

log = logging.getLogger("rocket2.store.locks")
_POLL = 0.2


def lock_key(name: str) -> int:
    """The advisory-lock key for ``name``: a stable signed 63-bit integer."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


def lock_file(engine: Engine, name: str) -> Path | None:
    """The lock file for ``name`` next to a SQLite database, or None (in memory, PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return None
    path = sqlite_path(engine.url)
    return None if path is None else lock_path(path, name)


@contextmanager
def hold(engine: Engine, name: str, timeout: float) -> Iterator[None]:
    """Hold lock ``name`` for the block, waiting at most ``timeout`` seconds for it."""
    deadline = time.monotonic() + timeout
    with _lock(engine, name) as attempt:
        waited = False
        while not attempt():
            if not waited:
                log.warning(
                    "another instance holds the %s lock; waiting up to %.0fs", name, timeout
                )
                waited = True
            if time.monotonic() > deadline:
                raise LockTimeout(f"another instance held the {name} lock for over {timeout:.0f}s")
            time.sleep(_POLL)
        yield


def share(engine: Engine, name: str, timeout: float) -> BinaryIO | None:
    """Hold lock ``name`` shared until the returned file is closed (or the process ends),
    waiting at most ``timeout`` seconds while someone holds it exclusively; None when the
    database is not a SQLite file. Raises LockTimeout."""
    path = lock_file(engine, name)
    return None if path is None else share_file(path, name, timeout)


@contextmanager
def try_hold(engine: Engine, name: str) -> Iterator[bool]:
    """Try lock ``name`` once; yield True if held for the block, False if another instance has
    it (the block should then skip its work)."""
    with _lock(engine, name) as attempt:
        yield attempt()


class Lease:
    """A held lock that can be re-checked (see try_lease)."""

    def __init__(self, attempt: _TryLock) -> None:
        self._attempt = attempt

    def still_held(self) -> bool:
        """Whether the lock is still held; raises if the database cannot answer (treat that as
        lost). PostgreSQL: this session still holds the advisory lock in pg_locks (a
        reconnected session would not). A file lock cannot be lost while the file is open."""
        return self._attempt.still_held()


@contextmanager
def try_lease(engine: Engine, name: str) -> Iterator[Lease | None]:
    """Try lock ``name`` once; yield a Lease if held for the block, else None."""
    with _lock(engine, name) as attempt:
        yield Lease(attempt) if attempt() else None


@contextmanager
def _lock(engine: Engine, name: str) -> Iterator[_TryLock]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            attempt = _PgTry(connection, lock_key(name))
            try:
                yield attempt
            finally:
                attempt.release()
        return
    path = lock_file(engine, name)
    if path is None:
        yield _Always()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        attempt_file = _FileTry(handle.fileno())
        try:
            yield attempt_file
        finally:
            attempt_file.release()


class _TryLock:
    """Tries the lock once per call; remembers success so the exit can release it."""

    held = False

    def __call__(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def release(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def still_held(self) -> bool:
        """Whether the lock taken by the last successful call is still held."""
        return self.held


class _Always(_TryLock):
    def __call__(self) -> bool:
        self.held = True
        return True

    def release(self) -> None:
        self.held = False


class _PgTry(_TryLock):
    def __init__(self, connection: Connection, key: int) -> None:
        self.connection = connection
        self.key = key

    def __call__(self) -> bool:
        got = self.connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
        ).scalar_one()
        self.connection.commit()
        self.held = bool(got)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self.connection.commit()

    def still_held(self) -> bool:
        # A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32
        # bits) and objsubid 1.
        found = self.connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
                " AND classid::bigint = :high AND objid::bigint = :low)"
            ),
            {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF},
        ).scalar_one()
        self.connection.commit()
        self.held = bool(self.held and found)
        return self.held


class _FileTry(_TryLock):
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def release(self) -> None:
        if self.held:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False


@contextmanager
def once_per_slot(store: Store, lock_name: str | None, slot: str) -> Iterator[str | None]:
    """A scheduled job's run-once check: hold ``lock_name`` without waiting (None: no lock),
    then claim ``job:<slot>`` in processed_events. Yields None when this instance runs the job
    (the lock held for the block), else why it skips: "running elsewhere" or "already ran"."""
    with contextlib.ExitStack() as stack:
        if lock_name is not None and not stack.enter_context(try_hold(store.engine, lock_name)):
            yield "running elsewhere"
            return
        with store.unit_of_work() as uow:
            claimed = uow.events.claim("job", slot)
        yield None if claimed else "already ran"
