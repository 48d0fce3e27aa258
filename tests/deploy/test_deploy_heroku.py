"""The Procfile under what Heroku's Python buildpack sets at dyno start (vendor/*.sh there):
WEB_CONCURRENCY=2 on Basic dynos, FORWARDED_ALLOW_IPS='*' and GUNICORN_CMD_ARGS='--access-logfile
-', both exported over any config var. Real Gunicorn, run from a copy of the app directory."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.gunicorn import REPO, GunicornServer, free_port, server_env

BUILDPACK_ENV = {
    "WEB_CONCURRENCY": "2",
    "FORWARDED_ALLOW_IPS": "*",
    "GUNICORN_CMD_ARGS": "--access-logfile -",
}


def procfile() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def dyno_env(config_env: dict[str, str], port: int, database: Path) -> dict[str, str]:
    env = server_env(
        {
            **config_env,
            "SLACK_API_URL": "http://127.0.0.1:9/",
            "DATABASE_URL": f"sqlite:///{database}",
        },
        port,
        **BUILDPACK_ENV,
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def test_procfile_has_release_and_web_only() -> None:
    assert procfile() == {"release": "rocket2 db upgrade", "web": "gunicorn -c gunicorn.conf.py"}


def test_release_then_web_under_the_buildpacks_environment(tmp_path: Path, env) -> None:
    shutil.copy(REPO / "gunicorn.conf.py", tmp_path / "gunicorn.conf.py")
    port = free_port()
    process_env = dyno_env(env, port, tmp_path / "heroku.db")

    release = subprocess.run(
        shlex.split(procfile()["release"]),
        cwd=tmp_path,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert release.returncode == 0, release.stdout + release.stderr

    server = GunicornServer(
        env=process_env,
        port=port,
        log_path=tmp_path / "web.log",
        cwd=tmp_path,
        command=shlex.split(procfile()["web"]),
    )
    try:
        server.start()
        assert len(server.wait_for_output("Booting worker", 2)) == 2  # Basic's default
        assert len(server.wait_for_output("scheduler started")) == 1
        # A client's own X-Forwarded-For comes first; Heroku's router appends the address it
        # saw. With '*' the app trusts exactly one hop: the router's entry, never the client's.
        response = httpx.get(
            server.url + "/healthz",
            headers={
                "X-Forwarded-For": "203.0.113.66, 198.51.100.4",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
                "X-Request-ID": "heroku-spoof-1",
            },
        )
        assert response.status_code == 200
        (line,) = server.wait_for_output("heroku-spoof-1")
        assert "198.51.100.4 " in line and "203.0.113.66" not in line
        assert "scheme=https" in line
        assert "evil.example" not in server.output()
    finally:
        server.stop()


def test_the_slug_leaves_out_the_playground_and_keeps_what_the_build_needs() -> None:
    """Heroku's slug compiler removes .slugignore's paths before the buildpack runs: the
    playground and the test and docs trees go; nothing the build, release or web needs does."""
    patterns = [
        line.strip()
        for line in (REPO / ".slugignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "/app/dev" in patterns
    needed = ["pyproject.toml", "uv.lock", "README.md", "Procfile", "app.json", "gunicorn.conf.py"]
    needed += ["app/wsgi.py", "app/cli/__init__.py", "config/__init__.py", "app/store/migrations"]
    for path in needed:
        assert (REPO / path).exists(), path
        assert not any(
            f"/{path}".startswith(p.rstrip("/") + "/") or f"/{path}" == p for p in patterns
        ), path
