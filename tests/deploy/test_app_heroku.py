"""Heroku files: app.json is generated from the schema, the Procfile runs gunicorn.conf.py."""

from __future__ import annotations

import json

from app.cli.app_json import render
from config.settings import SETTINGS
from tests.support.gunicorn import REPO


def test_committed_app_json_is_generated():
    committed = (REPO / "app.json").read_text(encoding="utf-8")
    assert committed == render(), "regenerate with: rocket2 app-json > app.json"


def test_app_json_lists_every_variable_heroku_does_not_set():
    env = json.loads(render())["env"]
    for setting in SETTINGS:
        if setting.name in ("PORT", "WEB_CONCURRENCY", "DATABASE_URL", "FORWARDED_ALLOW_IPS"):
            assert setting.name not in env  # Heroku sets these
            continue
        entry = env[setting.name]
        assert entry["description"]
        assert entry["required"] is setting.required
    assert env["GITHUB_WEBHOOK_SECRET"]["generator"] == "secret"


def test_procfile_and_python_version():
    procfile = (REPO / "Procfile").read_text().splitlines()
    assert "web: gunicorn -c gunicorn.conf.py" in procfile
    version = (REPO / ".python-version").read_text().strip()
    assert version.startswith("3.") and int(version.split(".")[1]) >= 11


def test_procfile_command_serves_as_on_heroku(tmp_path, env):
    """The Procfile's web line, run the way Heroku runs it: from the app directory, with PORT,
    WEB_CONCURRENCY and FORWARDED_ALLOW_IPS=* set by the platform."""
    import shlex
    import shutil
    import sys
    from pathlib import Path

    import httpx

    from tests.support.gunicorn import GunicornServer, free_port, server_env

    shutil.copy(REPO / "gunicorn.conf.py", tmp_path / "gunicorn.conf.py")
    web = next(
        line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    port = free_port()
    process_env = server_env(
        {**env, "SLACK_API_URL": "http://127.0.0.1:9/"},
        port,
        WEB_CONCURRENCY="3",
        FORWARDED_ALLOW_IPS="*",
    )
    process_env["PATH"] = f"{Path(sys.executable).parent}:{process_env.get('PATH', '')}"
    server = GunicornServer(
        env=process_env,
        port=port,
        log_path=tmp_path / "heroku.log",
        cwd=tmp_path,
        command=shlex.split(web.split(":", 1)[1]),
    )
    try:
        server.start()
        assert httpx.get(server.url + "/").text == "🚀"
        server.wait_for_output("Booting worker", 3)
        assert len(server.wait_for_output("scheduler started")) == 1
        # Heroku's router appends the client address; with * the app believes it.
        httpx.get(
            server.url + "/",
            headers={"X-Forwarded-For": "198.51.100.4", "X-Request-ID": "heroku-req-1"},
        )
        assert "198.51.100.4 " in server.wait_for_output("heroku-req-1")[0]
    finally:
        server.stop()
