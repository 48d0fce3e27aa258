"""Errors the store raises. Messages name the record (a Slack id, a team name), never a secret."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every store error."""


class NotFound(StoreError):
    """The record does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class AlreadyExists(StoreError):
    """A record with that key (or unique field) exists already."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} already exists")


# PostgreSQL SQLSTATEs (and their classes) in operator words.
_SQLSTATES = {
    "28P01": "authentication failed",
    "28000": "authentication failed",
    "42501": "permission denied",
    "3D000": "the database does not exist",
    "53100": "disk full",
    "25006": "read-only",
    "57014": "timed out (statement timeout)",
    "55P03": "timed out (lock timeout)",
    "25P03": "timed out (idle in transaction)",
    "57P01": "the server is shutting down or restarting",
    "57P03": "the server is starting up",
    "53300": "too many connections",
    "SQLITE_FULL": "disk full",
    "SQLITE_READONLY": "read-only",
    "SQLITE_READONLY_DBMOVED": "read-only",
    "SQLITE_CANTOPEN": "cannot open the database file",
    "SQLITE_BUSY": "timed out (locked by another writer)",
    "SQLITE_PERM": "permission denied",
    "SQLITE_AUTH": "permission denied",
}
# Substrings of driver messages (libpq, sqlite3, the OS), lower-cased, checked in this order.
_PHRASES = (
    ("password authentication failed", "authentication failed"),
    ("authentication failed", "authentication failed"),
    ("no password supplied", "authentication failed"),
    ("connection refused", "refused"),
    ("timeout expired", "timed out"),
    ("timed out", "timed out"),
    ("could not translate host name", "host not found"),
    ("failed to resolve host", "host not found"),
    ("name or service not known", "host not found"),
    ("permission denied", "permission denied"),
    ('role "', "authentication failed (no such user)"),
    ("does not exist", "the database does not exist"),
    ("database or disk is full", "disk full"),
    ("no space left on device", "disk full"),
    ("readonly database", "read-only"),
    ("read-only file system", "read-only"),
    ("read-only transaction", "read-only"),
    ("unable to open database file", "cannot open the database file"),
    ("database is locked", "timed out (locked by another writer)"),
    ("server closed the connection", "connection lost"),
    ("connection reset", "connection lost"),
    ("consuming input failed", "connection lost"),
    ("terminating connection", "connection lost"),
)
_ERRNOS = {
    "ENOSPC": "disk full",
    "EDQUOT": "disk full",
    "EROFS": "read-only",
    "EACCES": "permission denied",
    "EPERM": "permission denied",
    "ECONNREFUSED": "refused",
    "ETIMEDOUT": "timed out",
    "ECONNRESET": "connection lost",
}


FALLBACK = "database error"


def store_cause(exc: BaseException) -> str | None:
    """What went wrong with the database, in an operator's words ("refused", "timed out",
    "authentication failed", "permission denied", "disk full", "read-only", …), or None if
    ``exc`` is not a database failure. Built from codes and fixed phrases only, so it never
    carries a value (a password, a host, a path) from the message."""
    import errno

    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return "timed out (every pooled connection busy)"
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        name = errno.errorcode.get(exc.errno or 0, "")
        return _ERRNOS.get(name)
    if not isinstance(exc, SQLAlchemyError):
        return None
    orig = getattr(exc, "orig", None)
    sqlstate = str(getattr(orig, "sqlstate", "") or getattr(orig, "sqlite_errorname", "") or "")
    if sqlstate in _SQLSTATES:
        return _SQLSTATES[sqlstate]
    if sqlstate.startswith("SQLITE_IOERR"):
        # SQLite cannot write its file, its journal or its shared memory: on a full disk
        # this, not SQLITE_FULL, is what a new connection meets.
        return "disk I/O error (is the disk full?)"
    fallback = f"{FALLBACK} ({type(orig or exc).__name__})"
    if sqlstate and not sqlstate.startswith(("08", "SQLITE_")):
        return fallback  # a query's own error (undefined table, constraint): no phrase applies
    text = str(orig if orig is not None else exc).lower()
    for phrase, cause in _PHRASES:
        if phrase in text:
            return cause
    return fallback


def outage_cause(exc: BaseException) -> str | None:
    """store_cause when it names a known failure of the database itself (refused, timed out,
    disk full, …), else None (not a database error, or a query's own error)."""
    cause = store_cause(exc)
    return None if cause is None or cause.startswith(FALLBACK) else cause
