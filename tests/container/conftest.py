"""Fixtures for the container tests: the private engine, the stand-in bases, the real image.

Without an engine (no root, no dockerd) the tests skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import json
import shutil
import ssl
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.container import standins
from tests.container.deploy import DOMAIN, Deployment
from tests.container.engine import REPO, Docker, Engine, EngineUnavailable
from tests.container.envfile import operator_env_file
from tests.container.pebble import Pebble, start_pebble
from tests.support.gunicorn import free_port, wait_until
from tests.support.keys import valid_env
from tests.support.slack import FakeSlack

# Slack and GitHub are never reached from the stand-alone containers: a closed port stands in.
OFFLINE = {"SLACK_API_URL": "http://127.0.0.1:9/api/", "GITHUB_API_URL": "http://127.0.0.1:9"}

# The name the tests build the real Dockerfile as (compose gets it through ROCKET2_IMAGE).
IMAGE = "localhost/rocket2:test"


def unavailable(reason: str) -> None:
    """Skip the test with ``reason``; with CI=true, fail it instead."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docker]:
    """The private Docker engine (started by scripts/test.sh, or here), wrapped."""
    for tool in ("debootstrap", "pebble", "pebble-challtestsrv"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            unavailable(f"{tool} is not installed (scripts/install-system.sh installs it)")
    try:
        engine = Engine.attach_or_start()
    except EngineUnavailable as exc:
        unavailable(str(exc))
    client = Docker(engine=engine, config_dir=tmp_path_factory.mktemp("docker-config"))
    try:
        version = client.install_compose_plugin()
    except EngineUnavailable as exc:
        engine.stop()
        unavailable(str(exc))
    if "v2." not in version:
        engine.stop()
        unavailable(f"docker compose is not Compose v2: {version}")
    yield client
    engine.stop()


@pytest.fixture(scope="session")
def base_images(docker: Docker, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """python:3.13-slim, nginx:stable-alpine and certbot/certbot, as local stand-ins."""
    return standins.build_standins(docker, tmp_path_factory.mktemp("standins"))


@pytest.fixture(scope="session")
def image(docker: Docker, base_images: dict[str, str]) -> str:
    """The real Dockerfile, built from this checkout (``docker build .``)."""
    for name in ("Dockerfile", "docker-compose.yml", "nginx.conf", "scripts/setup_deploy.sh"):
        if not (REPO / name).exists():
            unavailable(f"{name} is missing from the repository (issue 4's deploy files)")
    docker.run("build", "-t", IMAGE, str(REPO), timeout=600)
    return IMAGE


@pytest.fixture
def run_container(docker: Docker) -> Iterator[Callable[..., str]]:
    """A factory: ``run_container(*docker_run_args)`` starts a detached container, returns its
    name, and removes it (with its anonymous volumes) after the test."""
    names: list[str] = []

    def run(*args: str) -> str:
        name = f"rocket2-test-{uuid.uuid4().hex[:10]}"
        names.append(name)
        docker.run("run", "-d", "--name", name, *args)
        return name

    yield run
    for name in names:
        docker.run("rm", "-f", "-v", name, check=False)


# --- one VM deployment for the session: test_deploy.py sets it up, test_rollout.py updates it --


@pytest.fixture(scope="session")
def gateway(docker: Docker) -> str:
    """The engine's bridge gateway: a host address every container reaches (never loopback)."""
    return str(docker.inspect("network", "bridge")["IPAM"]["Config"][0]["Gateway"])


@pytest.fixture(scope="session")
def pebble(gateway: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pebble, int]]:
    """Pebble on the engine's bridge gateway, validating http-01 on a fresh loopback port."""
    http_port = free_port()
    server = start_pebble(tmp_path_factory.mktemp("pebble"), gateway, http_port)
    yield server, http_port
    server.stop()


@pytest.fixture(scope="session")
def container_slack(gateway: str) -> Iterator[FakeSlack]:
    """The fake Slack (Web API and response_urls) on the gateway, for the app's containers."""
    fake = FakeSlack(host=gateway).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def app_env(key_pem: str, container_slack: FakeSlack) -> dict[str, str]:
    """The operator's .env for the stack: replies go to the fake Slack; GitHub is unreachable."""
    origin = container_slack.server.url_for("/").rstrip("/")
    return {
        **valid_env(key_pem),
        **OFFLINE,
        "SLACK_API_URL": container_slack.api_url,
        "SLACK_RESPONSE_URL_ORIGINS": origin,
    }


@pytest.fixture(scope="session")
def deployment(
    docker: Docker,
    base_images: dict[str, str],
    image: str,
    pebble: tuple[Pebble, int],
    tmp_path_factory: pytest.TempPathFactory,
    app_env: dict[str, str],
) -> Iterator[Deployment]:
    """A deployment whose first certificate setup_deploy.sh has obtained."""
    server, http_port = pebble
    deployment = Deployment(
        docker=docker,
        pebble=server,
        image=image,
        workdir=tmp_path_factory.mktemp("vm"),
        http_port=http_port,
        https_port=free_port(),
    )
    deployment.project_dir.mkdir()
    operator_env_file(deployment.project_dir / ".env", app_env)
    deployment.first_setup = deployment.setup()
    yield deployment
    deployment.compose("down", "-v", "--remove-orphans", "--timeout", "10", check=False)


@pytest.fixture(scope="session")
def stack(deployment: Deployment) -> Deployment:
    """The real docker-compose.yml (plus the test's override) up, and nginx answering https."""
    setup = deployment.first_setup
    assert setup is not None
    assert setup.returncode == 0, f"setup_deploy.sh failed:\n{setup.stdout}\n{setup.stderr}"
    deployment.write_override()
    require_loopback_ports(deployment)
    deployment.compose("up", "-d", "--no-build", timeout=400)
    wait_until(
        lambda: https_get(deployment, "/", verify=False).status_code == 200,
        timeout=60,
        interval=0.5,
        what="https through nginx",
    )
    return deployment


def require_loopback_ports(deployment: Deployment) -> None:
    """Stop before `up` unless every published port is the loopback high port the test chose.

    Compose merges `ports:` from an override into the base file's list (it cannot remove 80:80),
    so docker-compose.yml takes the host side from ROCKET2_HTTP_PORT / ROCKET2_HTTPS_PORT.
    Compose v2 prints every port in the long form (host_ip, published, target).
    """
    config = json.loads(deployment.compose("config", "--format", "json").stdout)
    published = {
        f"{port.get('host_ip', '')}:{port.get('published')}:{port['target']}"
        for service in config["services"].values()
        for port in service.get("ports", [])
    }
    want = {
        f"127.0.0.1:{deployment.http_port}:80",
        f"127.0.0.1:{deployment.https_port}:443",
    }
    if published != want:
        pytest.fail(
            f"docker-compose.yml publishes {sorted(published)} with ROCKET2_HTTP_PORT and "
            f"ROCKET2_HTTPS_PORT set for the test; expected {sorted(want)}. An override cannot "
            "remove the base file's ports, so nginx's ports must read those variables: "
            '"${ROCKET2_HTTP_PORT:-80}:80" and "${ROCKET2_HTTPS_PORT:-443}:443".'
        )


def https_get(deployment: Deployment, path: str, verify: ssl.SSLContext | bool) -> httpx.Response:
    """GET https://DOMAIN{path} through nginx's loopback port (SNI and Host are DOMAIN)."""
    try:
        with httpx.Client(verify=verify, timeout=10) as client:
            return client.get(
                f"https://127.0.0.1:{deployment.https_port}{path}",
                headers={"Host": DOMAIN},
                extensions={"sni_hostname": DOMAIN},
            )
    except httpx.HTTPError as exc:
        return httpx.Response(599, text=str(exc))
