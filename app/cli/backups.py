"""`rocket2 db backup|restore|replicate`: the store's backups, from the shell.

Each reads DATABASE_URL (and the REPLICA_* and BACKUP_* settings) through load_config, exactly
as the server does; output names files and counts, never row data or a secret.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.backups import litestream
from app.backups.restore import RestoreRefused, restore
from app.backups.snapshot import NotASQLiteFile, database_file, take_backup
from app.store import locks
from app.store.engine import engine_from_config
from config import Config, ConfigError, load_config
from config.cli import EXIT_CONFIG_ERROR, default_env_file

EXIT_FAILED = 1
DEFAULT_DIRECTORY = "backups"
POSTGRES_ADVICE = (
    "the database is PostgreSQL: Rocket 2 does not back it up itself. Use the platform's "
    "backups (Heroku: `heroku pg:backups:capture`, scheduled with `heroku pg:backups:schedule`) "
    "or `pg_dump --format=custom` and `pg_restore`."
)


def add_commands(db_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `backup`, `restore` and `replicate` under `rocket2 db`."""
    backup = db_sub.add_parser("backup", help="a consistent copy of the SQLite database, live")
    backup.add_argument(
        "directory",
        metavar="PATH",
        nargs="?",
        help="directory for the backup (default: BACKUP_DIR, else ./backups)",
    )
    backup.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    backup.set_defaults(func=cmd_backup)

    rest = db_sub.add_parser("restore", help="replace the database by a backup (server stopped)")
    rest.add_argument("path", metavar="PATH", help="a file `rocket2 db backup` wrote")
    rest.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    rest.set_defaults(func=cmd_restore)

    rep = db_sub.add_parser("replicate", help="run Litestream on the database (REPLICA_URL)")
    rep.add_argument("--print-config", action="store_true", help="print litestream.yml; exit")
    rep.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    rep.set_defaults(func=cmd_replicate)


def _config(args: argparse.Namespace) -> Config | None:
    try:
        return load_config(env_file=default_env_file(args.env_file))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def cmd_backup(args: argparse.Namespace) -> int:
    """Write one backup; print its path."""
    config = _config(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    directory = Path(args.directory or config.backup_dir or DEFAULT_DIRECTORY)
    engine = engine_from_config(config)
    try:
        backup = take_backup(engine, directory)
    except NotASQLiteFile:
        print(f"error: {POSTGRES_ADVICE}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, SQLAlchemyError, sqlite3.Error) as exc:
        print(f"error: the backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(f"backup written: {backup.path} (schema {backup.revision})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore PATH over the database; print what was restored."""
    config = _config(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        done = restore(engine, Path(args.path))
    except NotASQLiteFile:
        print(f"error: {POSTGRES_ADVICE}", file=sys.stderr)
        return EXIT_FAILED
    except RestoreRefused as exc:
        print(f"error: not restored: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, SQLAlchemyError, locks.LockTimeout) as exc:
        print(f"error: the restore failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    step = done.upgrade
    schema = f"{step.before} → {step.after}" if step.changed else f"{step.after}"
    print(f"restored {args.path} (schema {schema}): {done.members} members, {done.teams} teams")
    if done.replaced is not None:
        print(f"the replaced database is kept as {done.replaced}")
    return _reset_replication(engine)


def _reset_replication(engine: Engine) -> int:
    """After a restore, Litestream starts the replica afresh from the restored file."""
    try:
        if litestream.reset_local_state(database_file(engine)):
            print("Litestream will send the restored database as a fresh snapshot when it starts")
    except litestream.ReplicationError as exc:
        print(
            f"error: restored, but {exc}: run `litestream reset` on the database", file=sys.stderr
        )
        return EXIT_FAILED
    return 0


def cmd_replicate(args: argparse.Namespace) -> int:
    """Become `litestream replicate` (never returns), or say why replication is off."""
    config = _config(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        database = database_file(engine)
    except NotASQLiteFile:
        print(f"replication is for the SQLite store; {POSTGRES_ADVICE}")
        return 0
    if not config.replica_url:
        print("replication is off (REPLICA_URL is empty); nothing to do")
        return 0
    if args.print_config:
        sys.stdout.write(litestream.litestream_config(config, database))
        return 0
    try:
        litestream.replicate(config, engine)
    except (litestream.ReplicationError, locks.LockTimeout, OSError) as exc:
        print(f"error: replication did not start: {exc}", file=sys.stderr)
        return EXIT_FAILED
