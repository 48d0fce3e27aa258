"""The scheduler across instances: with PostgreSQL, two Gunicorn masters sharing DATABASE_URL run
exactly one scheduler (advisory lock), and the other takes over when its instance goes away.
With SQLite each instance runs its own, but a job run is claimed in the store, so a day's post
happens once either way."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.store import Store, make_engine
from app.store.migrate import upgrade
from tests.support import db
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.slack import FakeSlack

STARTED = "scheduler started"
ANNOUNCE = "#announce"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    fake.channels_pages = [[{"id": "CLIVE0001", "name": "live", "is_archived": False}]]
    yield fake
    fake.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server = db.postgres_server_url()
    url = db.create_postgres_database(server)
    try:
        yield url
    finally:
        db.drop_postgres_database(server, url)


def start_instances(env, tmp_path: Path, count: int = 2) -> list[GunicornServer]:
    servers = []
    for n in range(count):
        directory = tmp_path / f"instance{n}"
        directory.mkdir()
        port = free_port()
        server = GunicornServer(
            env=server_env(env, port), port=port, log_path=directory / "log", cwd=directory
        )
        servers.append(server.start())
    return servers


def lines(servers, needle):
    return [line for s in servers for line in s.lines(needle)]


def host_pid(line: str) -> int:
    match = re.search(r"scheduler started in worker pid=(\d+)", line)
    assert match, line
    return int(match.group(1))


def announcements(slack):
    return [b for b in slack.bodies("/api/chat.postMessage") if b["channel"] == ANNOUNCE]


def job_key(env) -> str:
    today = datetime.now(ZoneInfo(env.get("SCHEDULER_TIMEZONE", "America/Los_Angeles"))).date()
    return f"random-channel:{today.isoformat()}"


def test_two_postgres_instances_run_one_scheduler(env, slack, postgres_url, tmp_path):
    env.update(
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=postgres_url,
        WEB_CONCURRENCY="2",
        LOG_LEVEL="DEBUG",
        SLACK_ANNOUNCEMENT_CHANNEL=ANNOUNCE,
    )
    servers = start_instances(env, tmp_path)
    try:
        # Four workers have tried: one hosts, one stands by in its instance, two in the other.
        wait_until(lambda: len(lines(servers, "stands by")) >= 3, what="three standby workers")
        assert lines(servers, "another instance hosts it")
        started = lines(servers, STARTED)
        assert len(started) == 1
        host = next(s for s in servers if s.lines(STARTED))
        other = next(s for s in servers if s is not host)
        # /healthz tells which instance runs it: the standby instance holds no scheduler lock.
        assert httpx.get(host.url + "/healthz").json()["scheduler"]["running"] is True
        assert httpx.get(other.url + "/healthz").json()["scheduler"]["running"] is False

        # Forcing the job posts once and claims the day's run in the database.
        os.kill(host_pid(started[0]), signal.SIGUSR2)
        wait_until(lambda: announcements(slack), what="the random-channel post")
        assert "<#CLIVE0001>" in announcements(slack)[0]["text"]
        host.wait_for_output("processed events: forgot 0 older than 30 days")
        engine = make_engine(postgres_url)
        try:
            with Store(engine).unit_of_work() as uow:
                assert uow.events.seen("job", job_key(env))
        finally:
            engine.dispose()
        # Forced again the same day: the claim says it already ran.
        os.kill(host_pid(started[0]), signal.SIGUSR2)
        host.wait_for_output("random-channel: already ran")
        assert len(announcements(slack)) == 1

        # The hosting instance goes away: the other one takes over.
        host.stop()
        other.wait_for_output(STARTED, timeout=30)
        assert len(other.lines(STARTED)) == 1
    finally:
        for server in servers:
            server.stop()


def test_two_sqlite_instances_each_run_one_but_post_once(env, slack, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared' / 'rocket2.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env.update(
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=url,
        WEB_CONCURRENCY="2",
        LOG_LEVEL="DEBUG",
        SLACK_ANNOUNCEMENT_CHANNEL=ANNOUNCE,
    )
    servers = start_instances(env, tmp_path)
    try:
        wait_until(lambda: len(lines(servers, STARTED)) >= 2, what="a scheduler per instance")
        wait_until(lambda: len(lines(servers, "stands by")) >= 2, what="two standby workers")
        assert len(lines(servers, STARTED)) == 2  # once per instance, as before
        for line in lines(servers, STARTED):
            os.kill(host_pid(line), signal.SIGUSR2)
        wait_until(lambda: lines(servers, "random-channel: already ran"), what="the second run")
        wait_until(lambda: announcements(slack), what="the random-channel post")
        assert len(announcements(slack)) == 1
    finally:
        for server in servers:
            server.stop()
