"""PostgreSQL restarted under two instances (a private cluster): the host's advisory lock goes
with its session, the host notices on its next check and stops its scheduler, and afterwards
exactly one instance says ``running: true``, within a bounded time, and keeps saying it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.server.scheduler import RETRY_SECONDS
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.pgcluster import PgCluster, pg_cluster  # noqa: F401
from tests.support.slack import FakeSlack

STEPPED_DOWN = "scheduler stopped in worker"
STARTED = "scheduler started"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def running(server: GunicornServer) -> bool | None:
    """What the instance's /healthz says (None when it cannot answer)."""
    try:
        return bool(httpx.get(server.url + "/healthz", timeout=2).json()["scheduler"]["running"])
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def hosts(servers: list[GunicornServer]) -> list[bool | None]:
    return [running(server) for server in servers]


def elected_again(host: GunicornServer, servers: list[GunicornServer]) -> bool:
    """Whether some worker started a scheduler after the host stepped down."""
    after = host.output().split(STEPPED_DOWN, 1)[-1]
    return STARTED in after or any(s.lines(STARTED) for s in servers if s is not host)


def test_postgres_restart_leaves_exactly_one_scheduler(
    env: dict[str, str],
    slack: FakeSlack,
    pg_cluster: PgCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    env.update(SLACK_API_URL=slack.api_url, DATABASE_URL=pg_cluster.url, WEB_CONCURRENCY="2")
    servers: list[GunicornServer] = []
    try:
        for n in range(2):
            directory = tmp_path / f"instance{n}"
            directory.mkdir()
            port = free_port()
            servers.append(
                GunicornServer(
                    env=server_env(env, port), port=port, log_path=directory / "log", cwd=directory
                ).start()
            )
        wait_until(lambda: sorted(map(bool, hosts(servers))) == [False, True], what="one host")
        host = next(s for s in servers if running(s))

        pg_cluster.restart()

        # The host's lock check fails on its dead session: it steps down at once…
        host.wait_for_output(STEPPED_DOWN, timeout=RETRY_SECONDS * 3)
        # …and within a few election rounds exactly one instance hosts again, and stays alone.
        wait_until(
            lambda: hosts(servers).count(True) == 1 and elected_again(host, servers),
            timeout=RETRY_SECONDS * 6,
            what="exactly one scheduler after the restart",
        )
        until = time.monotonic() + RETRY_SECONDS * 3
        while time.monotonic() < until:  # bounded: three election rounds
            seen = hosts(servers)
            assert seen.count(True) == 1, seen
            time.sleep(0.5)
    finally:
        for server in servers:
            server.stop()
