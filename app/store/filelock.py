"""The SQLite store's file locks, with the standard library alone, so Gunicorn's master can
hold the ``server`` lock before it knows whether it needs SQLAlchemy at all.

``lock_path(database, name)`` is ``<database>.<name>.lock`` next to the database file.
``share_file(path, name, timeout)`` holds it with ``flock(LOCK_SH)`` until the returned file
is closed (or the process ends), waiting at most ``timeout`` seconds while someone holds it
exclusively, then raising LockTimeout. Every server and Litestream hold ``SERVER_LOCK`` so;
``db restore`` takes it exclusively (decision 0027).
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import BinaryIO

SERVER_LOCK = "server"
POLL = 0.2  # seconds between tries


class LockTimeout(RuntimeError):
    """Another instance held the lock longer than the timeout."""


def lock_path(database: Path, name: str) -> Path:
    """The file of lock ``name`` next to the SQLite database file ``database``."""
    return database.with_name(f"{database.name}.{name}.lock")


def share_file(path: Path, name: str, timeout: float) -> BinaryIO:
    """Hold the lock file ``path`` (lock ``name``) shared until the returned file is closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - the caller keeps it open while it runs
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise LockTimeout(
                    f"the {name} lock was held exclusively for over {timeout:.0f}s"
                ) from None
            time.sleep(POLL)
