"""Start-up stays light: the Gunicorn master checks the schema revision with one SELECT and
runs Alembic (and the ORM) only when there is something to migrate, in a child it forks; it
holds the server lock either way."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text

from app.store import make_engine
from app.store.migrate import (
    head_revision,
    is_current,
    shipped_head,
    stored_revision,
    upgrade,
)
from app.store.revision import driver_is_current
from tests.support.cli import rocket2
from tests.support.db import database_url  # noqa: F401
from tests.support.gunicorn import wait_until

UPGRADED = "database upgraded from empty to"
CURRENT = "database already at"
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", re.M)


def master_imports(output: str) -> set[str]:
    """Modules the master imported (``-X importtime`` lines before the first worker boots)."""
    return set(IMPORT_LINE.findall(output.split("Booting worker")[0]))


def test_the_migration_headers_give_alembics_head():
    assert shipped_head() == head_revision()


def test_a_current_schema_is_found_with_one_select(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        assert stored_revision(engine) is None and not is_current(engine)
        upgrade(engine, revision="0001")
        assert stored_revision(engine) == "0001" and not is_current(engine)
        assert upgrade(engine).changed  # the old schema still goes through Alembic
        assert stored_revision(engine) == head_revision() and is_current(engine)
        assert not upgrade(engine).changed
        with engine.begin() as connection:  # two rows is not a revision this check can trust
            connection.execute(text("INSERT INTO alembic_version VALUES ('other')"))
        assert stored_revision(engine) is None and not is_current(engine)
    finally:
        engine.dispose()


def test_the_driver_alone_finds_a_current_schema(database_url):  # noqa: F811
    assert not driver_is_current(database_url)  # no database, or an empty one
    engine = make_engine(database_url)
    try:
        upgrade(engine, revision="0001")
        assert not driver_is_current(database_url)
        upgrade(engine)
        assert driver_is_current(database_url)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version VALUES ('other')"))
        assert not driver_is_current(database_url)
    finally:
        engine.dispose()


def test_the_driver_check_never_creates_a_database_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    assert not driver_is_current(url) and not (tmp_path / "absent.db").exists()
    assert not driver_is_current("sqlite://") and not driver_is_current("sqlite:///:memory:")


def test_a_master_against_a_current_schema_never_imports_alembic(gunicorn_server, env):
    env["SLACK_API_URL"] = "http://127.0.0.1:9/"
    first = gunicorn_server(env, PYTHONPROFILEIMPORTTIME="1")  # cwd: data/rocket2.db lands here
    [upgraded] = first.lines(UPGRADED)
    assert "alembic" in master_imports(first.output())
    # Alembic ran in a child the master forked and waited for (0034), not in the master.
    assert first.proc is not None and f"[{first.proc.pid}]" not in upgraded
    assert re.search(r"\[\d+\]", upgraded)
    first.stop()

    again = gunicorn_server(env, PYTHONPROFILEIMPORTTIME="1")
    output = again.output()
    assert again.lines(CURRENT) and not again.lines(UPGRADED)
    imported = master_imports(output)
    assert "sqlite3" in imported  # it did open the database, through the driver alone
    assert not {name for name in imported if name.split(".")[0] == "alembic"}
    assert not {name for name in imported if name.split(".")[0] == "sqlalchemy"}
    healthz = f"http://127.0.0.1:{again.port}/healthz"  # and the worker serves, ready
    wait_until(lambda: httpx.get(healthz).status_code == 200, timeout=10, what="/healthz 200")
    # Without SQLAlchemy it still holds the server lock (0027): `db restore` is refused.
    backed = rocket2("db", "backup", str(again.cwd / "backups"), env=env, cwd=again.cwd)
    assert backed.returncode == 0, backed.stderr
    [backup] = list((again.cwd / "backups").iterdir())
    refused = rocket2("db", "restore", str(backup), env=env, cwd=again.cwd)
    assert refused.returncode == 1 and "gunicorn" in refused.stderr, refused.stderr
