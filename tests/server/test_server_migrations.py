"""Migrations run in the Gunicorn master before it serves: from empty, idempotent on restart,
once when two instances start together, and a clear stop (no traceback, no values) when the
database cannot be reached."""

from __future__ import annotations

from sqlalchemy import inspect

from app.store import make_engine
from app.store.migrate import current_revision, head_revision
from tests.support import db
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until

database_url = db.database_url

UPGRADED = "database upgraded from empty to"
CURRENT = "database already at"


def schema_at_head(url: str) -> bool:
    engine = make_engine(url)
    try:
        return current_revision(engine) == head_revision() and "users" in set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_the_default_sqlite_file_is_migrated_before_serving(gunicorn_server, env, tmp_path):
    env["SLACK_API_URL"] = "http://127.0.0.1:9/"
    server = gunicorn_server(env)  # cwd is tmp_path: data/rocket2.db lands there
    assert server.lines(UPGRADED)
    serving = server.output().index("Listening at")
    assert server.output().index(UPGRADED) < serving  # migrated before the socket was bound
    assert schema_at_head(f"sqlite:///{tmp_path / 'data' / 'rocket2.db'}")
    server.stop()

    again = gunicorn_server(env)
    assert again.lines(CURRENT) and not again.lines(UPGRADED)


def test_two_instances_starting_together_migrate_once(env, database_url, tmp_path):
    env.update(SLACK_API_URL="http://127.0.0.1:9/", DATABASE_URL=database_url)
    servers = []
    for n in (1, 2):
        port = free_port()
        (tmp_path / str(n)).mkdir()
        servers.append(
            GunicornServer(
                env=server_env(env, port),
                port=port,
                log_path=tmp_path / f"{n}.log",
                cwd=tmp_path / str(n),
            )
        )
    try:
        for server in servers:
            server.start(wait=False)
        for server in servers:
            wait_until(server._ready, 60, what=f"instance on {server.url}")
        upgraded = sum(len(s.lines(UPGRADED)) for s in servers)
        current = sum(len(s.lines(CURRENT)) for s in servers)
        assert (upgraded, current) == (1, 1)
        assert schema_at_head(database_url)
    finally:
        for server in servers:
            server.stop()


def test_an_unreachable_database_stops_the_start_clearly(env, tmp_path):
    password = "pw-must-not-appear-4711"
    closed = free_port()
    env.update(
        SLACK_API_URL="http://127.0.0.1:9/",
        DATABASE_URL=f"postgres://rocket:{password}@127.0.0.1:{closed}/club",
    )
    port = free_port()
    server = GunicornServer(
        env=server_env(env, port), port=port, log_path=tmp_path / "g.log", cwd=tmp_path
    )
    server.start(wait=False)
    assert server.wait_exit(60) != 0
    output = server.output()
    assert (
        "Rocket 2 did not start: the database migration failed: refused (OperationalError" in output
    )
    assert "Check DATABASE_URL" in output
    assert "Traceback" not in output
    assert password not in output and str(closed) not in output
    assert "Listening at" not in output


def test_the_procfile_release_phase_migrates(env, database_url, tmp_path):
    """Heroku runs the Procfile's release line before the new web dynos start."""
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.gunicorn import REPO

    release = next(
        line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("release:")
    )
    command = shlex.split(release.split(":", 1)[1])
    assert command == ["rocket2", "db", "upgrade"]
    rocket2 = Path(sys.executable).parent / "rocket2"
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [str(rocket2), *command[1:]],
        env=server_env(env, free_port()),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "database upgraded from empty to" in done.stdout
    assert schema_at_head(database_url)
