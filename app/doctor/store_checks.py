"""The store: reachable, and its schema at the newest migration this version ships."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from app.doctor.context import Context
from app.doctor.report import Result, fail, ok, warn


def store_schema(ctx: Context) -> Result:
    """The database answers and its schema is current."""
    from app.store.engine import engine_from_config
    from app.store.errors import store_cause
    from app.store.migrate import head_revision, stored_revision

    engine = engine_from_config(ctx.config)
    try:
        stored = stored_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        cause = store_cause(exc) if isinstance(exc, SQLAlchemyError) else type(exc).__name__
        return fail(
            "store",
            f"the database does not answer ({cause})",
            "check DATABASE_URL and that the database runs",
        )
    finally:
        engine.dispose()
    head = head_revision()
    if stored != head:
        return fail(
            "store",
            f"the schema is at {stored or 'nothing (empty)'}, this version needs {head}",
            "run rocket2 db upgrade (the release phase does on Heroku)",
        )
    return ok("store", f"reachable, schema current ({head})")


def store_durability(ctx: Context) -> Result:
    """A SQLite store is replicated or has a recent backup (PostgreSQL: the platform's)."""
    from app.backups.status import protection_warning

    warning = protection_warning(ctx.config)
    if warning is None:
        return ok("store durability", "replicated, backed up recently, or on PostgreSQL")
    what, _, fix = warning.partition(": ")
    return warn("store durability", what, fix)
