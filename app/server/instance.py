"""Per-instance state shared by the Gunicorn master and the workers it forks.

An *instance* is one Gunicorn master and its workers (one dyno, one container). The master
loads the config once (gunicorn.conf.py) and creates a private runtime directory
(``on_starting``); workers inherit both through fork. Workers coordinate through files in that
directory: an exclusive ``flock`` elects the scheduler host, and ``O_EXCL`` markers make
things happen once per instance (the start-up notice, each Slack event id).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from config import Config, load_config
from config.cli import default_env_file

_config: Config | None = None
_runtime_dir: Path | None = None

_claims = 0

SCHEDULER_LOCK = "scheduler.lock"  # the instance's candidate (taken before the database lock)
SCHEDULER_RUNNING = "scheduler.running"  # held only while a scheduler runs: what /healthz reads
PRUNE_EVERY = 64
# tmpfs: lock and marker files never touch the disk. mkdtemp makes a private (0700) directory
# with an unpredictable name there, which is what S108 asks for.
SHM = "/dev/shm"  # noqa: S108


def set_config(config: Config) -> None:
    """Record the config the master validated; forked workers inherit it."""
    global _config
    _config = config


def current_config() -> Config:
    """The config validated by the master, or (outside Gunicorn) one loaded now."""
    if _config is not None:
        return _config
    return load_config(env_file=default_env_file(None))


def create_runtime_dir() -> Path:
    """Create this instance's private runtime directory (in /dev/shm when it exists)."""
    global _runtime_dir
    base = SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None
    _runtime_dir = Path(tempfile.mkdtemp(prefix=f"rocket2-{os.getpid()}-", dir=base))
    return _runtime_dir


def remove_runtime_dir() -> None:
    """Delete the runtime directory (the master calls this on exit)."""
    global _runtime_dir
    if _runtime_dir is not None:
        shutil.rmtree(_runtime_dir, ignore_errors=True)
        _runtime_dir = None


def runtime_dir() -> Path | None:
    """The instance's runtime directory, or None when not running under our Gunicorn config."""
    return _runtime_dir


def first_time(namespace: str, key: str, prune_after: float | None = None) -> bool:
    """True the first time ``key`` is claimed in ``namespace`` in this instance.

    Atomic across workers (an O_EXCL file). With ``prune_after`` (seconds), older markers in the
    namespace are deleted now and then so it stays small. Without a runtime directory (not
    under our Gunicorn config) every key counts as first.
    """
    global _claims
    if _runtime_dir is None:
        return True
    directory = _runtime_dir / _safe(namespace)
    directory.mkdir(exist_ok=True)
    try:
        fd = os.open(directory / _safe(key), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    _claims += 1
    if prune_after is not None and _claims % PRUNE_EVERY == 0:
        _prune(directory, prune_after)
    return True


def forget(namespace: str, key: str) -> None:
    """Give back a claim made by ``first_time`` (the work it guarded failed), if there is one."""
    if _runtime_dir is None:
        return
    with contextlib.suppress(FileNotFoundError):
        (_runtime_dir / _safe(namespace) / _safe(key)).unlink()


_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def _safe(name: str) -> str:
    """A file name for ``name``: itself when short plain ASCII, else a hash of it (so it is
    unique, at most 100 bytes, and never a path)."""
    if _PLAIN.fullmatch(name):
        return name
    return "h-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _prune(directory: Path, max_age: float) -> None:
    cutoff = time.time() - max_age
    for entry in directory.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < cutoff:
                entry.unlink()


class InstanceLock:
    """An exclusive, non-blocking flock on a file in the runtime directory.

    The kernel releases it when the holding process dies, however it dies, so another
    process can take over.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Try to take the lock without waiting; True if this process now holds it."""
        if self._fd is not None:
            return True
        if _runtime_dir is None:
            return False
        fd = os.open(_runtime_dir / self.name, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Release the lock if this process holds it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._fd is not None


def lock_is_held(name: str) -> bool:
    """Whether some live process in this instance holds the lock ``name``."""
    if _runtime_dir is None:
        return False
    path = _runtime_dir / name
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def config_or_none() -> Config | None:
    """The config validated by the master, or None if there is none (yet)."""
    return _config
