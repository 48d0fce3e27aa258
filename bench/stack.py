"""The stack under test: Gunicorn (gunicorn.conf.py) behind real nginx (the repo's nginx.conf).

``Stack("rocket2", …)`` runs the Procfile's web command; ``Stack("bolt", …)`` and
``Stack("baseline", …)`` run the same Gunicorn settings (without Rocket 2's hooks) serving the
Bolt peer (bench.bolt_peer) and bare Flask (bench.baseline_app). nginx is
tests.support.nginx.NginxServer: the repository's nginx.conf with only its deployment-specific
strings substituted (and its per-address limit lifted: wrk is one address), TLS with a
certificate made at start.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import httpx

from bench.measure import rss_kib, tree_cpu_seconds, tree_pids, tree_pss_mib, tree_rss_mib
from tests.support.gunicorn import REPO, free_port, server_env, terminate, wait_until
from tests.support.nginx import NGINX_CONF, NginxServer

Kind = Literal["rocket2", "bolt", "baseline"]
CONF = {
    "rocket2": REPO / "gunicorn.conf.py",
    "bolt": REPO / "bench" / "bolt_peer.gunicorn.conf.py",
    "baseline": REPO / "bench" / "baseline.gunicorn.conf.py",
}
Probe = Callable[[httpx.Client, str], bool]


def get_root(client: httpx.Client, url: str) -> bool:
    """The default readiness probe: GET / answers 200."""
    return client.get(url + "/").status_code == 200


def procfile_web_command() -> list[str]:
    """The Procfile's `web:` command, split into argv."""
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line.removeprefix("web:"))
    raise RuntimeError("Procfile has no web: line")


_server_python = [sys.executable]


def run_servers_with(python: Path) -> None:
    """Start every later server with ``python`` (bench.runtime.server_python)."""
    _server_python[:] = [str(python)]


def gunicorn_argv(kind: Kind) -> list[str]:
    """argv that starts Gunicorn for ``kind`` with the servers' interpreter's Gunicorn."""
    argv = procfile_web_command()
    assert argv[0] == "gunicorn"
    argv = [*_server_python, "-m", "gunicorn", *argv[1:]]
    return [str(CONF[kind]) if a == "gunicorn.conf.py" else a for a in argv]


class Gunicorn:
    """One Gunicorn master started from the Procfile command, in ``workdir``."""

    def __init__(
        self, kind: Kind, config_env: dict[str, str], workdir: Path, **extra_env: str
    ) -> None:
        self.kind = kind
        self.port = free_port()
        self.workdir = workdir
        self.env = server_env(config_env, self.port, PYTHONPATH=str(REPO), **extra_env)
        self.log_path = workdir / f"gunicorn-{kind}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        """Direct URL of Gunicorn (bypassing nginx)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: Probe = get_root) -> float:
        """Exec the command and poll ``probe`` (GET / by default) until it holds; return the
        seconds from exec to then."""
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            gunicorn_argv(self.kind),
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        with httpx.Client(timeout=2) as client:

            def ready() -> bool:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"{self.kind} gunicorn exited: {self.log_path}")
                try:
                    return probe(client, self.url)
                except httpx.HTTPError:
                    return False

            wait_until(ready, timeout=60, interval=0.005, what=f"{self.kind} on {self.url}")
        return time.perf_counter() - self.started_at

    def rss_mib(self) -> float:
        """RSS of the master and its workers."""
        assert self.proc is not None
        return tree_rss_mib(self.proc.pid)

    def master_worker_rss_mib(self) -> tuple[float, float]:
        """RSS of the master alone, and of its workers together."""
        assert self.proc is not None
        workers = [pid for pid in tree_pids(self.proc.pid) if pid != self.proc.pid]
        return rss_kib(self.proc.pid) / 1024, sum(rss_kib(pid) for pid in workers) / 1024

    def cpu_seconds(self) -> float:
        """CPU time the master and its workers have used so far."""
        assert self.proc is not None
        return tree_cpu_seconds(self.proc.pid)

    def pss_mib(self) -> float:
        """PSS of the master and its workers (shared pages counted once)."""
        assert self.proc is not None
        return tree_pss_mib(self.proc.pid)

    def output(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """TERM and wait."""
        if self.proc is not None:
            terminate(self.proc, 40)
            self._log.close()


# wrk sends every connection from one address; nginx.conf's limit of 10 requests in progress
# per address (decision 0020) would answer the rest 429, so the bench lifts it.
PER_ADDRESS_LIMIT = "limit_conn rocket2_per_address 10;"


def _without_per_address_limit(path: Path) -> Path:
    """nginx.conf with its per-address limit lifted, written to ``path``."""
    text = NGINX_CONF.read_text()
    assert text.count(PER_ADDRESS_LIMIT) == 1, "nginx.conf's per-address limit changed"
    path.write_text(text.replace(PER_ADDRESS_LIMIT, "limit_conn rocket2_per_address 10000;"))
    return path


class Stack:
    """Gunicorn plus nginx in front of it, both real, on loopback."""

    def __init__(self, kind: Kind, config_env: dict[str, str], workdir: Path) -> None:
        self.kind = kind
        workdir.mkdir(parents=True, exist_ok=True)
        self.gunicorn = Gunicorn(kind, config_env, workdir)
        self.nginx = NginxServer(
            upstream=f"127.0.0.1:{self.gunicorn.port}",
            workdir=workdir / "nginx",
            conf_source=_without_per_address_limit(workdir / "nginx.source.conf"),
        )

    @property
    def https_url(self) -> str:
        """Base URL through nginx's TLS listener."""
        return self.nginx.https_url

    def __enter__(self) -> Stack:
        self.gunicorn.start()
        self.nginx.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.nginx.stop()
        self.gunicorn.stop()

    def nginx_rss_mib(self) -> float:
        """RSS of nginx's master and workers."""
        assert self.nginx.proc is not None
        return tree_rss_mib(self.nginx.proc.pid)

    def acks_logged(self) -> int:
        """How many POST /slack/commands nginx answered 200 (its access log)."""
        return sum(
            1
            for line in self.nginx.output().splitlines()
            if '"POST /slack/commands' in line and '" 200 ' in line
        )
