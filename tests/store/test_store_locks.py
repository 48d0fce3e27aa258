"""Cross-instance locks (PostgreSQL advisory locks, SQLite file locks) and run-once claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import Store, locks
from tests.support import db

database_url = db.database_url
store = db.store


def test_try_hold_grants_the_lock_to_one_holder_at_a_time(store: Store) -> None:
    engine = store.engine
    with locks.try_hold(engine, "scheduler") as first:
        assert first is True
        with locks.try_hold(engine, "scheduler") as second:
            assert second is False  # another connection / file handle: another "instance"
        with locks.try_hold(engine, "other-job") as unrelated:
            assert unrelated is True  # names are independent
    with locks.try_hold(engine, "scheduler") as again:
        assert again is True  # released on exit


def test_hold_times_out_with_a_clear_error(store: Store) -> None:
    with locks.try_hold(store.engine, "busy") as got:
        assert got
        with (
            pytest.raises(locks.LockTimeout, match="busy lock"),
            locks.hold(store.engine, "busy", timeout=0.3),
        ):
            pass  # pragma: no cover - never entered


def test_in_memory_sqlite_always_grants() -> None:
    store = Store.from_url("sqlite://")
    with locks.try_hold(store.engine, "x") as got:
        assert got
    store.dispose()


def test_lock_keys_are_stable_and_in_range() -> None:
    assert locks.lock_key("migration") == locks.lock_key("migration")
    assert locks.lock_key("migration") != locks.lock_key("scheduler")
    assert 0 <= locks.lock_key("migration") < 2**63


def test_a_scheduled_run_is_claimed_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.events.claim("job", "weekly-channel:2026-11-28") is True
    with store.unit_of_work() as uow:
        assert uow.events.claim("job", "weekly-channel:2026-11-28") is False
        assert uow.events.claim("job", "weekly-channel:2026-12-05") is True


def test_migrations_are_packaged() -> None:
    """The wheel ships the migrations: every directory of Python files under app/ is a package
    (setuptools' find_packages needs __init__.py), and the revision template matches the
    package-data globs in pyproject.toml ("*.mako")."""
    app_dir = Path(__file__).resolve().parents[2] / "app"
    for directory in {p.parent for p in app_dir.rglob("*.py")} - {app_dir}:
        if "__pycache__" not in directory.parts:
            assert (directory / "__init__.py").is_file(), directory
    migrations = app_dir / "store" / "migrations"
    assert (migrations / "script.py.mako").is_file()
    assert list((migrations / "versions").glob("0001_*.py"))
    assert '"*.mako"' in (app_dir.parent / "pyproject.toml").read_text()
