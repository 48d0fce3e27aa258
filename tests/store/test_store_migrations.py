"""Engine settings, migrations (from empty, twice, under a lock held by another instance), and
the operator commands `rocket2 db upgrade|check` and `rocket2 user promote` as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from app.store import Store, make_engine
from app.store.engine import engine_from_config, normalise_url
from app.store.migrate import current_revision, head_revision, migration_lock, upgrade
from app.store.models import Base
from config import load_config
from tests.support import db
from tests.support.gunicorn import server_env, wait_until

database_url = db.database_url
store = db.store

TABLES = {
    "users",
    "teams",
    "team_members",
    "team_leads",
    "processed_events",
    "special_teams",
    "karma_gifts",
    "link_requests",
    "invitations",
    "alembic_version",
}


def test_sqlite_file_and_directory_are_created_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "rocket2.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert path.exists()
    finally:
        engine.dispose()


def test_relative_default_url_lands_under_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///data/rocket2.db")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert (tmp_path / "data" / "rocket2.db").is_file()


def test_in_memory_sqlite_is_one_shared_database() -> None:
    store = Store(make_engine("sqlite://"))
    upgrade(store.engine)
    with store.unit_of_work() as uow:
        uow.users.create("U0MEM0001")
    with store.unit_of_work() as uow:
        assert uow.users.count() == 1
    store.dispose()


def test_postgres_urls_use_psycopg3(env: dict[str, str]) -> None:
    assert normalise_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    config = load_config(environ={**env, "DATABASE_URL": "postgres://u:pw@db.example:5432/x"})
    engine = engine_from_config(config)  # no connection is made
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.host == "db.example"
    with pytest.raises(ValueError, match="sqlite or postgresql"):
        make_engine("mysql://u@h/db")


def test_migrate_from_empty_then_again_is_a_no_op(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        first = upgrade(engine)
        assert (first.before, first.after, first.changed) == (None, head_revision(), True)
        assert set(inspect(engine).get_table_names()) >= TABLES
        second = upgrade(engine)
        assert (second.before, second.after, second.changed) == (head_revision(),) * 2 + (False,)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []  # models == migrations
    finally:
        engine.dispose()


def test_data_survives_a_repeated_upgrade(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0KEEP001", karma=0)
    upgrade(store.engine)
    with store.unit_of_work() as uow:
        assert uow.users.get_karma("U0KEEP001") == 0


def test_downgrade_to_base_and_back(database_url: str) -> None:
    from alembic import command

    from app.store.migrate import alembic_config

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        cfg = alembic_config(engine)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert upgrade(engine).changed
    finally:
        engine.dispose()


def test_0003_keeps_roles_as_grants_unless_their_special_team_gave_them(database_url: str) -> None:
    from alembic import command

    from app.store.migrate import alembic_config

    engine = make_engine(database_url)
    try:
        cfg = alembic_config(engine)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0002")
        rows = [  # slack id, permission, verified, GitHub id
            ("U0FROMTEAM", "admin", True, 1),  # in the pinned admin team: GitHub's
            ("U0LEADTEAM", "team_lead", True, 2),  # in the pinned leads team: GitHub's
            ("U0BYHAND01", "admin", False, 1001),  # not in it: an admin's grant
            ("U0TYPED001", "team_lead", False, 3),  # in it, but typed: a grant
            ("U0MEMBER01", "member", True, 4),
        ]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO teams (github_team_id, github_team_name) VALUES (7, 'a'), (8, 'l')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO special_teams (role, configured_name, github_team_id) "
                    "VALUES ('admin', 'a', 7), ('team_lead', 'l', 8)"
                )
            )
            connection.execute(
                text("INSERT INTO team_members (team_id, github_id) VALUES (7, 1), (8, 2), (8, 3)")
            )
            for slack_id, permission, verified, github_id in rows:
                connection.execute(
                    text(
                        "INSERT INTO users (slack_id, permission, github_verified, github_id) "
                        "VALUES (:s, :p, :v, :g)"
                    ),
                    {"s": slack_id, "p": permission, "v": verified, "g": github_id},
                )
        upgrade(engine)
        with engine.connect() as connection:
            granted = dict(
                connection.execute(text("SELECT slack_id, granted_permission FROM users")).all()
            )
        assert granted == {
            "U0FROMTEAM": "member",
            "U0LEADTEAM": "member",
            "U0BYHAND01": "admin",
            "U0TYPED001": "team_lead",
            "U0MEMBER01": "member",
        }
    finally:
        engine.dispose()


def _rocket2(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    """A clean process environment for `rocket2`, pointed at the test database."""
    repo = str(Path(__file__).resolve().parents[2])
    return server_env(env, 5000, DATABASE_URL=database_url, PYTHONPATH=repo)


def test_two_instances_upgrading_at_once_wait_for_each_other(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Another instance holds the lock: both `rocket2 db upgrade` processes wait, then one
    migrates and the other finds the schema current. Neither fails."""
    engine = make_engine(database_url)
    procs: list[subprocess.Popen[str]] = []
    logs = [tmp_path / f"upgrade-{i}.log" for i in range(2)]
    try:
        with migration_lock(engine):
            for log in logs:
                with open(log, "w") as out:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "app.cli", "db", "upgrade"],
                            env=cli_env,
                            cwd=tmp_path,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            text=True,
                        )
                    )
            wait_until(
                lambda: all("waiting" in log.read_text() for log in logs),
                timeout=60,
                what="both upgrades to report that they wait for the lock",
            )
            assert all(p.poll() is None for p in procs)
            assert current_revision(engine) is None  # nothing ran while the lock was held
        codes = [p.wait(timeout=120) for p in procs]
        outputs = [log.read_text() for log in logs]
        assert codes == [0, 0], outputs
        assert sum("upgraded from empty" in o for o in outputs) == 1, outputs
        assert sum("already at" in o for o in outputs) == 1, outputs
        assert current_revision(engine) == head_revision()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        engine.dispose()


def test_two_instances_racing_from_empty_both_succeed(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "db", "upgrade"],
            env=cli_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    outputs = "".join(out for out, _ in results)
    assert outputs.count("upgraded from empty") == 1, outputs


def test_lock_timeout_fails_clearly(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    try:
        with migration_lock(engine):
            result = _rocket2("db", "upgrade", "--lock-timeout", "0.5", env=cli_env, cwd=tmp_path)
        assert result.returncode == 1
        assert "migration lock" in result.stderr
    finally:
        engine.dispose()


def test_db_check_reports_version_and_counts_but_no_data(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    behind = _rocket2("db", "check", env=cli_env, cwd=tmp_path)
    assert behind.returncode == 1
    assert "empty" in behind.stdout and "rocket2 db upgrade" in behind.stdout

    assert _rocket2("db", "upgrade", env=cli_env, cwd=tmp_path).returncode == 0
    store = Store(make_engine(database_url))
    with store.unit_of_work() as uow:
        uow.users.create("U0SEEN001", email="private@example.org", name="Private Person")
        uow.teams.create(1, "secret-team")
        uow.teams.set_members(1, [10, 11])
    store.dispose()

    result = _rocket2("db", "check", env=cli_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.split("  ")[0].strip(): line.split()[-1] for line in result.stdout.splitlines()}
    assert f"{head_revision()} (newest {head_revision()}): up to date" in result.stdout
    assert lines["users"] == "1" and lines["teams"] == "1" and lines["team member rows"] == "2"
    for private in ("private@example.org", "Private Person", "secret-team", "U0SEEN001"):
        assert private not in result.stdout + result.stderr


def test_db_check_hides_the_database_password(env: dict[str, str], tmp_path: Path) -> None:
    cli = server_env(
        env,
        5000,
        DATABASE_URL="postgresql://rocket2:hunter2-secret@127.0.0.1:1/nowhere",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    result = _rocket2("db", "check", env=cli, cwd=tmp_path)
    assert result.returncode == 1
    assert "database check failed" in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_user_promote_makes_the_first_admin(
    database_url: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    early = _rocket2("user", "promote", "U0FIRST01", "admin", env=cli_env, cwd=tmp_path)
    assert early.returncode == 1 and "rocket2 db upgrade" in early.stderr

    assert _rocket2("db", "upgrade", env=cli_env, cwd=tmp_path).returncode == 0
    made = _rocket2("user", "promote", "u0first01", "admin", env=cli_env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "U0FIRST01: created with permission admin" in made.stdout
    again = _rocket2("user", "promote", "U0FIRST01", "team_lead", env=cli_env, cwd=tmp_path)
    assert "admin -> team_lead" in again.stdout

    store = Store(make_engine(database_url))
    with store.unit_of_work() as uow:
        user = uow.users.require("U0FIRST01")
        assert (user.permission.value, user.karma) == ("team_lead", 1)
    store.dispose()


def test_user_promote_rejects_bad_input(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad_id = _rocket2("user", "promote", "not-an-id", "admin", env=cli_env, cwd=tmp_path)
    assert bad_id.returncode == 1 and "SLACK_ID" in bad_id.stderr
    bad_level = _rocket2("user", "promote", "U0X000001", "owner", env=cli_env, cwd=tmp_path)
    assert bad_level.returncode == 2 and "invalid choice" in bad_level.stderr


def test_commands_report_config_errors(tmp_path: Path) -> None:
    cli = server_env({}, 5000, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    result = _rocket2("db", "upgrade", env=cli, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr


def test_postgres_advisory_lock_is_per_database() -> None:
    """Holding the lock on one database must not block migrating another (parallel tests, and
    several apps on one server)."""
    server = db.postgres_server_url()
    first, second = db.create_postgres_database(server), db.create_postgres_database(server)
    engine, other_engine = make_engine(first), make_engine(second)
    try:
        with migration_lock(engine):
            assert upgrade(other_engine, lock_timeout=5).changed
        with other_engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 0
    finally:
        engine.dispose()
        other_engine.dispose()
        db.drop_postgres_database(server, first)
        db.drop_postgres_database(server, second)
