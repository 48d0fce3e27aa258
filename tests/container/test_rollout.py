"""Updates and restarts on the VM, under a steady client loop through nginx's https port.

The session's stack (conftest.py, set up by test_deploy.py) is updated in this order:
scripts/deploy.sh with a changed image (0 failed requests, one reply per acknowledged command);
the same while another container takes the app's old address; a new image that never turns
healthy (deploy.sh refuses, the old one keeps serving); a plain ``docker compose up -d`` (it
recovers without an nginx reload; its gap is reported, not asserted); a restart of the engine
(everything comes back by itself). nginx's periodic reload is set to 6 h first, so nothing but
nginx's own resolving can make it follow the app.

Each loop's numbers are printed and, with ROCKET2_DEPLOY_REPORT set to a file, appended to it
as JSON lines (bench/ reads them for BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container.conftest import https_get
from tests.container.deploy import DOMAIN, REPO, Deployment
from tests.container.traffic import ClientLoop, Summary
from tests.support.gunicorn import wait_until
from tests.support.slack import FakeSlack

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

WARM_REQUESTS = 40  # requests the loop sends before and after the change
NEVER_HEALTHY_TIMEOUT = "20"  # ROCKET2_DEPLOY_TIMEOUT for the image that never turns healthy


@pytest.fixture(scope="module")
def rollout(stack: Deployment) -> Deployment:
    """The stack with nginx's periodic reload at 6 h (recreating nginx once, before any loop)."""
    stack.nginx_reload_interval = "6h"
    stack.write_override()
    stack.compose("up", "-d", "--no-deps", "--no-build", "nginx")
    wait_until(
        lambda: https_get(stack, "/", verify=False).status_code == 200,
        timeout=60,
        interval=0.5,
        what="https through the recreated nginx",
    )
    return stack


def derived_image(stack: Deployment, tag: str, *lines: str) -> str:
    """An image built on the tested one (``docker build -t TAG -``, Dockerfile on stdin)."""
    dockerfile = "\n".join([f"FROM {stack.image}", *lines, f"LABEL org.rocket2.test-tag={tag}"])
    stack.docker.run("build", "-t", tag, "-", input=dockerfile + "\n", timeout=300)
    return tag


@pytest.fixture(scope="module")
def loop_factory(
    rollout: Deployment, container_slack: FakeSlack, app_env: dict[str, str]
) -> Iterator[type[ClientLoop]]:
    """Makes client loops against the stack; any loop left running is stopped at the end."""
    started: list[ClientLoop] = []

    class Loop(ClientLoop):
        def __init__(self) -> None:
            super().__init__(
                https_port=rollout.https_port,
                domain=DOMAIN,
                slack=container_slack,
                signing_secret=app_env["SLACK_SIGNING_SECRET"],
                webhook_secret=app_env["GITHUB_WEBHOOK_SECRET"],
            )
            started.append(self)

    yield Loop
    for loop in started:
        loop._stop.set()


def warm(loop: ClientLoop) -> None:
    """Wait until the loop has had WARM_REQUESTS answers, all of them 200 (before a change)."""
    target = len(loop.outcomes) + WARM_REQUESTS
    wait_until(lambda: len(loop.outcomes) >= target, timeout=60, what="client loop traffic")
    assert all(o.status == 200 for o in loop.outcomes), loop.summary().describe()


def settle(loop: ClientLoop, bound: float = 30.0) -> None:
    """After a change: let the loop send WARM_REQUESTS more, or give up after ``bound`` seconds
    (requests to a vanished upstream can each take seconds; the summary then tells)."""
    target = len(loop.outcomes) + WARM_REQUESTS
    deadline = time.monotonic() + bound
    while len(loop.outcomes) < target and time.monotonic() < deadline:
        time.sleep(0.1)


def report(name: str, summary: Summary, **extra: object) -> None:
    """Print the loop's numbers; append them to ROCKET2_DEPLOY_REPORT when that is set."""
    line = {
        "case": name,
        "sent": summary.sent,
        "failed": len(summary.failed),
        "outage_ms": round(summary.outage_ms),
        "answered_in_ack": len(summary.answered_in_ack),
        **extra,
    }
    print(f"\n[deploy report] {json.dumps(line)}")
    target = os.environ.get("ROCKET2_DEPLOY_REPORT")
    if target:
        with open(target, "a") as out:
            out.write(json.dumps(line) + "\n")


def assert_one_reply_each(
    slack: FakeSlack, summary: Summary, loop: ClientLoop, app_logs: str = ""
) -> None:
    """Every acknowledged command got exactly one reply: on its own response_url after an empty
    ack, or in the ack itself (a worker that is stopping says so there) and then none."""
    assert summary.acked_replies, "no command was acknowledged"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(slack.arrived(path) >= 1 for path in summary.acked_replies):
            break
        time.sleep(0.1)
    counts = {path: slack.arrived(path) for path in summary.acked_replies}
    wrong = {p: n for p, n in counts.items() if n != 1}
    for outcome in summary.answered_in_ack:
        if slack.arrived(outcome.reply_path):
            wrong[outcome.reply_path] = 1 + slack.arrived(outcome.reply_path)
    if wrong:
        first = loop.outcomes[0].started
        when = {o.reply_path: round(o.started - first, 2) for o in loop.outcomes if o.reply_path}
        detail = {p: (n, when.get(p)) for p, n in wrong.items()}
        raise AssertionError(
            f"{len(wrong)} of {len(counts)} acknowledged commands got not exactly one reply "
            f"(path: (replies, seconds into the loop)): {detail}\n{app_logs[-6000:]}"
        )


class AppLogs:
    """``docker logs -f`` of app containers into a file, kept after the containers are gone."""

    def __init__(self, stack: Deployment, directory: Path) -> None:
        self.stack, self.directory = stack, directory
        self.procs: list[subprocess.Popen[bytes]] = []

    def follow(self, container: str) -> None:
        out = open(self.directory / f"{container[:12]}.log", "wb")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [self.stack.docker.cli, "logs", "-f", "-t", container],
                env=self.stack.docker.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        )

    def text(self) -> str:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.directory.glob("*.log"))
        )


def nginx_errors(stack: Deployment) -> str:
    """nginx's error-log lines about the upstream (for failure messages)."""
    proc = stack.docker.run("logs", stack.container("nginx"), check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "upstream" in line]
    return "\n".join(lines[-15:])


def image_of(stack: Deployment, container: str) -> str:
    return str(stack.docker.inspect("container", container)["Config"]["Image"])


def app_address(stack: Deployment, container: str) -> str:
    networks = stack.docker.inspect("container", container)["NetworkSettings"]["Networks"]
    return str(networks[f"{stack.project}_default"]["IPAddress"])


def deployed(stack: Deployment, result: subprocess.CompletedProcess[str], image: str) -> str:
    """Check deploy.sh succeeded and left one app container on ``image``; return its id."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "deploy: done:" in result.stdout, output
    (app,) = stack.containers("rocket2")
    assert image_of(stack, app) == image
    stack.image = image  # what the operator's environment now names
    return app


def test_deploy_sh_swaps_the_app_with_no_failed_request(
    rollout: Deployment, loop_factory: type[ClientLoop], container_slack: FakeSlack, tmp_path: Path
) -> None:
    (old,) = rollout.containers("rocket2")
    logs = AppLogs(rollout, tmp_path)
    logs.follow(old)
    image = derived_image(rollout, "localhost/rocket2:next")
    loop = loop_factory().start()
    warm(loop)
    started = time.monotonic()
    result = rollout.deploy(ROCKET2_IMAGE=image, ROCKET2_PULL="missing")
    took = time.monotonic() - started
    settle(loop)
    summary = loop.stop()
    report("deploy.sh", summary, seconds=round(took, 1))

    new = deployed(rollout, result, image)
    logs.follow(new)
    assert new != old
    assert rollout.docker.run("inspect", old, check=False).returncode != 0, "old one not removed"
    assert summary.failed == [], f"{summary.describe()}\n{nginx_errors(rollout)}"
    assert_one_reply_each(container_slack, summary, loop, logs.text())


def squat(stack: Deployment, name: str, address: str) -> bool:
    """Try once to start a container answering 200 on :5000 at ``address`` (it fails while
    anything holds the address); True when it runs there."""
    started = stack.docker.run(
        "run", "-d", "--name", name, "--network", f"{stack.project}_default", "--ip", address,
        "python:3.13-slim", "python3", "-m", "http.server", "5000",
        check=False,
    )  # fmt: skip
    if started.returncode == 0:
        return True
    stack.docker.run("rm", "-f", name, check=False)
    return False


def test_deploy_sh_is_followed_when_another_container_takes_the_old_address(
    rollout: Deployment, loop_factory: type[ClientLoop], container_slack: FakeSlack, tmp_path: Path
) -> None:
    (old,) = rollout.containers("rocket2")
    logs = AppLogs(rollout, tmp_path)
    logs.follow(old)
    old_address = app_address(rollout, old)
    image = derived_image(rollout, "localhost/rocket2:next2")
    squatter = f"{rollout.project}-squatter"
    loop = loop_factory().start()
    warm(loop)
    proc = subprocess.Popen(
        ["bash", str(REPO / "scripts" / "deploy.sh")],
        env={**rollout.env(), "ROCKET2_IMAGE": image, "ROCKET2_PULL": "missing"},
        cwd=str(rollout.project_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # A stranger answering 200 on :5000 takes the old address the moment it is free.
        wait_until(
            lambda: rollout.docker.run("inspect", old, check=False).returncode != 0,
            timeout=240,
            interval=0.1,
            what="deploy.sh to remove the old container",
        )
        wait_until(
            lambda: squat(rollout, squatter, old_address),
            timeout=60,
            interval=0.2,
            what=f"a stranger to take {old_address}",
        )
        stdout, stderr = proc.communicate(timeout=300)
        settle(loop)
        settle(loop)  # the stranger has been answering on the old address for a while
        summary = loop.stop()
        report("deploy.sh, old address taken", summary)
        assert app_address(rollout, squatter) == old_address
    finally:
        if proc.poll() is None:
            proc.kill()
        rollout.docker.run("rm", "-f", squatter, check=False)
    finished = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    new = deployed(rollout, finished, image)
    logs.follow(new)
    assert app_address(rollout, new) != old_address
    assert summary.failed == [], f"{summary.describe()}\n{nginx_errors(rollout)}"
    assert_one_reply_each(container_slack, summary, loop, logs.text())


def test_deploy_sh_refuses_a_version_that_never_turns_healthy(
    rollout: Deployment, loop_factory: type[ClientLoop]
) -> None:
    (old,) = rollout.containers("rocket2")
    serving = image_of(rollout, old)
    broken = derived_image(
        rollout,
        "localhost/rocket2:never-healthy",
        # The app never binds its port: what a release that cannot start looks like.
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; echo this release never serves >&2; '
        'while :; do sleep 1; done"]',
    )
    loop = loop_factory().start()
    warm(loop)
    result = rollout.deploy(
        ROCKET2_IMAGE=broken, ROCKET2_PULL="missing", ROCKET2_DEPLOY_TIMEOUT=NEVER_HEALTHY_TIMEOUT
    )
    settle(loop)
    summary = loop.stop()
    report("deploy.sh, new version never healthy", summary)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "the new version did not turn healthy" in result.stderr, output
    assert "the old version keeps serving" in result.stderr, output
    assert rollout.containers("rocket2") == [old]
    assert image_of(rollout, old) == serving
    leftovers = rollout.docker.run(
        "ps", "-aq", "--filter", f"label=com.docker.compose.project={rollout.project}",
        "--filter", f"ancestor={broken}",
    ).stdout.split()  # fmt: skip
    assert leftovers == [], "the unhealthy container was left behind"
    assert summary.failed == [], f"{summary.describe()}\n{nginx_errors(rollout)}"


def test_plain_compose_up_recovers_without_an_nginx_reload(
    rollout: Deployment, loop_factory: type[ClientLoop]
) -> None:
    nginx = rollout.container("nginx")
    nginx_started = rollout.docker.inspect("container", nginx)["State"]["StartedAt"]
    (old,) = rollout.containers("rocket2")
    rollout.image = derived_image(rollout, "localhost/rocket2:plain-up")
    loop = loop_factory().start()
    warm(loop)
    started = time.monotonic()
    rollout.compose("up", "-d", "--no-build", timeout=300)
    took = time.monotonic() - started
    wait_until(
        lambda: loop.outcomes and loop.outcomes[-1].status == 200,
        timeout=90,
        interval=0.2,
        what="the app to answer through nginx again",
    )
    settle(loop)
    summary = loop.stop()
    report("docker compose up -d", summary, seconds=round(took, 1))

    (new,) = rollout.containers("rocket2")
    assert new != old and image_of(rollout, new) == rollout.image
    # The same nginx process: it followed the new container by resolving, not by a reload.
    assert rollout.container("nginx") == nginx
    assert rollout.docker.inspect("container", nginx)["State"]["StartedAt"] == nginx_started
    tail = loop.outcomes[-WARM_REQUESTS:]
    assert all(o.status == 200 for o in tail), [o.status for o in tail]


def test_the_stack_comes_back_by_itself_after_the_engine_restarts(rollout: Deployment) -> None:
    before = {s: rollout.container(s) for s in ("rocket2", "nginx", "certbot")}
    rollout.docker.engine.restart()
    started = time.monotonic()
    wait_until(
        lambda: https_get(rollout, "/", verify=False).status_code == 200,
        timeout=60,
        interval=0.5,
        what="https through nginx after the engine restarted",
    )
    print(f"\n[deploy report] engine restart: https after {time.monotonic() - started:.1f} s")
    after = {s: rollout.container(s) for s in ("rocket2", "nginx", "certbot")}
    assert after == before  # the same containers, restarted by their policy
    for container in after.values():
        assert rollout.docker.inspect("container", container)["State"]["Running"]


def test_compose_down_leaves_nothing_running(rollout: Deployment) -> None:
    rollout.compose("down", "-v", "--timeout", "10")
    assert rollout.project_resources() == {"containers": [], "networks": [], "volumes": []}
