"""Databases for the tests: a SQLite file in tmp_path, or a fresh PostgreSQL database.

PostgreSQL comes from DATABASE_URL_TEST (scripts/ci/start-postgres.sh exports it). Without it
the PostgreSQL variants skip locally and fail in CI. Each test gets its own database, created
from the server's template and dropped afterwards.

Use in a test module (pytest registers imported fixtures)::

    from tests.support.db import database_url, store  # noqa: F401
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.store import Store, make_engine
from app.store.migrate import upgrade

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgres")


def postgres_server_url() -> str:
    """DATABASE_URL_TEST, or skip (locally) / fail (CI) when it is not set."""
    url = os.environ.get("DATABASE_URL_TEST", "")
    if url:
        return url
    message = "DATABASE_URL_TEST is not set (scripts/ci/start-postgres.sh sets it; `make test`)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _psycopg(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


def create_postgres_database(server_url: str) -> str:
    """Create an empty database on the test server; return its URL (postgresql://…)."""
    name = f"rocket2_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, database_url: str) -> None:
    """Drop a database made by create_postgres_database (disconnecting any leftover session)."""
    name = make_url(database_url).database
    admin = create_engine(_psycopg(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file under tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'rocket2.db'}"
        return
    server = postgres_server_url()
    url = create_postgres_database(server)
    try:
        yield url
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A Store on a migrated empty database (both backends)."""
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    try:
        yield store
    finally:
        store.dispose()
