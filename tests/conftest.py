"""Shared fixtures: keys made at test time, a valid environment, running servers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.contract import LEDGER, PLAYGROUND
from tests.support.gunicorn import GunicornServer, free_port, server_env
from tests.support.keys import pem_pkcs1, rsa_key, valid_env

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_binary(name: str) -> str:
    """Return the path of ``name``; skip the test without it, but fail in CI."""
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path:
        return path
    message = f"{name} is not installed (Debian: apt-get install {name}; `make test` does it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def key_pem() -> str:
    """A 2048-bit RSA key in PKCS#1 PEM, generated for this test session."""
    return pem_pkcs1(rsa_key())


@pytest.fixture
def env(key_pem: str) -> dict[str, str]:
    """A complete valid Rocket 2 environment (a fresh dict per test)."""
    return valid_env(key_pem)


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> Iterator[object]:
    """A factory: ``gunicorn_server(config_env, **extra)`` starts a real Gunicorn on a free port."""
    servers: list[GunicornServer] = []

    def start(config_env: dict[str, str], wait: bool = True, **extra: str) -> GunicornServer:
        port = free_port()
        server = GunicornServer(
            env=server_env(config_env, port, **extra),
            port=port,
            log_path=tmp_path / f"gunicorn-{port}.log",
            cwd=tmp_path,
        )
        servers.append(server)
        return server.start(wait=wait)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def contract_check() -> Iterator[None]:
    """Fail the test in which an exchange with a stand-in broke the service's description."""
    before = len(LEDGER.violations)
    yield
    broken = LEDGER.violations[before:]
    if broken:
        pytest.fail(
            f"{len(broken)} contract violation(s) (tests/support/contract.py):\n"
            + "\n".join(dict.fromkeys(broken)),
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How much the contract check saw in this run."""
    if LEDGER.exchanges:
        terminalreporter.write_line(
            f"contract check: {LEDGER.exchanges} exchanges over {len(LEDGER.operations)} "
            f"operations, {len(LEDGER.violations)} violations ({LEDGER.outside} answers "
            "outside the description on purpose: fault injection, unknown names)"
        )
    seen = PLAYGROUND
    if seen.exchanges:
        terminalreporter.write_line(
            f"contract check (playground): {seen.exchanges} exchanges over "
            f"{len(seen.operations)} operations, {len(seen.violations)} violations "
            f"({seen.outside} answers outside the description on purpose: unknown names)"
        )
