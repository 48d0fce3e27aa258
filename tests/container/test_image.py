"""The real Dockerfile, built and run by a real Docker engine (checks 1 and 2 of issue 6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.cli import PLAYGROUND_ABSENT
from tests.container.conftest import OFFLINE
from tests.container.engine import Docker
from tests.container.envfile import operator_env_file
from tests.support.gunicorn import free_port, wait_until

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

# The image's own HEALTHCHECK command runs; only its schedule is shortened for the test.
FAST_HEALTH = ["--health-interval", "2s", "--health-start-period", "60s"]


def wait_healthy(docker: Docker, container: str, timeout: float = 90) -> None:
    """Poll until the container's health status is healthy (fail on unhealthy or exit)."""

    def healthy() -> bool:
        status = docker.health(container)
        if status == "unhealthy" or status.startswith("not running"):
            raise AssertionError(f"{container} is {status}:\n{docker.logs(container)}")
        return status == "healthy"

    wait_until(healthy, timeout=timeout, interval=0.5, what=f"{container} to turn healthy")


def test_image_runs_as_non_root_and_turns_healthy(
    docker: Docker, image: str, env: dict[str, str], run_container: Callable[..., str]
) -> None:
    config = docker.inspect("image", image)["Config"]
    assert config["User"] and config["User"].split(":")[0] not in ("", "0", "root")
    assert config["Healthcheck"]["Test"][0] in ("CMD", "CMD-SHELL")

    env_args = [
        arg for name, value in {**env, **OFFLINE}.items() for arg in ("-e", f"{name}={value}")
    ]
    container = run_container(*FAST_HEALTH, *env_args, image)
    wait_healthy(docker, container)

    status = docker.run("exec", container, "cat", "/proc/1/status").stdout
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uid_line.split()[1:]) == {config["User"].split(":")[0]}, uid_line
    assert "0" not in uid_line.split()[1:]
    last = docker.inspect("container", container)["State"]["Health"]["Log"][-1]
    assert last["ExitCode"] == 0, last


def test_docker_run_with_operator_env_file_serves_on_published_port(
    docker: Docker,
    image: str,
    env: dict[str, str],
    tmp_path: Path,
    run_container: Callable[..., str],
) -> None:
    env_file = operator_env_file(tmp_path / ".env", {**env, **OFFLINE})
    assert "\\n" in env_file.read_text() and "='" in env_file.read_text()
    port = free_port()
    container = run_container(
        *FAST_HEALTH, "--env-file", str(env_file), "-p", f"127.0.0.1:{port}:5000", image
    )
    wait_healthy(docker, container)

    response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
    assert response.status_code == 200
    assert "🚀" in response.text
    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    assert health.json()["status"] == "ok"


def test_image_has_no_playground_and_says_how_to_get_it(docker: Docker, image: str) -> None:
    """No app/dev in the image; `rocket2 dev` names where the playground is, with exit 2."""
    probe = "import importlib.util as u; print(u.find_spec('app.dev'), u.find_spec('app.wsgi'))"
    found = docker.run("run", "--rm", image, "python", "-c", probe).stdout.split()
    assert found[0] == "None" and found[1] != "None", found

    dev = docker.run("run", "--rm", image, "rocket2", "dev", "standins", check=False)
    assert dev.returncode == 2, dev.stdout + dev.stderr
    assert dev.stderr.strip().splitlines() == [f"rocket2 dev: {PLAYGROUND_ABSENT}"]
    assert "checkout of the repository" in dev.stderr

    listed = docker.run("run", "--rm", image, "rocket2", "--help").stdout
    marked = {line.split()[0] for line in listed.splitlines() if "(not installed)" in line}
    assert marked == {"dev", "dev-env"}, listed
