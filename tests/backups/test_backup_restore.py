"""`rocket2 db backup` and `rocket2 db restore` against a real Gunicorn on a SQLite file: a
backup taken while commands write holds every write acknowledged before it began; a restore
brings back the same store, migrates an older revision forward, and is refused while a server
uses the database."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from app.backups.snapshot import parse_name
from app.store import DEFAULT_KARMA, Permission, make_engine
from app.store.migrate import head_revision, upgrade
from tests.backups.conftest import database_of, dump, integrity, karma_of
from tests.support.cli import rocket2
from tests.support.gunicorn import secrets_of, wait_until
from tests.support.rocket import Rocket, sqlite_url, start_rocket, stop_rocket

WRITERS = 2
MAX_WRITES = 160  # the load loop's bound in count (each command is also bounded in time)


def targets(n: int) -> list[str]:
    return [f"U0T{i:07d}" for i in range(n)]


def giver(i: int) -> str:
    return f"U0G{i:07d}"


def karma_load(rocket: Rocket, stop: threading.Event, acked: list[int]) -> list[threading.Thread]:
    """WRITERS threads sending `<@T_i> ++` from giver G_i, one at a time each; ``acked`` gets i
    once the reply says the point was counted (after its unit of work committed)."""
    counter = iter(range(MAX_WRITES))
    lock = threading.Lock()

    def write() -> None:
        while not stop.is_set():
            with lock:
                i = next(counter, None)
            if i is None:
                return
            reply = rocket.command(f"<@{targets(MAX_WRITES)[i]}> ++", giver(i))
            assert "You gave" in reply["text"], reply
            with lock:
                acked.append(i)

    threads = [threading.Thread(target=write, daemon=True) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    return threads


def test_a_backup_under_load_holds_every_write_acknowledged_before_it_began(
    sqlite_rocket: Rocket, tmp_path: Path
) -> None:
    rocket = sqlite_rocket
    rocket.reset()
    for target in targets(MAX_WRITES):
        rocket.add_user(target)
    stop, acked = threading.Event(), []
    threads = karma_load(rocket, stop, acked)
    try:
        wait_until(lambda: len(acked) >= 20, timeout=60, what="20 acknowledged karma points")
        before = set(acked)
        result = rocket2("db", "backup", str(tmp_path / "backups"), env=rocket.env, cwd=tmp_path)
        during = len(acked) - len(before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert result.returncode == 0, result.stderr
    [backup] = list((tmp_path / "backups").iterdir())
    assert f"backup written: {backup}" in result.stdout
    assert integrity(backup) == "ok"
    karma = karma_of(backup)
    lost = [i for i in before if karma[targets(MAX_WRITES)[i]] != DEFAULT_KARMA + 1]
    assert not lost, f"acknowledged before the backup began, missing from it: {lost}"
    described = parse_name(backup)
    assert described is not None and described.revision == head_revision()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    assert not any(secret in str(backup) for secret in secrets_of(rocket.env))
    # The server went on writing: every point acknowledged at all is in the live database.
    live = karma_of(database_of(rocket))
    assert all(live[targets(MAX_WRITES)[i]] == DEFAULT_KARMA + 1 for i in acked)
    print(f"\nbackup under load: {len(before)} acked before, {during} more during the backup")


def arrange_store(rocket: Rocket) -> None:
    """Members (one linked to GitHub, one admin), karma, a team with a member and a lead, a
    pinned special team, a claimed delivery and a karma gift."""
    with rocket.store.unit_of_work() as uow:
        uow.users.create("U0ADMIN001", permission=Permission.admin)
        uow.users.create("U0LINKED01", github_username="octo-linked", github_id=4101, karma=7)
        uow.teams.create(77, "Rocketeers")
        uow.teams.add_member(77, 4101)
        uow.teams.add_lead(77, 4101)
        uow.special_teams.pin("admin", "Rocketeers", 77)
        uow.events.claim("github", "delivery-0001")
    assert "You gave" in rocket.command("<@U0LINKED01> ++", "U0ADMIN001")["text"]


def test_restore_brings_back_the_same_store_and_is_refused_while_the_server_runs(
    tmp_path: Path, key_pem: str
) -> None:
    rocket = start_rocket(tmp_path, key_pem, sqlite_url(tmp_path), "sqlite")
    database = database_of(rocket)
    try:
        arrange_store(rocket)
        backed = rocket2("db", "backup", str(tmp_path / "backups"), env=rocket.env, cwd=tmp_path)
        assert backed.returncode == 0, backed.stderr
        [backup] = list((tmp_path / "backups").iterdir())
        original = dump(backup)
        refused = rocket2("db", "restore", str(backup), env=rocket.env, cwd=tmp_path)
        assert refused.returncode == 1
        assert "docker compose stop rocket2 litestream" in refused.stderr
        assert "gunicorn" in refused.stderr
        with rocket.store.session() as session:  # the wipe, while the server still runs
            for table in ("team_members", "team_leads", "special_teams", "teams"):
                session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
            session.execute(text("DELETE FROM users"))
    finally:
        stop_rocket(rocket)
    wiped = dump(database)
    restored = rocket2("db", "restore", str(backup), env=rocket.env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "2 members, 1 teams" in restored.stdout
    assert dump(database) == original
    [aside] = database.parent.glob("rocket2.db.replaced-*.db")
    assert dump(aside) == wiped
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_an_older_revision_is_migrated_forward(tmp_path: Path, env: dict[str, str]) -> None:
    old = tmp_path / "old" / "rocket2.db"
    engine = make_engine(f"sqlite:///{old}")
    upgrade(engine, revision="0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (slack_id, permission, karma) VALUES ('U0OLDTIMER', 'member', 3)"
            )
        )
    engine.dispose()
    old_env = {**env, "DATABASE_URL": f"sqlite:///{old}"}
    backed = rocket2("db", "backup", str(tmp_path / "backups"), env=old_env, cwd=tmp_path)
    assert backed.returncode == 0, backed.stderr
    [backup] = list((tmp_path / "backups").iterdir())
    assert backup.name.endswith("-rev0001.db")

    new = tmp_path / "new" / "rocket2.db"
    new_env = {**env, "DATABASE_URL": f"sqlite:///{new}"}
    restored = rocket2("db", "restore", str(backup), env=new_env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert f"(schema 0001 → {head_revision()}): 1 members, 0 teams" in restored.stdout
    assert dump(new)["alembic_version"] == [(head_revision(),)]
    assert karma_of(new) == {"U0OLDTIMER": 3}


@pytest.mark.parametrize("content", [b"not a database at all\n", None], ids=["text", "sqlite"])
def test_restore_refuses_a_file_that_is_not_a_rocket2_database(
    tmp_path: Path, env: dict[str, str], content: bytes | None
) -> None:
    database = tmp_path / "data" / "rocket2.db"
    own_env = {**env, "DATABASE_URL": f"sqlite:///{database}"}
    engine = make_engine(own_env["DATABASE_URL"])
    upgrade(engine)
    engine.dispose()
    before = dump(database)
    stranger = tmp_path / "stranger.db"
    if content is None:
        engine = make_engine(f"sqlite:///{stranger}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE notes (body TEXT)"))
        engine.dispose()
    else:
        stranger.write_bytes(content)
    refused = rocket2("db", "restore", str(stranger), env=own_env, cwd=tmp_path)
    assert refused.returncode == 1
    assert "not restored" in refused.stderr and "Rocket 2 database" in refused.stderr
    assert dump(database) == before
    assert not list(database.parent.glob("*.replaced-*"))


def test_on_postgresql_backup_and_restore_name_what_to_use_instead(
    tmp_path: Path, env: dict[str, str]
) -> None:
    pg_env = {**env, "DATABASE_URL": "postgresql://rocket2:pw@127.0.0.1:9/rocket2"}
    for args in (("db", "backup"), ("db", "restore", str(tmp_path / "x.db"))):
        result = rocket2(*args, env=pg_env, cwd=tmp_path)
        assert result.returncode == 1
        assert "pg_dump" in result.stderr and "heroku pg:backups:capture" in result.stderr
        assert "pw" not in result.stderr + result.stdout
    assert not os.listdir(tmp_path)
