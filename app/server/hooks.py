"""What gunicorn.conf.py's hooks do. Kept here so it is typed, linted and importable.

Master: load the config (when gunicorn.conf.py is executed, at start and on every HUP),
refuse to start on a bad one (``on_starting``, before any socket or worker exists), bring the
database schema up to date (``migrate.upgrade``: one SELECT when it is current, else Alembic,
in a forked child, under the store's cross-instance lock, so two instances starting at once
migrate once; a
database failure stops the start with a clear message; before that, hold the ``server`` lock
shared (before even the driver's look at the schema) and restore an absent SQLite file from
REPLICA_URL, app.backups.litestream), create the instance runtime directory, and remove it
on exit.

Workers: after the app is loaded, freeze its objects out of the cyclic GC, start the scheduler
election, install the SIGUSR2 "run scheduled jobs now" handler, and send the start-up notice
if no worker of this instance has. On TERM (Gunicorn's gthread worker then stops accepting,
serves its open connections for a moment and returns from its loop) the acknowledged Slack
work is drained within graceful_timeout (app.server.drain); ``worker_exit`` waits for that,
and exits at once if a given-up command is still stuck in a call, instead of waiting for
Gunicorn's SIGKILL.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from app.server import instance
from config import Config, ConfigError, load_config
from config.cli import EXIT_CONFIG_ERROR, default_env_file

EXIT_DATABASE_ERROR = 3

log = logging.getLogger("rocket2.server")

_services: dict[str, Any] = {}


def load() -> tuple[Config | None, ConfigError | None]:
    """Load the config for gunicorn.conf.py; on a problem, keep the last good one (if any).

    Never raises for a bad config: raising in the config file would make Gunicorn print a
    traceback that ends in the problem list (and, on HUP, kill a running server).
    """
    try:
        config = load_config(env_file=default_env_file(None))
    except ConfigError as exc:
        return instance.config_or_none(), exc
    instance.set_config(config)
    return config, None


def on_starting(server: Any, error: ConfigError | None) -> None:
    """Master, before binding or forking: stop at once on a bad config, else set up."""
    if error is not None:
        sys.stderr.write(
            f"{error}\nRocket 2 did not start. Check it with `rocket2 config check`.\n"
        )
        sys.stderr.flush()
        raise SystemExit(EXIT_CONFIG_ERROR)
    config = instance.current_config()
    migrate_or_exit(server, config)
    path = instance.create_runtime_dir()
    server.log.info(
        "Rocket 2 starting: %d worker(s), runtime dir %s, GitHub key %s",
        config.web_concurrency,
        path,
        config.github_key.fingerprint,
    )


START_LOCK_TIMEOUT = 30.0  # seconds to wait for another instance's migration at start


def migrate_or_exit(server: Any, config: Config) -> None:
    """Upgrade the schema before serving (app.store.migrate logs what it did); on failure say
    why (no values) and exit non-zero.

    The ``server`` lock is held shared first, for the master's life (its workers inherit it):
    `db restore` refuses while any server holds it, and a start waits (bounded) for a running
    restore. A schema already current is then found through the driver alone
    (app.store.revision), with no SQLAlchemy. Otherwise Alembic runs in a forked child, so
    the master (and every worker it forks) never carries Alembic, nor the ORM, nor the engine's
    connections (decision 0034); the master waits for it and stops as it does.
    """
    from app.store.revision import driver_is_current, shipped_head

    url = config.database_url.reveal()
    _share_server_lock(url)
    if driver_is_current(url):
        logging.getLogger("rocket2.store.migrate").info("database already at %s", shipped_head())
        return
    if "server-lock" not in _services and url.startswith("sqlite"):
        _share_server_lock_through_engine(config)  # a SQLite URL not read plainly above
    _in_child(lambda: _migrate(config))


def _migrate(config: Config) -> None:
    """Restore an empty SQLite store from REPLICA_URL, then upgrade it (the forked child)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.backups.litestream import ReplicationError, restore_if_empty
    from app.store.errors import store_cause
    from app.store.migrate import MigrationLockTimeout, upgrade

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up noise
    engine = _engine_or_stop(config)
    try:
        restore_if_empty(config, engine)
        # Bounded well inside Heroku's 60 s to bind $PORT (its release phase migrates first,
        # so this finds the schema current at once there).
        upgrade(engine, lock_timeout=START_LOCK_TIMEOUT)
    except MigrationLockTimeout:
        _stop("another instance held the migration lock, or a `db restore` ran, for too long")
    except ReplicationError as exc:
        _stop(f"the database could not be restored from REPLICA_URL: {exc}")
    except SQLAlchemyError as exc:
        _stop(f"the database migration failed: {store_cause(exc)} ({_kind(exc)})")
    except OSError as exc:
        _stop(f"the database file could not be used: {store_cause(exc) or type(exc).__name__}")
    finally:
        engine.dispose()


def _engine_or_stop(config: Config) -> Any:
    from app.store.engine import engine_from_config
    from app.store.errors import store_cause

    try:
        return engine_from_config(config)
    except Exception as exc:
        _stop(f"the database could not be opened: {store_cause(exc) or type(exc).__name__}")


def _share_server_lock_through_engine(config: Config) -> None:
    """Hold the ``server`` lock of a SQLite URL with options, found through SQLAlchemy."""
    from app.store.filelock import SERVER_LOCK, LockTimeout
    from app.store.locks import share

    engine = _engine_or_stop(config)
    try:
        _services["server-lock"] = share(engine, SERVER_LOCK, START_LOCK_TIMEOUT)
    except LockTimeout:
        _stop("another instance held the migration lock, or a `db restore` ran, for too long")
    except OSError as exc:
        from app.store.errors import store_cause

        _stop(f"the database file could not be used: {store_cause(exc) or type(exc).__name__}")
    finally:
        engine.dispose()


def _in_child(work: Callable[[], None]) -> None:
    """Run ``work`` in a forked child and wait; exit as the child did when it failed."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into Gunicorn
        code = 0
        try:
            work()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("the database migration failed")
            code = EXIT_DATABASE_ERROR
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(code if code > 0 else EXIT_DATABASE_ERROR)


def _share_server_lock(url: str) -> None:
    """Hold the SQLite store's ``server`` lock shared through the standard library alone, when
    ``url`` names its file plainly (PostgreSQL and in-memory stores have none)."""
    from app.store.filelock import SERVER_LOCK, LockTimeout, lock_path, share_file
    from app.store.revision import sqlite_file

    database = sqlite_file(url)
    if database is None:
        return
    try:
        held = share_file(lock_path(database, SERVER_LOCK), SERVER_LOCK, START_LOCK_TIMEOUT)
    except LockTimeout:
        _stop("another instance held the migration lock, or a `db restore` ran, for too long")
    except OSError as exc:
        from app.store.errors import store_cause

        _stop(f"the database file could not be used: {store_cause(exc) or type(exc).__name__}")
    _services["server-lock"] = held


def _kind(exc: Exception) -> str:
    """The error's class and the driver, e.g. ``OperationalError from psycopg``."""
    orig = getattr(exc, "orig", None)
    driver = type(orig).__module__.split(".")[0] if orig is not None else ""
    return type(exc).__name__ + (f" from {driver}" if driver else "")


def _stop(reason: str) -> NoReturn:
    sys.stderr.write(
        f"Rocket 2 did not start: {reason}.\nCheck DATABASE_URL and that the database is "
        "reachable; `rocket2 db upgrade` shows the database's own message.\n"
    )
    sys.stderr.flush()
    raise SystemExit(EXIT_DATABASE_ERROR)


def on_reload(server: Any, error: ConfigError | None) -> None:
    """Master, on HUP: a bad config keeps the running one instead of stopping the server."""
    if error is not None:
        problems = "; ".join(str(p) for p in error.problems)
        server.log.error("configuration invalid on reload, keeping the previous one: %s", problems)
    else:
        server.log.info("configuration reloaded")


def post_worker_init(worker: Any) -> None:
    """Worker, app loaded: freeze the start-up objects out of the GC, start-up notice (once
    per instance), scheduler election, SIGUSR2.

    Nothing here may stop the worker from serving: an exception raised in this hook would
    count as a failed boot and halt the whole server, so each part only logs its failure.
    """
    from app.server.scheduler import SchedulerService
    from app.server.startup import notify_once
    from app.slack.client import slack_client

    _drain_on_term(worker)
    freeze_startup_objects()
    config = instance.current_config()
    client = slack_client(config)
    services = _worker_services(worker)
    authorization = _extension(worker, "rocket2.slack_authorization")
    if authorization is not None:
        authorization.start()  # the workspace id, before the first request needs it
    try:
        notify_once(client, config.slack_notification_channel)
    except Exception:
        log.exception("start-up notice could not be arranged")
    if services is None:
        log.warning("this worker's app has no Rocket 2 services; no scheduler here")
        return
    try:
        service = SchedulerService(services)
    except Exception:
        log.exception("scheduler election could not start in this worker")
        return

    def run_now(signum: int, frame: object) -> None:
        threading.Thread(target=service.run_jobs_now, name="run-now", daemon=True).start()

    # Before the election starts: its first log line ("stands by") may come at once, and a
    # SIGUSR2 before the handler would end the worker.
    signal.signal(signal.SIGUSR2, run_now)
    try:
        service.start()
    except Exception:
        log.exception("scheduler election could not start in this worker")
        return
    _services["scheduler"] = service


def freeze_startup_objects() -> None:
    """Move what loading the app made (about 100,000 long-lived objects) out of the cyclic
    garbage collector's sight: a full collection then no longer scans them, which under load
    stalled every request thread for tens of milliseconds (the ack's p99). No collection
    first: it would cost the cold start as much, for the little start-up garbage it frees."""
    gc.freeze()


def _drain_on_term(worker: Any) -> None:
    """Start draining the Slack work when TERM arrives, after Gunicorn's own handler."""
    from app.server import drain as slack_drain

    slack_drain.prepare(float(worker.cfg.graceful_timeout))
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        if callable(previous):
            previous(signum, frame)
        slack_drain.signal_term()

    signal.signal(signal.SIGTERM, on_term)
    signal.siginterrupt(signal.SIGTERM, False)  # as Gunicorn sets it: no EINTR in requests


def _extension(worker: Any, name: str) -> Any:
    """One of the worker's app's extensions, or None."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None) or {}
    return extensions.get(name)


def _worker_services(worker: Any) -> Any:
    """The services of the worker's app (one store and connection pool per process), or None."""
    from app.services import services_of

    return services_of(getattr(worker, "wsgi", None))


def worker_exit(server: Any, worker: Any) -> None:
    """Worker, exiting: let the acknowledged Slack work drain (bounded by graceful_timeout),
    stop the scheduler so the lock is released promptly, and exit at once if a given-up job
    is still stuck (its thread would otherwise hold the exit until Gunicorn kills us)."""
    from app.server import drain as slack_drain

    drained = slack_drain.wait_drained()
    service = _services.pop("scheduler", None)
    if service is not None:
        service.stop()
    if not drained:
        log.warning("stopping: exiting with given-up Slack work still running")
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def on_exit(server: Any) -> None:
    """Master, exiting: remove the runtime directory."""
    instance.remove_runtime_dir()
