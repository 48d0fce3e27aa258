"""Start a real Gunicorn (via gunicorn.conf.py) as a subprocess and wait until it serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` passes (then fail)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def terminate(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """TERM ``proc`` and wait up to ``timeout`` seconds; KILL it if it does not stop. Exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


@dataclass
class GunicornServer:
    """A running Gunicorn master: ``gunicorn -c gunicorn.conf.py`` run in ``cwd``.

    Tests run it in a temporary directory, so no developer's ./.env is read and data/ is fresh.
    """

    env: dict[str, str]
    port: int
    log_path: Path
    cwd: Path = REPO
    args: list[str] = field(default_factory=list)
    command: list[str] | None = None  # instead of `python -m gunicorn -c gunicorn.conf.py`
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> GunicornServer:
        """Start the master; with ``wait``, poll GET / until 200."""
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        command = self.command or [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(REPO / "gunicorn.conf.py"),
        ]
        self.proc = subprocess.Popen(
            [*command, *self.args],
            cwd=str(self.cwd),
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            wait_until(self._ready, what=f"gunicorn on {self.url} (log: {self.output()[-2000:]})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited {self.proc.returncode}:\n{self.output()}")
        try:
            return httpx.get(self.url + "/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def lines(self, needle: str) -> list[str]:
        """Output lines that contain ``needle``."""
        return [line for line in self.output().splitlines() if needle in line]

    def wait_for_output(self, needle: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        """Wait until ``needle`` appears on at least ``count`` lines; return those lines."""
        wait_until(
            lambda: len(self.lines(needle)) >= count,
            timeout,
            what=f"{count} line(s) with {needle!r} (log: {self.output()[-3000:]})",
        )
        return self.lines(needle)

    def wait_exit(self, timeout: float = 20.0) -> int:
        """Wait for the master to exit by itself; return its exit status."""
        assert self.proc is not None
        code = self.proc.wait(timeout)
        self._log.flush()
        return code

    def assert_no_secrets(self, secrets: list[str]) -> None:
        """Fail if any secret value (or any line of a PEM key body) is in the output."""
        output = self.output()
        for secret in secrets:
            pieces = [secret]
            if "PRIVATE KEY" in secret:
                pieces = [ln for ln in secret.splitlines() if ln and "PRIVATE KEY" not in ln]
            for piece in pieces:
                assert piece not in output, "a secret value appears in the server output"

    def signal(self, sig: int) -> None:
        """Send a signal to the master."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        """TERM the master and wait for it; KILL if it does not stop in time."""
        if self.proc is None:
            return 0
        code = terminate(self.proc, timeout)
        self._log.close()
        return code


def server_env(config_env: Mapping[str, str], port: int, **extra: str) -> dict[str, str]:
    """A clean process environment: PATH and friends, plus the given Rocket 2 settings.

    A local SLACK_API_URL (the fake Slack, whose response_urls live on the same server) is
    also an allowed reply origin, unless SLACK_RESPONSE_URL_ORIGINS is given.
    """
    keep = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    }
    env = {**keep, **config_env, "PORT": str(port), **extra}
    env.setdefault("PYTHONUNBUFFERED", "1")
    api = urlsplit(env.get("SLACK_API_URL", ""))
    if api.hostname == "127.0.0.1" and "SLACK_RESPONSE_URL_ORIGINS" not in env:
        env["SLACK_RESPONSE_URL_ORIGINS"] = f"{api.scheme}://{api.netloc}"
    return env


SECRET_NAMES = (
    "SLACK_SIGNING_SECRET",
    "SLACK_API_TOKEN",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_KEY",
    "GITHUB_CLIENT_SECRET",
)


def secrets_of(config_env: Mapping[str, str]) -> list[str]:
    """The secret values in a Rocket 2 environment (for assert_no_secrets)."""
    return [config_env[name] for name in SECRET_NAMES if config_env.get(name)]
