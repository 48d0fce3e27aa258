"""TERM drains the acknowledged Slack work (decision 0006), through a real Gunicorn.

Each test starts its own one-worker server with a short graceful_timeout (TERM ends it).
Commands are kept busy by holding the fake GitHub (``team refresh`` lists the teams there),
so "running" and "queued" are arranged by ordering, never by timing; every reply is counted
at the fake Slack's own response_url per command.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from app.store import Permission, Store, make_engine
from tests.support.fake_github import FakeGitHub, fake_for_env
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.keys import valid_env
from tests.support.rocket import LINKING_ENV, sqlite_url
from tests.support.slack import FakeSlack, command_body, signed_headers

GRACE = 4  # --graceful-timeout for these servers
THREADS = 8  # app.web.slack.LISTENER_THREADS
ADMIN = "U0ADMIN001"
TEAMS = r"/orgs/[^/]+/teams"
FORM = "application/x-www-form-urlencoded"
NOTICE = "Rocket 2 restarted before it could finish `/rocket team refresh`; please run it again."


class Drained:
    """A one-worker Rocket 2 with its fakes, to be stopped with TERM by the test."""

    def __init__(self, directory: Path, key_pem: str) -> None:
        self.slack = FakeSlack().start()
        github_server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        github_server.start()
        database_url = sqlite_url(directory)
        self.env = valid_env(key_pem, **LINKING_ENV)
        self.github: FakeGitHub = fake_for_env(github_server, self.env)
        self.github.seed_small_org()
        self.env.update(
            SLACK_API_URL=self.slack.api_url, DATABASE_URL=database_url, WEB_CONCURRENCY="1"
        )
        port = free_port()
        self.server = GunicornServer(
            env=server_env(self.env, port),
            port=port,
            log_path=directory / "gunicorn.log",
            cwd=directory,
            args=["--graceful-timeout", str(GRACE)],
        ).start()
        self.store = Store(make_engine(database_url))
        with self.store.unit_of_work() as uow:
            uow.users.create(ADMIN, permission=Permission.admin)

    def command(self, text: str, name: str, client: httpx.Client | None = None) -> httpx.Response:
        """Send `/rocket TEXT` with its own response_url /respond/NAME; return the ack."""
        body = command_body(text, self.slack.response_url_for(name), user_id=ADMIN)
        headers = signed_headers(self.env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
        url = self.server.url + "/slack/commands"
        if client is not None:
            return client.post(url, content=body, headers=headers)
        return httpx.post(url, content=body, headers=headers, timeout=5)

    def replies(self, name: str) -> list[str]:
        """The texts that reached /respond/NAME."""
        return [str(body.get("text", "")) for body in self.slack.bodies(f"/respond/{name}")]

    def term(self) -> float:
        """TERM the master; return when it was sent."""
        sent = time.monotonic()
        self.server.signal(signal.SIGTERM)
        return sent

    def close(self) -> None:
        self.github.release_holds()
        self.server.stop(timeout=10)
        self.store.dispose()
        self.slack.stop()
        if self.github.server.is_running():
            self.github.server.stop()


@pytest.fixture
def rocket(tmp_path: Path, key_pem: str) -> Iterator[Drained]:
    drained = Drained(tmp_path, key_pem)
    try:
        yield drained
    finally:
        drained.close()


def send_all(rocket: Drained, commands: list[tuple[str, str]]) -> None:
    """Send the commands at once; each is acknowledged with an empty 200."""
    with ThreadPoolExecutor(16) as pool:
        acks = list(pool.map(lambda c: rocket.command(*c), commands))
    assert [(a.status_code, a.text) for a in acks] == [(200, "")] * len(commands)


def test_term_with_a_backlog_gives_every_acked_command_exactly_one_reply(rocket):
    names = [f"b{i}" for i in range(THREADS + 40)]
    rocket.github.hold("GET", TEAMS)
    send_all(rocket, [("team refresh", name) for name in names])
    # 8 commands are inside GitHub; the other 40 wait in the worker's queue.
    wait_until(lambda: rocket.github.held == THREADS, what="8 commands running")

    sent = rocket.term()
    assert rocket.server.wait_exit(timeout=GRACE + 5) == 0
    took = time.monotonic() - sent
    assert took < GRACE, f"the worker took {took:.1f}s, not inside the grace"

    # Exactly one reply each, and each is the restart notice (none could finish).
    for name in names:
        assert rocket.replies(name) == [NOTICE], name
    out = rocket.server.output()
    batches = rocket.server.lines("stopping: gave up")
    assert len(batches) == 2, out[-3000:]
    assert "gave up 32 job(s) (queued, cannot start in time): restart notice sent 32" in out
    assert "gave up 16 job(s) (at the deadline): restart notice sent 16, failed 0" in out
    assert len(rocket.server.lines("s after TERM; giving it up")) == THREADS
    assert "Traceback" not in out
    assert "SIGKILL" not in out
    print(
        f"\nbacklog: 48 acked, 48 answered (48 notices: 32 early, 16 at deadline); exit {took:.2f}s"
    )


def test_a_long_team_refresh_in_flight_at_term_gets_the_restart_notice(rocket):
    rocket.github.hold("GET", TEAMS)
    send_all(rocket, [("team refresh", "long")])
    wait_until(lambda: rocket.github.held == 1, what="the refresh inside GitHub")

    sent = rocket.term()
    rocket.slack.wait_for("/respond/long", 1, timeout=GRACE + 2)
    noticed = time.monotonic() - sent
    assert rocket.server.wait_exit(timeout=GRACE + 5) == 0
    took = time.monotonic() - sent
    assert took < GRACE
    assert rocket.replies("long") == [NOTICE]
    line = rocket.server.lines("s after TERM; giving it up")
    assert len(line) == 1 and "command `/rocket team refresh`" in line[0], line
    assert "Traceback" not in rocket.server.output()
    print(f"\nlong refresh: notice {noticed:.2f}s after TERM, exit {took:.2f}s")


def test_commands_that_finish_inside_the_grace_get_their_real_reply(rocket):
    running = [f"run{i}" for i in range(THREADS)]
    queued = [f"q{i}" for i in range(5)]
    rocket.github.hold("GET", TEAMS)
    send_all(rocket, [("team refresh", n) for n in running])
    wait_until(lambda: rocket.github.held == THREADS, what="8 commands running")
    send_all(rocket, [("help", n) for n in queued])  # every thread is busy: these wait

    sent = rocket.term()
    rocket.server.wait_for_output("stopping: 8 acknowledged job(s) running, 5 queued")
    rocket.github.release_holds()
    assert rocket.server.wait_exit(timeout=GRACE + 5) == 0
    took = time.monotonic() - sent
    assert took < GRACE
    for name in running:
        [text] = rocket.replies(name)
        assert "team" in text.lower() and "restarted" not in text, text
    for name in queued:
        [text] = rocket.replies(name)
        assert "/rocket" in text and "restarted" not in text, text
    assert rocket.server.lines("every acknowledged job finished")
    assert not rocket.server.lines("gave up")
    print(f"\ninside the grace: 13 acked, 13 real replies, 0 notices; exit {took:.2f}s")


def test_a_command_on_a_kept_alive_connection_during_the_drain_gets_a_clear_ack(rocket):
    with httpx.Client(timeout=5) as client:
        first = rocket.command("help", "before", client)
        assert (first.status_code, first.text) == (200, "")
        rocket.slack.wait_for("/respond/before")

        rocket.term()
        rocket.server.wait_for_output("stopping:")
        late = rocket.command("help", "during", client)
    assert late.status_code == 200
    assert late.text == (
        "Rocket 2 is restarting right now. Please run `/rocket help` again in a moment."
    )
    assert rocket.server.wait_exit(timeout=GRACE + 5) == 0
    assert rocket.replies("during") == []  # the ack was its answer; no work was queued
    assert rocket.replies("before") != []
