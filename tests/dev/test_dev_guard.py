"""Dev mode cannot be switched on by accident in production: the stand-ins bind loopback only
and refuse any other address, `config check` names the mode plainly, no deploy file starts
them; and they answer as Slack and GitHub do to a caller without the right credentials."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from app.dev.env_file import write_dev_env
from tests.support import playground as playground_support
from tests.support.gunicorn import REPO, free_port, server_env
from tests.support.keys import rsa_key, valid_env
from tests.support.playground import Playground

playground = playground_support.playground
# An import statement, or a module name the CLI's lazy loader imports (app.cli.GROUPS).
IMPORTS_DEV = re.compile(
    r"^\s*(from app\.dev\b|from app import dev\b|import app\.dev\b|Group\(\s*\"app\.dev\b)", re.M
)
DEPLOY_FILES = ("Dockerfile", "docker-compose.yml", "Procfile", "app.json", "gunicorn.conf.py")


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* show them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_standins_listen_on_loopback_only(playground: Playground):
    assert listening_addresses(playground.standins_port) == {"0100007F"}  # 127.0.0.1


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])  # noqa: S104 - what is refused
def test_the_standins_refuse_any_other_address(tmp_path: Path, host: str):
    port = free_port()
    env = server_env({}, 5000, SLACK_API_URL=f"http://{host}:{port}/api/")
    write_dev_env(tmp_path / ".env", port)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "dev", "standins"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0
    assert "must both be on loopback; refusing" in done.stderr
    assert not (tmp_path / "data").exists()


def test_config_check_says_which_mode(tmp_path: Path):
    write_dev_env(tmp_path / ".env", free_port())
    check = [sys.executable, "-m", "app.cli", "config", "check"]
    dev = subprocess.run(
        check, cwd=tmp_path, env=server_env({}, 5000), capture_output=True, text=True, timeout=30
    )
    assert dev.returncode == 0, dev.stderr
    assert "development mode: Slack and GitHub are stand-ins on this machine" in dev.stdout

    production = server_env(valid_env(), 5000)
    for name in ("SLACK_API_URL", "GITHUB_API_URL", "SLACK_RESPONSE_URL_ORIGINS"):
        production.pop(name, None)
    prod = subprocess.run(
        check, cwd=tmp_path / "..", env=production, capture_output=True, text=True, timeout=30
    )
    assert prod.returncode == 0, prod.stderr
    assert "production mode: Slack and GitHub are the real services" in prod.stdout
    assert "development mode" not in prod.stdout


@pytest.mark.parametrize("name", DEPLOY_FILES)
def test_no_deploy_file_starts_the_standins(name: str):
    text = (REPO / name).read_text()
    for word in ("standins", "app.dev", "app/dev", "dev_run", "make run", "5001"):
        assert word not in text, f"{name} mentions {word}"


def test_the_server_never_imports_the_standins():
    code = (
        "import sys, app, app.wsgi, app.factory, app.server.hooks, app.features, app.web.slack; "
        "print(sorted(m for m in sys.modules if m.startswith('app.dev')))"
    )
    env = server_env(valid_env(), 5000, DATABASE_URL="sqlite:///:memory:")
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    importers = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "app").rglob("*.py")
        if IMPORTS_DEV.search(path.read_text()) and path.relative_to(REPO / "app").parts[0] != "dev"
    ]
    assert importers == ["app/cli/__init__.py"]  # the `rocket2 dev …` commands only


def test_the_page_api_takes_json_from_loopback_only(playground: Playground):
    url = playground.standins_url + "/dev/api/join"
    form = httpx.post(url, content=b'{"name": "Eve"}', headers={"Content-Type": "text/plain"})
    assert form.status_code == 415  # a cross-site form or text/plain POST does nothing
    rebound = httpx.post(url, json={"name": "Eve"}, headers={"Host": "evil.example:80"})
    assert rebound.status_code == 403
    assert all(u["name"] != "eve" for u in playground.state()["slack"]["users"])


def test_slack_api_needs_the_bot_token(playground: Playground):
    answer = httpx.post(
        playground.standins_url + "/api/auth.test", headers={"Authorization": "Bearer xoxb-wrong"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"ok": False, "error": "invalid_auth"}


def test_github_api_needs_the_apps_jwt_and_a_token(playground: Playground):
    base = playground.standins_url + "/github"
    assert httpx.get(base + "/orgs/rocket2-dev/teams").status_code == 401
    now = int(time.time())
    stranger = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": "1"}, rsa_key(seed=7), algorithm="RS256"
    )
    refused = httpx.get(
        base + "/orgs/rocket2-dev/installation", headers={"Authorization": f"Bearer {stranger}"}
    )
    assert refused.status_code == 401
    bogus = httpx.get(base + "/orgs/rocket2-dev/teams", headers={"Authorization": "token ghs_x"})
    assert bogus.status_code == 401
