"""A private PostgreSQL cluster for tests that stop or restart the server (never the shared one
at DATABASE_URL_TEST, which other tests use): initdb in a temporary directory, 127.0.0.1 on a
free port, started as scripts/ci/start-postgres.sh starts its own (as the ``postgres`` user when
run as root). ``freeze()`` / ``thaw()`` SIGSTOP / SIGCONT the postmaster and every backend;
``restart()`` is ``pg_ctl restart -m fast``.

    def test_x(pg_cluster):
        url = pg_cluster.url   # postgresql://rocket2@127.0.0.1:PORT/rocket2
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.db import IN_CI
from tests.support.gunicorn import free_port


def _bindir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    found = sorted(root.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


@dataclass
class PgCluster:
    """One private PostgreSQL server (see the module)."""

    directory: Path
    bindir: Path
    port: int

    @property
    def url(self) -> str:
        """The cluster's ``rocket2`` database."""
        return f"postgresql://rocket2@127.0.0.1:{self.port}/rocket2"

    def _run_as(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [
                *self._run_as(),
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "-t",
                "60",
                *args,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        """Start the server (and wait until it accepts connections)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._pg_ctl("-o", options, "start")

    def stop(self) -> None:
        """Stop the server (fast: open sessions are ended)."""
        self.thaw()
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Restart the server: every session (and its advisory locks) ends."""
        self._pg_ctl("-m", "fast", "restart")

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, …)."""
        postmaster = int((self.directory / "data" / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == postmaster:
                    children.append(int(entry.name))
        return [postmaster, *children]

    def _signal_all(self, sig: int) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue

    def freeze(self) -> None:
        """SIGSTOP the whole server: connections stay open, nothing answers."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the whole server."""
        self._signal_all(signal.SIGCONT)


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A private, running PostgreSQL cluster with a ``rocket2`` database (removed after)."""
    bindir = _bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="rocket2-pgc."))
    directory.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PgCluster(directory, bindir, free_port())
    run_as = cluster._run_as()
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(directory / "data"),
            "-U",
            "rocket2",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    cluster.start()
    subprocess.run(
        [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "rocket2",
            "rocket2",
        ],
        check=True,
    )
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
