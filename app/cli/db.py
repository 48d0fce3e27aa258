"""`rocket2 db upgrade|check` and `rocket2 user promote`: operator commands for the database
(`db backup|restore|replicate` live in app.cli.backups).

`db upgrade` first restores an absent SQLite file from the replica when REPLICA_URL is set
(app.backups.litestream.restore_if_empty), as the server's start does.

`db check` also says whether the special teams are pinned (app.teams.mirror.pin_status).

All of them read DATABASE_URL through load_config (and ./.env when present), exactly as the
server does. Output never includes row data or the database password.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.backups.litestream import ReplicationError, restore_if_empty
from app.cli import backups as backup_cli
from app.slack.ids import SLACK_USER_ID
from app.store.engine import engine_from_config
from app.store.errors import store_cause
from app.store.migrate import MigrationLockTimeout, current_revision, head_revision, upgrade
from app.store.models import Permission
from app.store.session import Store, UnitOfWork
from app.teams.mirror import pin_status
from config import Config, ConfigError, load_config, redact_url
from config.cli import default_env_file

EXIT_FAILED = 1
EXIT_CONFIG_ERROR = 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `db upgrade|check` and `user promote` on the top-level rocket2 parser."""
    db = subparsers.add_parser("db", help="migrate and inspect the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)

    up = db_sub.add_parser("upgrade", help="apply the migrations (safe to run on every start)")
    up.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    up.add_argument(
        "--lock-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for another instance's migration (default 120)",
    )
    up.set_defaults(func=cmd_upgrade)

    backup_cli.add_commands(db_sub)

    check = db_sub.add_parser("check", help="show the schema version and row counts (no data)")
    check.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    check.set_defaults(func=cmd_check)

    user = subparsers.add_parser("user", help="manage members from the shell")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    promote = user_sub.add_parser(
        "promote", help="set a member's permission (creates the member if absent)"
    )
    promote.add_argument("slack_id", metavar="SLACK_ID", help="Slack user id, e.g. U0123ABCD")
    promote.add_argument("permission", choices=[p.value for p in Permission])
    promote.add_argument("--env-file", help="read this .env file (default: ./.env if present)")
    promote.set_defaults(func=cmd_promote)


def load_or_report(args: argparse.Namespace) -> Config | None:
    """The config for a CLI command (``--env-file``), or None after printing its problems."""
    try:
        return load_config(env_file=default_env_file(args.env_file))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def schema_is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration; if not, say so on stderr."""
    if current_revision(engine) == head_revision():
        return True
    print(
        "error: the database schema is not current: run `rocket2 db upgrade` first", file=sys.stderr
    )
    return False


def on_current_schema[T](
    args: argparse.Namespace, action: str, work: Callable[[UnitOfWork], T]
) -> tuple[int, T | None]:
    """Load the config (``--env-file``), check the schema is current, and run ``work`` in one
    unit of work: (0, its result), or (the exit status, None) after saying why on stderr."""
    config = load_or_report(args)
    if config is None:
        return EXIT_CONFIG_ERROR, None
    engine = engine_from_config(config)
    try:
        if not schema_is_current(engine):
            return EXIT_FAILED, None
        with Store(engine).unit_of_work() as uow:
            return 0, work(uow)
    except SQLAlchemyError as exc:
        print(_db_error(action, exc), file=sys.stderr)
        return EXIT_FAILED, None
    finally:
        engine.dispose()


def _describe(engine: Engine) -> str:
    return redact_url(engine.url.render_as_string(hide_password=False))


def _db_error(action: str, exc: SQLAlchemyError) -> str:
    """The cause in operator words, then the database's own first line."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (
        f"error: {action} failed ({store_cause(exc)}): "
        f"{type(exc).__name__}: {detail[0] if detail else ''}"
    )


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Upgrade the database to the newest schema under the cross-instance lock."""
    config = load_or_report(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        if restore_if_empty(config, engine):
            print(f"database restored from the replica {config.replica_url}")
        result = upgrade(engine, lock_timeout=args.lock_timeout)
    except ReplicationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except MigrationLockTimeout as exc:
        print(f"error: database upgrade failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        print(_db_error("database upgrade", exc), file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    if result.changed:
        print(f"database upgraded from {result.before or 'empty'} to {result.after}")
    else:
        print(f"database already at {result.after} (newest)")
    return 0


COUNTED = (
    ("users", "users"),
    ("teams", "teams"),
    ("team_members", "team member rows"),
    ("team_leads", "team lead rows"),
    ("processed_events", "processed deliveries"),
)


def cmd_check(args: argparse.Namespace) -> int:
    """Print the schema version and row counts; exit 1 if the schema is not at the newest."""
    config = load_or_report(args)
    if config is None:
        return EXIT_CONFIG_ERROR
    engine = engine_from_config(config)
    try:
        head = head_revision()
        current = current_revision(engine)
        print(f"database  {engine.dialect.name}  {_describe(engine)}")
        state = "up to date" if current == head else "behind: run `rocket2 db upgrade`"
        print(f"schema    {current or 'empty'} (newest {head}): {state}")
        existing = set(inspect(engine).get_table_names())
        store = Store(engine)
        with store.unit_of_work() as uow:
            for table, label in COUNTED:
                if table not in existing:
                    print(f"{label:<22}  (no table)")
                    continue
                count = _count(uow.session, table)
                print(f"{label:<22}  {count}")
            if "users" in existing:
                for permission, label in (
                    (Permission.admin, "admins"),
                    (Permission.team_lead, "team leads"),
                ):
                    n = _count(uow.session, "users", permission.value)
                    print(f"{label:<22}  {n}")
            if {"special_teams", "teams"} <= existing:
                print(f"{'special teams':<22}  {_pins(uow, config)}")
    except SQLAlchemyError as exc:
        print(_db_error("database check", exc), file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    return 0 if current == head else EXIT_FAILED


def _pins(uow: UnitOfWork, config: Config) -> str:
    return ", ".join(f"{role}: {status}" for role, status in pin_status(uow, config).items())


def _count(session: Session, table: str, permission: str | None = None) -> int:
    if permission is None:
        # The table name comes from the fixed COUNTED list, never from input.
        return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
    query = text("SELECT count(*) FROM users WHERE permission = :p")
    return int(session.scalar(query, {"p": permission}) or 0)


def cmd_promote(args: argparse.Namespace) -> int:
    """Set SLACK_ID's permission, creating the member if absent (so the first admin can exist)."""
    slack_id = args.slack_id.strip().upper()
    if not SLACK_USER_ID.match(slack_id):
        print(
            "error: SLACK_ID must be a Slack user id such as U0123ABCD "
            "(open the member's profile → ⋮ → Copy member ID)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    permission = Permission(args.permission)

    def grant(uow: UnitOfWork) -> tuple[bool, Permission]:
        user, created = uow.users.create_if_absent(slack_id)
        previous = user.permission
        uow.users.grant(slack_id, permission)
        return created, previous

    status, done = on_current_schema(args, "user promote", grant)
    if done is None:
        return status
    created, previous = done
    if created:
        print(f"{slack_id}: created with permission {permission.value}")
    else:
        print(f"{slack_id}: permission {previous.value} -> {permission.value}")
    return 0
