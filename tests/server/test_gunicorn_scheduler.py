"""The scheduler runs exactly once per instance, comes back when its host dies, and its job
posts a random public channel (the trigger forced with SIGUSR2, against the fake Slack API)."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.gunicorn import secrets_of
from tests.support.slack import FakeSlack

STARTED = "scheduler started"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def host_pid(line: str) -> int:
    match = re.search(r"scheduler started in worker pid=(\d+)", line)
    assert match, line
    return int(match.group(1))


def test_four_workers_one_scheduler_one_notice_and_the_job(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url, WEB_CONCURRENCY="4", LOG_LEVEL="DEBUG")
    env["SLACK_ANNOUNCEMENT_CHANNEL"] = "#announce"
    env["SCHEDULER_TIMEZONE"] = "Europe/Berlin"
    slack.channels_pages = [
        [{"id": "CARCHIVED", "name": "old", "is_archived": True}],
        [{"id": "CLIVE0001", "name": "live", "is_archived": False}],
    ]
    server = gunicorn_server(env)

    # All four workers have tried: one hosts the scheduler, three stand by.
    server.wait_for_output("Booting worker", 4)
    server.wait_for_output("stands by", 3)
    started = server.lines(STARTED)
    assert len(started) == 1
    # The weekly trigger: next run is a Saturday, 12:00, in SCHEDULER_TIMEZONE.
    next_run = datetime.fromisoformat(started[0].split("next run ", 1)[1].split()[0])
    berlin = next_run.astimezone(ZoneInfo("Europe/Berlin"))
    assert (berlin.weekday(), berlin.hour, berlin.minute) == (5, 12, 0)
    assert next_run.utcoffset() == berlin.utcoffset()
    assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(days=7)
    assert len(server.lines("Scheduler started")) == 0  # APScheduler's own line is not repeated

    # One start-up notice for the instance, not one per worker.
    slack.wait_for("/api/chat.postMessage", 1)
    assert httpx.get(server.url + "/healthz").json()["scheduler"]["running"] is True
    notices = [
        b for b in slack.bodies("/api/chat.postMessage") if b["text"] == "Rocket 2 has restarted"
    ]
    assert len(notices) == 1

    # Force the weekly trigger: SIGUSR2 makes every job due now in the host worker.
    os.kill(host_pid(started[0]), signal.SIGUSR2)
    posts = slack.wait_for("/api/chat.postMessage", 2)
    post = posts[-1]
    assert post["channel"] == "#announce"
    assert "<#CLIVE0001>" in post["text"]  # page 2 was read; the archived channel never picked
    assert len(slack.requests("/api/conversations.list")) == 2
    server.assert_no_secrets(secrets_of(env))


def test_scheduler_comes_back_when_its_host_dies(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url, WEB_CONCURRENCY="2", LOG_LEVEL="DEBUG")
    server = gunicorn_server(env)
    slack.wait_for("/api/chat.postMessage", 1)
    first = host_pid(server.wait_for_output(STARTED)[0])

    os.kill(first, signal.SIGKILL)
    lines = server.wait_for_output(STARTED, 2, timeout=30)
    assert host_pid(lines[1]) != first
    assert len(lines) == 2
    assert httpx.get(server.url + "/healthz").json()["scheduler"]["running"] is True
    # The replacement worker (and the survivor) did not send the start-up notice again.
    server.wait_for_output("start-up notice: already sent", 2)
    assert len(slack.requests("/api/chat.postMessage")) == 1


def test_sigusr2_in_a_standby_worker_is_ignored(gunicorn_server, env):
    env.update(SLACK_API_URL="http://127.0.0.1:9/", WEB_CONCURRENCY="2", LOG_LEVEL="DEBUG")
    server = gunicorn_server(env)
    standby = re.search(r"pid=(\d+) stands by", server.wait_for_output("stands by")[0])
    assert standby
    os.kill(int(standby.group(1)), signal.SIGUSR2)
    server.wait_for_output("run-now ignored")
    assert httpx.get(server.url + "/").status_code == 200
