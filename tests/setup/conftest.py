"""The stand-ins alone (`rocket2 dev standins`, a subprocess) in a fresh directory with a
throwaway dev .env, for the setup and doctor tests; and a check that no secret was printed.
The stand-ins record their exchanges, held to the services' descriptions at the end."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from tests.support.cli import rocket2
from tests.support.gunicorn import free_port, terminate, wait_until
from tests.support.playground import check_exchanges


@dataclass
class StandIns:
    """The stand-ins serving ``url`` from ``directory`` (its .env, its data/dev)."""

    directory: Path
    url: str
    proc: subprocess.Popen[bytes]

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`rocket2 ARGS` in the directory, as an operator types it."""
        return rocket2(*args, env=env, cwd=self.directory)

    def config_token(self) -> str:
        token: str = httpx.get(self.url + "/dev/api/slack/config-token").json()["token"]
        return token


def start_standins(directory: Path) -> StandIns:
    port = free_port()
    made = rocket2("dev-env", "--standins-port", str(port), env={}, cwd=directory)
    assert made.returncode == 0, made.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev", "standins", "--record", "exchanges.jsonl"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=(directory / "standins.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (directory / "standins.log").read_text()
        try:
            return httpx.get(url + "/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=30, what="the stand-ins")
    return StandIns(directory, url, proc)


@pytest.fixture(scope="session")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIns]:
    """One set of stand-ins for the setup tests (each names its own env file and App, or
    leaves the shared .env usable)."""
    running = start_standins(tmp_path_factory.mktemp("standins"))
    try:
        yield running
    finally:
        terminate(running.proc, 10)
        check_exchanges(running.directory / "exchanges.jsonl")


def secrets_in(env_file: Path) -> list[str]:
    """The secret values an env file holds (and each GITHUB_KEY line), to look for in output."""
    values = dotenv_values(env_file)
    names = (
        "SLACK_SIGNING_SECRET",
        "SLACK_API_TOKEN",
        "GITHUB_WEBHOOK_SECRET",
        "GITHUB_CLIENT_SECRET",
    )
    found = [str(values[n]) for n in names if values.get(n)]
    key = str(values.get("GITHUB_KEY") or "")
    found += [line for line in key.splitlines() if line and "PRIVATE KEY" not in line]
    return found


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret was printed"
