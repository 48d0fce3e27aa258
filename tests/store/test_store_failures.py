"""Store failures as an operator meets them: DATABASE_URL read one way (config check refuses a
password that reads two ways), boot errors in operator words, a full disk under SQLite (one
line per failure, a clear reply), and the traceback throttle and cause words themselves."""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app.logs import THROTTLED_NOTE, TracebackThrottle, failure_cause
from app.store.deadline import BoundedWork, WorkDeferred
from app.store.errors import store_cause
from tests.support import db
from tests.support.cli import rocket2
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.rocket import FORM, Rocket, start_rocket, stop_rocket
from tests.support.slack import command_body

# ---- DATABASE_URL parsed one way ------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "pieces"),
    [
        ("S3cret@Tail", ["S3cret", "Tail"]),
        ("pa:ss@W0rdX", ["pa:ss", "W0rdX"]),
        ("co:lon", ["co:lon", "lon"]),
    ],
)
def test_config_check_refuses_a_password_that_reads_two_ways(
    env: dict[str, str], tmp_path: Path, password: str, pieces: list[str]
) -> None:
    env["DATABASE_URL"] = f"postgresql://rocket:{password}@127.0.0.1:5432/club"
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "DATABASE_URL:" in result.stderr
    assert "percent-encode" in result.stderr
    assert "Traceback" not in result.stderr
    for piece in [password, *pieces]:
        assert piece not in result.stderr + result.stdout


def test_config_check_accepts_the_percent_encoded_password(env: dict[str, str], tmp_path: Path):
    env["DATABASE_URL"] = "postgresql://rocket:S3cret%40Tail%3Ax@127.0.0.1:5432/club"
    result = rocket2("config", "check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "S3cret" not in result.stdout


# ---- boot errors in operator words ----------------------------------------------------------


def boot_output(env: dict[str, str], tmp_path: Path, database_url: str) -> str:
    env.update(SLACK_API_URL="http://127.0.0.1:9/", DATABASE_URL=database_url)
    tmp_path.mkdir(exist_ok=True)
    port = free_port()
    server = GunicornServer(
        env=server_env(env, port), port=port, log_path=tmp_path / "boot.log", cwd=tmp_path
    )
    server.start(wait=False)
    assert server.wait_exit(60) == 3
    output = server.output()
    assert "Traceback" not in output and "Listening at" not in output
    return output


def test_boot_names_a_refused_connection(env: dict[str, str], tmp_path: Path) -> None:
    url = f"postgresql://rocket:pw-4711-never@127.0.0.1:{free_port()}/club"
    output = boot_output(env, tmp_path, url)
    assert "Rocket 2 did not start: the database migration failed: refused" in output
    assert "pw-4711-never" not in output


def test_boot_names_an_unknown_user_and_a_missing_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    server = make_url(db.postgres_server_url())
    nobody = server.set(username="nobody_rocket", password="pw-4712-never")
    output = boot_output(env, tmp_path / "a", nobody.render_as_string(hide_password=False))
    assert "migration failed: authentication failed (no such user)" in output
    assert "pw-4712-never" not in output
    missing = server.set(database="rocket2_no_such_db").render_as_string(hide_password=False)
    output = boot_output(env, tmp_path / "b", missing)
    assert "migration failed: the database does not exist" in output


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of our own (root only: CI runs the suite with sudo)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}"
        if db.IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_boot_names_a_read_only_filesystem(
    env: dict[str, str], tmp_path: Path, small_disk: Path
) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    output = boot_output(env, tmp_path, f"sqlite:///{small_disk / 'rocket2.db'}")
    assert "did not start: the database" in output and "read-only" in output, output[-800:]


# ---- a full disk under SQLite ---------------------------------------------------------------

TARGET = "U0TARGET01"
# What SQLite says depends on which write meets the full disk first (a new connection's WAL
# set-up, or a page of the insert).
_CAUSE = r"(disk full|disk I/O error \(is the disk full\?\))"
FULL = re.compile(rf"cannot use its database right now \({_CAUSE}\)|failed \(ref \w+\): {_CAUSE}")


@pytest.fixture
def full_disk_rocket(small_disk: Path, tmp_path: Path, key_pem: str) -> Iterator[Rocket]:
    # The server's directory (its log) stays on the ordinary disk; only the database is small.
    rocket = start_rocket(
        tmp_path,
        key_pem,
        f"sqlite:///{small_disk / 'data' / 'rocket2.db'}",
        "sqlite",
    )
    try:
        yield rocket
    finally:
        stop_rocket(rocket)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; return the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)

        except OSError:
            pass
        try:
            while True:
                handle.write(b"\0")

        except OSError:
            pass
    return filler


def test_a_full_disk_gives_one_line_per_failure_and_a_clear_reply(
    full_disk_rocket: Rocket, small_disk: Path
) -> None:
    rocket = full_disk_rocket
    rocket.add_user(TARGET)
    rocket.store.dispose()
    with closing(sqlite3.connect(small_disk / "data" / "rocket2.db")) as connection:
        # An empty WAL, so the next write must grow it (not reuse space it has already).
        assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    filler = fill(small_disk)
    before = rocket.server.output()
    count = 6
    for n in range(count):
        name = f"full{n}"
        body = command_body(
            f"<@{TARGET}> ++", rocket.slack.response_url_for(name), user_id=f"U0GIVER{n:03d}"
        )
        assert rocket.post("/slack/commands", body, FORM).status_code == 200
        reply = rocket.slack.wait_for(f"/respond/{name}", 1, timeout=30)[0]["text"]
        assert FULL.search(reply), reply
        assert "reference" in reply
    new = rocket.server.output()[len(before) :]
    failures = [line for line in new.splitlines() if "command karma ++ failed (ref" in line]
    assert len(failures) == count, new[-3000:]
    assert all(len(FULL.findall(line)) == 1 for line in failures), failures
    # One traceback per cause and worker process (the server has two) in the minute.
    assert sum("Traceback" in line for line in new.splitlines()) <= 2
    assert sum(THROTTLED_NOTE.strip() in line for line in failures) >= count - 2
    assert len(new) < 40_000, len(new)

    filler.unlink()
    name = "recovered"
    body = command_body(
        f"<@{TARGET}> ++", rocket.slack.response_url_for(name), user_id="U0GIVERZZZ"
    )
    assert rocket.post("/slack/commands", body, FORM).status_code == 200
    assert "You gave" in rocket.slack.wait_for(f"/respond/{name}", 1, timeout=30)[0]["text"]


# ---- the pieces -----------------------------------------------------------------------------


def test_the_throttle_keeps_one_traceback_a_minute_per_cause() -> None:
    now = [1000.0]
    throttle = TracebackThrottle(every=60.0, clock=lambda: now[0])

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException as raised:
            return logging.LogRecord(
                "rocket2.test",
                logging.ERROR,
                __file__,
                1,
                "work %s failed",
                ("x",),
                (type(raised), raised, raised.__traceback__),
            )

    first, second = record(OSError(28, "No space")), record(OSError(28, "No space"))
    other = record(KeyError("k"))
    for item in (first, second, other):
        assert throttle.filter(item)
    assert first.exc_info and first.getMessage() == "work x failed: disk full"
    assert second.exc_info is None and second.getMessage().endswith(THROTTLED_NOTE)
    assert other.exc_info and other.getMessage() == "work x failed: KeyError"
    now[0] += 61
    later = record(OSError(28, "No space"))
    throttle.filter(later)
    assert later.exc_info


def test_causes_are_operator_words_without_values() -> None:
    refused = create_engine(f"postgresql+psycopg://u:pw-4713@127.0.0.1:{free_port()}/x")
    try:
        with pytest.raises(Exception) as caught:
            refused.connect()
    finally:
        refused.dispose()
    assert store_cause(caught.value) == "refused"
    assert failure_cause(caught.value) == "refused"
    assert store_cause(OSError(30, "Read-only file system")) == "read-only"
    assert store_cause(ValueError("x")) is None


def test_bounded_work_refuses_when_busy_and_gives_up_at_its_deadline() -> None:
    import threading

    gate = threading.Event()
    work = BoundedWork(1, 0.2, "test")
    try:
        with pytest.raises(WorkDeferred, match="within"):
            work.run(gate.wait)
        with pytest.raises(WorkDeferred, match="busy"):
            work.run(lambda: 1)  # waits up to a second for the thread, then gives up
        # The running job is now older than a second: stuck, so the next caller is refused
        # at once instead of waiting.
        began = time.monotonic()
        with pytest.raises(WorkDeferred, match="busy"):
            work.run(lambda: 1)
        assert time.monotonic() - began < 0.3
    finally:
        gate.set()

    def attempt() -> int | None:
        try:
            return work.run(lambda: 2)
        except WorkDeferred:  # the released thread's slot comes back a moment later
            return None

    assert wait_until(attempt, timeout=5, what="a free slot") == 2
