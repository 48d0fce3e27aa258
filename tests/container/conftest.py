"""Fixtures for the container tests: the private engine, the stand-in bases, the real image.

Without an engine (no root, no dockerd) the tests skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.container import standins
from tests.container.engine import REPO, Docker, Engine, EngineUnavailable

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
    for tool in ("docker-compose", "debootstrap", "pebble", "pebble-challtestsrv"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            unavailable(f"{tool} is not installed (scripts/install-system.sh installs it)")
    try:
        engine = Engine.attach_or_start()
    except EngineUnavailable as exc:
        unavailable(str(exc))
    yield Docker(engine=engine, config_dir=tmp_path_factory.mktemp("docker-config"))
    engine.stop()


@pytest.fixture(scope="session")
def base_images(docker: Docker, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """python:3.12-slim, nginx:stable-alpine and certbot/certbot, as local stand-ins."""
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
