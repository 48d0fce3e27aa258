"""Whether a database is at the newest shipped revision, through its driver alone.

``shipped_head()`` reads the newest revision from the migration files' headers (no Alembic;
the files are the store's and the feature packages', ``version_dirs()``),
and ``shipped_revisions()`` every revision they name. ``driver_is_current(url)`` reads
``SELECT version_num FROM alembic_version`` with sqlite3 or psycopg (no SQLAlchemy), so a
Gunicorn master restarting against a current schema imports neither. Anything this cannot
read plainly (an in-memory or missing SQLite file, a URL with options, no connection) answers
False: the full upgrade then runs, and reports the cause. ``sqlite_file(url)`` is the file
of a SQLite URL read so plainly.
"""

from __future__ import annotations

import re
from contextlib import closing
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
APP_DIR = MIGRATIONS_DIR.parents[1]
SELECT = "SELECT version_num FROM alembic_version"
CONNECT_TIMEOUT = 5  # seconds, as app.store.engine's PostgreSQL connections

_HEADER = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:\"([^\"]*)\"|None)\s*$", re.M)


def version_dirs() -> tuple[Path, ...]:
    """Where the migrations are: the store's ``versions/``, then each feature package's
    ``app/<package>/migrations/`` (decision 0038), found without importing anything."""
    features = (path for path in APP_DIR.glob("*/migrations") if path != MIGRATIONS_DIR)
    return (MIGRATIONS_DIR / "versions", *sorted(p for p in features if p.is_dir()))


def _migration_files() -> list[Path]:
    return sorted(path for folder in version_dirs() for path in folder.glob("[0-9]*.py"))


@cache
def shipped_head() -> str | None:
    """The newest shipped revision read from the migration files' ``revision`` and
    ``down_revision`` lines, without Alembic; None unless the history is one straight line."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in _migration_files():
        found = {name: value for name, value in _HEADER.findall(path.read_text())}
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(parents) == len(revisions) - 1 else None


@cache
def shipped_revisions() -> frozenset[str]:
    """Every revision shipped with this version, read from the migration files' headers."""
    found: set[str] = set()
    for path in _migration_files():
        found.update(v for name, v in _HEADER.findall(path.read_text()) if name == "revision")
    return frozenset(found)


def driver_is_current(url: str) -> bool:
    """True when the database at ``url`` (DATABASE_URL as config reads it) stores exactly one
    revision and it is the shipped head; False when it is not, or cannot be read plainly."""
    head = shipped_head()
    if head is None:
        return False
    try:
        rows = _read_versions(url)
    except Exception:  # any failure: the full upgrade says why
        return False
    return rows == [head]


def _read_versions(url: str) -> list[str] | None:
    """The alembic_version rows at ``url``; None when the URL is not one read here."""
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0] == "sqlite":
        return _sqlite_versions(url)
    if scheme.split("+", 1)[0] in ("postgres", "postgresql"):
        return _postgres_versions(f"postgresql://{rest}")
    return None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url`` read plainly; None for memory, options or another scheme."""
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0] != "sqlite":
        return None
    if not rest.startswith("/") or "?" in rest or rest in ("/", "/:memory:"):
        return None
    return Path(rest[1:])


def _sqlite_versions(url: str) -> list[str] | None:
    """Read a SQLite file read-only (never created here); None for memory or options."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    import sqlite3

    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
        return [str(row[0]) for row in db.execute(SELECT)]


def _postgres_versions(url: str) -> list[str] | None:
    """Read through psycopg, with the engine's connect timeout."""
    if urlsplit(url).query:
        return None
    import psycopg

    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as db:
        return [str(row[0]) for row in db.execute(SELECT).fetchall()]
