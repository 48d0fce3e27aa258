"""The scheduled team refresh: TEAM_REFRESH_SCHEDULE (config, trigger, registration), the job's
once-across-instances guards, and a forced run inside a real Gunicorn against the fake GitHub."""

from __future__ import annotations

import os
import re
import signal
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from app.features import build_services
from app.server.scheduler import build_scheduler, run_job
from app.store import Store, make_engine
from app.store.locks import try_hold
from app.teams.jobs import JOB, TEAM_REFRESH_JOB, refresh_trigger
from config import Config, ConfigError, load_config
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support.gunicorn import secrets_of
from tests.support.teams import snapshot, teams_config

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github


def test_default_is_daily_at_four(env):
    config = load_config(env)
    assert config.team_refresh_schedule == "0 4 * * *"
    trigger = refresh_trigger(config)
    assert trigger is not None
    now = datetime.now(UTC)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    local = first.astimezone(ZoneInfo(config.scheduler_timezone))
    assert (local.hour, local.minute) == (4, 0)
    assert second - first in (timedelta(days=1), timedelta(hours=23), timedelta(hours=25))


def test_custom_schedule_and_off(env):
    env["TEAM_REFRESH_SCHEDULE"] = "  30   */6 * *   mon-fri "
    config = load_config(env)
    assert config.team_refresh_schedule == "30 */6 * * mon-fri"
    scheduler = build_scheduler(_services(config))
    assert scheduler.get_job(TEAM_REFRESH_JOB) is not None
    env["TEAM_REFRESH_SCHEDULE"] = "OFF"
    config = load_config(env)
    assert refresh_trigger(config) is None
    scheduler = build_scheduler(_services(config))
    assert scheduler.get_job(TEAM_REFRESH_JOB) is None
    assert scheduler.get_job("random-channel") is not None


def _services(config: Config, store: Store | None = None):  # type: ignore[no-untyped-def]
    """The worker's bundle, as the scheduler gets it (nothing connects until used)."""
    return build_services(config, WebClient(base_url="http://127.0.0.1:9/"), store=store)


def scheduled_refresh(config: Config, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """One run of the job as the scheduler runs it: once per slot, a failure one line."""
    services = _services(config)
    try:
        return run_job(JOB, services, now)
    finally:
        services.github.close()
        services.store.dispose()


@pytest.mark.parametrize("value", ["weekly", "0 5 * *", "61 5 * * *", "0 5 * * * *", "x y z a b"])
def test_bad_schedule_is_named_without_the_value(env, value):
    env["TEAM_REFRESH_SCHEDULE"] = value
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    assert caught.value.names == ("TEAM_REFRESH_SCHEDULE",)
    text = str(caught.value)
    assert "crontab" in text and " — " in text
    assert value not in text


@pytest.fixture
def job_config(fake_github, env, store, database_url):
    fake_github.seed_small_org()
    env["DATABASE_URL"] = database_url
    return fake_github, teams_config(env)


def test_scheduled_refresh_runs_once_per_slot(job_config, store):
    fake, config = job_config
    now = datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC)
    report = scheduled_refresh(config, now=now)
    assert report is not None and report.changed
    assert set(snapshot(store)) == {"all", "backend", "design", "admins", "leads"}
    # Another instance firing the same minute: skipped, no GitHub call.
    calls = len(fake.requests)
    assert scheduled_refresh(config, now=now + timedelta(seconds=20)) is None
    assert len(fake.requests) == calls
    # The next slot runs again and finds nothing to change.
    later = scheduled_refresh(config, now=now + timedelta(days=1))
    assert later is not None and not later.changed


def test_scheduled_refresh_skips_while_another_instance_runs_it(job_config, store, database_url):
    fake, config = job_config
    other = make_engine(database_url)  # another instance's connection / file handle
    try:
        with try_hold(other, "team-refresh") as held:
            assert held
            assert scheduled_refresh(config) is None
            assert snapshot(store) == {} and fake.count("GET", r"/orgs/.*/teams") == 0
    finally:
        other.dispose()
    assert scheduled_refresh(config) is not None


def test_scheduled_refresh_failure_is_one_log_line(job_config, store, caplog):
    fake, config = job_config
    fake.fail("GET", r"/orgs/rocket-club/teams", 503, times=10)
    assert scheduled_refresh(config) is None
    assert snapshot(store) == {}
    lines = [r.getMessage() for r in caplog.records if "scheduled team refresh" in r.getMessage()]
    assert len(lines) == 1 and "failed, carrying on" in lines[0]


def test_forced_run_in_gunicorn(job_config, store, env, gunicorn_server):
    _fake, _config = job_config
    env.update(SLACK_API_URL="http://127.0.0.1:9/", WEB_CONCURRENCY="2", LOG_LEVEL="DEBUG")
    server = gunicorn_server(env)
    started = server.wait_for_output("scheduler started")[0]
    pid = re.search(r"pid=(\d+)", started)
    assert pid
    os.kill(int(pid.group(1)), signal.SIGUSR2)  # every scheduled job is due now
    done = server.wait_for_output("scheduled team refresh done", timeout=30)
    assert len(done) == 1 and "Mirrored 5 GitHub team(s)" in done[0]
    assert set(snapshot(store)) == {"all", "backend", "design", "admins", "leads"}
    server.assert_no_secrets(secrets_of(env))
