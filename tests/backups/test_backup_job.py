"""The scheduled backup (BACKUP_DIR): its trigger, one run, the newest BACKUP_KEEP kept, a second
run of the same minute skipped; and the doctor's warning when nothing protects the store."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slack_sdk import WebClient

from app.backups.job import BACKUP_JOB, JOB, backup_trigger
from app.backups.snapshot import backups_in
from app.backups.status import protection_warning
from app.features import build_services
from app.server.scheduler import build_scheduler, run_job
from app.store import Store
from app.store.migrate import upgrade
from config import Config, load_config

NOW = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)


def scheduled_backup(config: Config, now: datetime):  # type: ignore[no-untyped-def]
    """One run of the job as the scheduler runs it: once per slot, a failure one line."""
    services = build_services(config, WebClient(base_url="http://127.0.0.1:9/"))
    try:
        return run_job(JOB, services, now)
    finally:
        services.store.dispose()


def backed_config(env: dict[str, str], tmp_path: Path, **more: str):  # type: ignore[no-untyped-def]
    return load_config(
        environ={
            **env,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'rocket2.db'}",
            "BACKUP_DIR": str(tmp_path / "backups"),
            **more,
        }
    )


def test_the_job_is_scheduled_only_with_a_backup_dir_on_sqlite(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = backed_config(env, tmp_path)
    assert backup_trigger(config) is not None
    client = WebClient(base_url="http://127.0.0.1:9/")
    scheduler = build_scheduler(build_services(config, client))
    assert scheduler.get_job(BACKUP_JOB) is not None
    assert backup_trigger(load_config(environ=env)) is None
    assert backup_trigger(backed_config(env, tmp_path, BACKUP_SCHEDULE="off")) is None
    postgres = backed_config(env, tmp_path, DATABASE_URL="postgresql://u:p@127.0.0.1:9/db")
    assert backup_trigger(postgres) is None


def test_a_run_backs_up_keeps_the_newest_and_runs_once_a_minute(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = backed_config(env, tmp_path, BACKUP_KEEP="2")
    store = Store.from_config(config)
    upgrade(store.engine)
    with store.unit_of_work() as uow:
        uow.users.create("U0KEPT0001", karma=5)
    store.dispose()
    (tmp_path / "backups").mkdir(mode=0o700)
    (tmp_path / "backups" / "operator-notes.txt").write_text("not a backup\n")
    made = [scheduled_backup(config, NOW + timedelta(days=day)) for day in range(3)]
    assert all(backup is not None for backup in made)
    assert scheduled_backup(config, NOW + timedelta(days=2)) is None  # that minute ran already
    kept = backups_in(tmp_path / "backups")
    assert [b.path for b in kept] == [b.path for b in made[1:] if b is not None]
    assert (tmp_path / "backups" / "operator-notes.txt").exists()
    for backup in kept:
        assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600


def test_the_doctor_warns_when_nothing_protects_the_sqlite_store(
    env: dict[str, str], tmp_path: Path
) -> None:
    bare = load_config(environ=env)
    assert "neither replicated nor backed up" in (protection_warning(bare) or "")
    replicated = load_config(environ={**env, "REPLICA_URL": "file:///replica"})
    assert protection_warning(replicated) is None
    postgres = load_config(environ={**env, "DATABASE_URL": "postgresql://u:p@127.0.0.1:9/db"})
    assert protection_warning(postgres) is None

    config = backed_config(env, tmp_path)
    assert "no backup in BACKUP_DIR yet" in (protection_warning(config) or "")
    store = Store.from_config(config)
    upgrade(store.engine)
    store.dispose()
    assert scheduled_backup(config, NOW) is not None
    assert protection_warning(config, now=NOW + timedelta(hours=30)) is None
    late = protection_warning(config, now=NOW + timedelta(hours=50))
    assert late is not None and "50 hours old" in late
