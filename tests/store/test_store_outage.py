"""A hung PostgreSQL (SIGSTOP, on a private cluster) under a real Gunicorn: acks stay fast,
/healthz answers at once and says the store is down, webhooks get 503 within their deadline,
and after SIGCONT nothing is lost or counted twice, even for a request that timed out and was
sent again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.store import DEFAULT_KARMA, ProcessedEvent, Team
from app.web.github import WEBHOOK_DEADLINE_SECONDS
from tests.support.gunicorn import wait_until
from tests.support.pgcluster import PgCluster, pg_cluster  # noqa: F401
from tests.support.rocket import FORM, Rocket, start_rocket, stop_rocket
from tests.support.slack import command_body
from tests.support.webhooks import ORG, SENDER, json_body, post_signed

TARGET = "U0TARGET01"
FROZEN_SECONDS = 20.0
GAVE = "You gave"
STORE_DOWN = "cannot use its database"
COUNTED = "counted already"


@pytest.fixture
def outage(pg_cluster: PgCluster, tmp_path: Path, key_pem: str) -> Iterator[Rocket]:  # noqa: F811
    rocket = start_rocket(tmp_path, key_pem, pg_cluster.url, "postgres")
    try:
        rocket.add_user(TARGET)
        yield rocket
    finally:
        pg_cluster.thaw()
        stop_rocket(rocket)


@dataclass
class Sent:
    """One request of the load loop: what it was, when, how long, and its answer."""

    kind: str
    at: float
    elapsed: float = 0.0
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    key: str = ""


def timed(kind: str, started: float, key: str, send: Callable[[], httpx.Response]) -> Sent:
    sent = Sent(kind, time.monotonic() - started, key=key)
    begin = time.monotonic()
    try:
        response = send()
        sent.status = response.status_code
        sent.body = response.json() if response.content and kind != "command" else {}
    except httpx.HTTPError:
        sent.status = -1
    sent.elapsed = time.monotonic() - begin
    return sent


def plus_one(rocket: Rocket, name: str, giver: str, trigger: str | None = None) -> httpx.Response:
    body = command_body(
        f"<@{TARGET}> ++", rocket.slack.response_url_for(name), user_id=giver, trigger_id=trigger
    )
    return rocket.post("/slack/commands", body, FORM)


def team_delivery(rocket: Rocket, n: int, delivery: str) -> httpx.Response:
    payload = {
        "action": "created",
        "team": {"id": 7000 + n, "name": f"outage-{n}", "slug": f"outage-{n}", "privacy": "closed"},
        "organization": {"login": ORG},
        "sender": SENDER,
    }
    return post_signed(
        rocket.server.url + "/webhook",
        rocket.env["GITHUB_WEBHOOK_SECRET"],
        "team",
        json_body(payload),
        delivery,
        timeout=WEBHOOK_DEADLINE_SECONDS + 4,
    )


def reply_text(rocket: Rocket, name: str) -> str:
    return str(rocket.slack.bodies(f"/respond/{name}")[0].get("text", ""))


def karma(rocket: Rocket) -> int:
    user = rocket.user(TARGET)
    assert user is not None
    return int(user.karma)


def test_frozen_postgres_keeps_acks_and_healthz_fast_and_loses_nothing(
    outage: Rocket,
    pg_cluster: PgCluster,  # noqa: F811
) -> None:
    rocket = outage
    assert httpx.get(rocket.server.url + "/healthz").json()["store"] == "up"
    deliveries: dict[int, str] = {}
    futures: list[Future[Sent]] = []
    pg_cluster.freeze()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=24) as pool:
        for tick in range(int(FROZEN_SECONDS * 2)):  # bounded: 40 rounds, 2 a second
            pause = started + tick * 0.5 - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load, not waiting for a result
            name = f"frozen{tick}"
            futures.append(
                pool.submit(
                    timed,
                    "command",
                    started,
                    name,
                    lambda name=name, n=tick: plus_one(rocket, name, f"U0GIVER{n:03d}"),
                )
            )
            futures.append(
                pool.submit(
                    timed,
                    "healthz",
                    started,
                    "",
                    lambda: httpx.get(rocket.server.url + "/healthz", timeout=3),
                )
            )
            if tick % 4 == 0:
                deliveries[tick] = str(uuid.uuid4())
                futures.append(
                    pool.submit(
                        timed,
                        "webhook",
                        started,
                        str(tick),
                        lambda n=tick: team_delivery(rocket, n, deliveries[n]),
                    )
                )
        sent = [future.result() for future in futures]
    frozen_for = time.monotonic() - started
    pg_cluster.thaw()

    commands = [s for s in sent if s.kind == "command"]
    probes = [s for s in sent if s.kind == "healthz"]
    hooks = [s for s in sent if s.kind == "webhook"]
    slow = [(round(s.at, 1), s.status, round(s.elapsed, 2)) for s in commands if s.elapsed >= 3]
    assert all(s.status == 200 for s in commands) and not slow, slow
    assert max(s.elapsed for s in probes) < 1.0, [round(s.elapsed, 2) for s in probes]
    late = [s for s in probes if s.at >= 5.0]
    assert late and all(s.status == 503 and s.body["store"] == "down" for s in late), [
        (round(s.at, 1), s.status, s.body.get("store")) for s in late
    ]
    assert all(s.status == 503 for s in hooks), [(s.at, s.status) for s in hooks]
    assert max(s.elapsed for s in hooks) < WEBHOOK_DEADLINE_SECONDS + 1.0
    assert frozen_for >= FROZEN_SECONDS - 1

    # After SIGCONT: the store is up again, every command has exactly one answer, and the
    # karma counts exactly the points whose answer said so.
    wait_until(
        lambda: httpx.get(rocket.server.url + "/healthz").json()["store"] == "up",
        timeout=15,
        what="/healthz store up after SIGCONT",
    )
    for s in commands:
        rocket.slack.wait_for(f"/respond/{s.key}", 1, timeout=60)
    texts = [reply_text(rocket, s.key) for s in commands]
    assert all(len(rocket.slack.requests(f"/respond/{s.key}")) == 1 for s in commands)
    assert all(GAVE in t or STORE_DOWN in t for t in texts), texts
    assert karma(rocket) == DEFAULT_KARMA + sum(GAVE in t for t in texts)

    # GitHub redelivers the 503s: each is processed once (or found processed already).
    for n, delivery in deliveries.items():
        again = team_delivery(rocket, n, delivery)
        assert again.status_code == 200, again.text
        assert again.json()["status"] in ("processed", "duplicate")
    with rocket.store.session() as session:
        teams = session.scalar(select(func.count()).select_from(Team))
        claims = session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.source == "github")
        )
    assert teams == len(deliveries) and claims == len(deliveries)

    # A fresh command works at once, and the log did not flood.
    name = "after"
    assert plus_one(rocket, name, "U0GIVERAFT").status_code == 200
    rocket.slack.wait_for(f"/respond/{name}", 1, timeout=10)
    assert GAVE in reply_text(rocket, name)
    output = rocket.server.output()
    assert output.count("Traceback") <= 6, output.count("Traceback")


def test_a_counted_action_timed_out_then_retried_counts_once(
    outage: Rocket,
    pg_cluster: PgCluster,  # noqa: F811
) -> None:
    rocket = outage
    trigger = f"9.{int(time.time())}.{uuid.uuid4().hex}"
    pg_cluster.freeze()
    try:
        assert plus_one(rocket, "first", "U0GIVER001", trigger).status_code == 200
        # The caller waits 3 s for an answer, gets none (the database hangs), and sends the
        # same request again: the same trigger_id, as a replayed delivery carries it.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not rocket.slack.requests("/respond/first"):
            time.sleep(0.1)
        assert not rocket.slack.requests("/respond/first"), "answered while the store was frozen"
        assert plus_one(rocket, "retry", "U0GIVER001", trigger).status_code == 200
    finally:
        pg_cluster.thaw()
    rocket.slack.wait_for("/respond/first", 1, timeout=60)
    rocket.slack.wait_for("/respond/retry", 1, timeout=60)
    texts = [reply_text(rocket, "first"), reply_text(rocket, "retry")]
    assert sum(GAVE in t for t in texts) == 1, texts
    assert all(GAVE in t or COUNTED in t or STORE_DOWN in t for t in texts), texts
    assert karma(rocket) == DEFAULT_KARMA + 1
