"""Fixtures for the backup tests: one real Rocket 2 on a SQLite file per module, and helpers
that read a database file the way an operator would (sqlite3, no ORM)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.rocket import Rocket, sqlite_url, start_rocket, stop_rocket

# Every table of the store.
TABLES = (
    "users",
    "teams",
    "team_members",
    "team_leads",
    "special_teams",
    "processed_events",
    "karma_gifts",
    "alembic_version",
)


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every store table in the SQLite file ``path``, in a stable order."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608
            for table in TABLES
        }
    finally:
        db.close()


def integrity(path: Path) -> str:
    """SQLite's PRAGMA integrity_check of the file ``path`` ("ok" when sound)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def karma_of(path: Path) -> dict[str, int]:
    """slack_id → karma in the SQLite file ``path``."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT slack_id, karma FROM users").fetchall())
    finally:
        db.close()


@pytest.fixture(scope="module")
def sqlite_rocket(tmp_path_factory: pytest.TempPathFactory, key_pem: str) -> Iterator[Rocket]:
    """A running Rocket 2 (real Gunicorn, two workers) on a SQLite file."""
    directory = tmp_path_factory.mktemp("rocket-backups")
    rocket = start_rocket(directory, key_pem, sqlite_url(directory), "sqlite")
    try:
        yield rocket
    finally:
        stop_rocket(rocket)


def database_of(rocket: Rocket) -> Path:
    """The SQLite file the server uses."""
    return Path(rocket.env["DATABASE_URL"].removeprefix("sqlite:///"))
