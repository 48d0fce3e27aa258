"""The lost VM, with the real docker-compose.yml and its litestream service replicating to the
rocket2-replica volume (standing in for a disk or bucket that outlives the VM).

Karma points are acknowledged through nginx; the app and Litestream are killed and the app's
data volume is deleted; `docker compose up -d` on the empty volume restores the replica before
the app migrates. Every point the replica held before the loss comes back; how many of the last
ones did, and the time to the first healthy answer, are printed (ROCKET2_DEPLOY_REPORT too).
This file sorts after test_rollout.py, whose last test takes the session's stack down: it
brings the stack up again with replication on, reusing the session's images and certificate.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import httpx
import pytest

from tests.container.conftest import https_get, require_loopback_ports
from tests.container.deploy import DOMAIN, Deployment
from tests.container.envfile import operator_env_file
from tests.support.gunicorn import wait_until
from tests.support.slack import FakeSlack, command_body, signed_headers

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

RECEIVER = "U0RECEIVE1"
BATCH = 6  # karma points per batch, one giver each
REPLICA = "file:///app/replica"
GIVERS_BACK = """
import json, sqlite3
db = sqlite3.connect("file:/app/data/rocket2.db?mode=ro", uri=True)
print(json.dumps([r[0] for r in db.execute("SELECT giver FROM karma_gifts")]))
"""
PROBE = (
    "rm -f /tmp/probe.db; litestream restore -o /tmp/probe.db {replica} >/dev/null 2>&1; "
    'python -c \'import json, sqlite3; db = sqlite3.connect("/tmp/probe.db"); '
    'print(json.dumps([r[0] for r in db.execute("SELECT giver FROM karma_gifts")]))\''
)


def report(name: str, **fields: object) -> None:
    """Print the numbers; append them to ROCKET2_DEPLOY_REPORT when that is set (bench/)."""
    line = json.dumps({"case": name, **fields})
    print(f"\n[deploy report] {line}")
    target = os.environ.get("ROCKET2_DEPLOY_REPORT")
    if target:
        with open(target, "a") as out:
            out.write(line + "\n")


def command(stack: Deployment, slack: FakeSlack, secret: str, text: str, user: str) -> str:
    """`/rocket TEXT` as ``user`` through nginx's https port; the reply's text."""
    name = f"vm-{uuid.uuid4().hex[:12]}"
    body = command_body(text, slack.response_url_for(name), user_id=user)
    headers = signed_headers(secret, body, content_type="application/x-www-form-urlencoded")
    with httpx.Client(verify=False, timeout=30) as client:  # noqa: S501 - Pebble's certificate
        response = client.post(
            f"https://127.0.0.1:{stack.https_port}/slack/commands",
            content=body,
            headers={**headers, "Host": DOMAIN},
            extensions={"sni_hostname": DOMAIN},
        )
    assert response.status_code == 200, response.text
    return str(slack.wait_for(f"/respond/{name}", 1, timeout=30)[0]["text"])


def give(stack: Deployment, slack: FakeSlack, secret: str, first: int) -> dict[str, float]:
    """BATCH acknowledged karma points to RECEIVER; giver → when its reply came."""
    acked = {}
    for i in range(first, first + BATCH):
        giver = f"U0GIVER{i:03d}"
        reply = command(stack, slack, secret, f"<@{RECEIVER}> ++", giver)
        assert "You gave" in reply, reply
        acked[giver] = time.monotonic()
    return acked


def givers_in(stack: Deployment, service: str, script: str) -> set[str]:
    result = stack.compose("exec", "-T", service, *script, check=False)
    lines = result.stdout.strip().splitlines()
    return set(json.loads(lines[-1])) if result.returncode == 0 and lines else set()


@pytest.fixture(scope="module")
def replicated(deployment: Deployment, app_env: dict[str, str]) -> Deployment:
    """The session's deployment up again, its .env with REPLICA_URL (replication on)."""
    began = time.monotonic()
    operator_env_file(deployment.project_dir / ".env", {**app_env, "REPLICA_URL": REPLICA})
    deployment.write_override()
    require_loopback_ports(deployment)
    deployment.compose("up", "-d", "--no-build", timeout=400)
    wait_until(
        lambda: https_get(deployment, "/", verify=False).status_code == 200,
        timeout=90,
        interval=0.5,
        what="https through nginx",
    )
    print(f"\n[lost VM] the stack up with replication in {time.monotonic() - began:.1f} s")
    return deployment


def test_a_lost_vm_comes_back_from_the_replica(
    replicated: Deployment, container_slack: FakeSlack, app_env: dict[str, str]
) -> None:
    started = time.monotonic()
    stack, secret = replicated, app_env["SLACK_SIGNING_SECRET"]
    assert "created" in command(stack, container_slack, secret, "user add", RECEIVER)
    older = give(stack, container_slack, secret, 0)
    probe = ["sh", "-c", PROBE.format(replica=REPLICA)]
    wait_until(
        lambda: set(older) <= givers_in(stack, "litestream", probe),
        timeout=60,
        interval=1,
        what="the replica to hold the first points",
    )
    newest = give(stack, container_slack, secret, BATCH)
    lost_at = time.monotonic()
    stack.compose("kill", "rocket2", "litestream")
    stack.compose("rm", "-f", "rocket2", "litestream")
    stack.docker.run("volume", "rm", f"{stack.project}_rocket2-data")

    began = time.monotonic()
    stack.compose("up", "-d", "--no-build", timeout=400)
    wait_until(
        lambda: https_get(stack, "/healthz", verify=False).status_code == 200,
        timeout=120,
        interval=0.2,
        what="a healthy answer after the loss",
    )
    healthy_after = time.monotonic() - began
    back = givers_in(stack, "rocket2", ["python", "-c", GIVERS_BACK])
    assert set(older) <= back, f"points the replica held were lost: {set(older) - back}"
    ages = {g: round(lost_at - t, 1) for g, t in newest.items()}
    report(
        "lost VM (litestream, file replica)",
        acknowledged=len(older) + len(newest),
        older_back=len(set(older) & back),
        newest_back=len(set(newest) & back),
        newest_ages_s=[ages[g] for g in newest],
        newest_lost=[ages[g] for g in newest if g not in back],
        healthy_after_s=round(healthy_after, 1),
        test_s=round(time.monotonic() - started, 1),
    )
    logs = stack.compose("logs", "rocket2").stdout
    assert "restored it from" in logs
    open_files = stack.compose("exec", "-T", "litestream", "find", "/app/replica", "-perm", "/077")
    assert open_files.stdout.strip() == "", f"replica files open to others: {open_files.stdout}"
