"""`make run`'s script: a throwaway .env that is a valid config, and the real server on it
beside the stand-ins (the playground itself: tests/dev/test_dev_playground.py)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.gunicorn import REPO, free_port, server_env, wait_until

SCRIPT = REPO / "scripts" / "dev_run.sh"


def script_env(port: int) -> dict[str, str]:
    return server_env({}, port, PYTHON=sys.executable)


def test_env_only_writes_a_valid_throwaway_config(tmp_path: Path):
    env = script_env(free_port())
    subprocess.run(["bash", str(SCRIPT), "--env-only"], cwd=tmp_path, env=env, check=True)
    dotenv = tmp_path / ".env"
    text = dotenv.read_text()
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    assert "SLACK_API_URL=http://127.0.0.1:5001/api/" in text
    assert "GITHUB_API_URL=http://127.0.0.1:5001/github" in text
    assert "SLACK_RESPONSE_URL_ORIGINS=http://127.0.0.1:5001" in text

    check = subprocess.run(
        [sys.executable, "-m", "app.cli", "config", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "GITHUB_KEY fingerprint SHA256:" in check.stdout
    assert ".env" in check.stdout  # values came from the file
    assert "development mode: Slack and GitHub are stand-ins on this machine" in check.stdout

    # A second run keeps the developer's file.
    subprocess.run(["bash", str(SCRIPT), "--env-only"], cwd=tmp_path, env=env, check=True)
    assert dotenv.read_text() == text


def test_run_serves_talks_to_the_standins_and_term_stops_both(tmp_path: Path):
    port = free_port()
    log = tmp_path / "run.log"
    env = {**script_env(port), "DEV_STANDINS_PORT": str(free_port())}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(SCRIPT)], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:

        def up() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, what="make run's server")
        wait_until(lambda: "start-up notice sent" in log.read_text(), what="start-up notice")
        wait_until(lambda: "bot user is U0DEVBOT01" in log.read_text(), what="auth.test")
        output = log.read_text()
        assert "failed, carrying on" not in output
        assert "Traceback" not in output
        secrets = (tmp_path / ".env").read_text()
        for line in secrets.splitlines():
            if line.startswith(
                ("SLACK_SIGNING_SECRET=", "SLACK_API_TOKEN=", "GITHUB_WEBHOOK_SECRET=")
            ):
                assert line.split("=", 1)[1] not in output
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # the script: it stops the server and the stand-ins
        assert proc.wait(30) in (0, 143)
    assert "Shutting down: Master" in log.read_text()
