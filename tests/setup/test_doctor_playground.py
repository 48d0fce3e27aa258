"""From the playground to `rocket2 doctor` all ok using only `rocket2 setup …`, behind the real
nginx with a test CA (PUBLIC_URL = https://localhost:PORT); then each way of being wired wrong
is named with its fix and exit 2. Nothing printed anywhere holds a secret."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.platforms import GITHUB, SLACK
from tests.conftest import require_binary
from tests.setup.conftest import assert_no_secret, secrets_in
from tests.setup.github_flow import confirm, finish, post_the_manifest, start_setup
from tests.support.nginx import NginxServer
from tests.support.playground import Playground, start_playground, stop_playground


@dataclass
class Wired:
    """The playground, nginx in front of it, and the App `setup github` made."""

    playground: Playground
    nginx: NginxServer
    public_url: str
    app_id: int
    outputs: list[str] = field(default_factory=list)

    def doctor(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.playground.rocket2("--help").args[:3], "doctor", *args],
            cwd=self.playground.directory,
            env={**self.playground.env, "SSL_CERT_FILE": str(self.nginx.ca_file), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.outputs.append(done.stdout + done.stderr)
        return done

    def dev_api(self, path: str, body: dict[str, object]) -> None:
        answer = httpx.post(self.playground.standins_url + "/dev/api/" + path, json=body)
        assert answer.status_code < 300, answer.text


def line(done: subprocess.CompletedProcess[str], check: str) -> str:
    return next(entry for entry in done.stdout.split("\n") if f"  {check}  " in entry + "  ")


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wired]:
    require_binary("nginx")
    playground = start_playground(tmp_path_factory.mktemp("playground"))
    nginx = NginxServer(
        upstream=f"127.0.0.1:{playground.port}", workdir=tmp_path_factory.mktemp("nginx")
    )
    try:
        nginx.start()
        public_url = f"https://localhost:{nginx.https_port}"
        proc, page = start_setup(
            playground.directory,
            "--org",
            "rocket2-dev",
            "--public-url",
            public_url,
            "--force",
            env=playground.env,
        )
        httpx.get(confirm(post_the_manifest(page)), timeout=10)
        status, out, err = finish(proc)
        assert status == 0, err
        install = out.split("install it on rocket2-dev: ", 1)[1].split()[0]
        assert httpx.post(install, timeout=10).status_code == 200
        app_id = int(out.split("(id ", 1)[1].split(")", 1)[0])
        env = playground.rocket2("setup", "env", "--no-input")
        assert env.returncode == 0, env.stderr
        assert "SLACK_TEAM_ID" in env.stdout and "T0DEV00001" in env.stdout
        with (Path(playground.directory) / ".env").open("a") as dotenv:
            dotenv.write("\nBACKUP_DIR=backups\n")  # a VM deploy's daily backups
        backup = playground.rocket2("db", "backup")
        assert backup.returncode == 0, backup.stderr
        yield Wired(playground, nginx, public_url, app_id, [out + err, env.stdout + env.stderr])
    finally:
        nginx.stop()
        stop_playground(playground)


def test_doctor_is_all_ok_after_setup(wired: Wired):
    done = wired.doctor()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("0 warn, 0 fail")
    assert "GitHub delivers JSON to " + wired.public_url + "/webhook" in done.stdout


def test_a_store_neither_replicated_nor_backed_up_is_a_warning(wired: Wired):
    empty = Path(wired.playground.directory) / "no-backups-yet"
    empty.mkdir(exist_ok=True)
    done = wired.doctor(BACKUP_DIR=str(empty))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "warn" in line(done, "store durability")
    assert "no backup in BACKUP_DIR yet, and no replication" in done.stdout
    assert "REPLICA_URL" in done.stdout


def test_a_webhook_path_other_than_the_apps(wired: Wired):
    done = wired.doctor(GITHUB_WEBHOOK_ENDPT="/hooks")
    assert done.returncode == 2
    assert "fail" in line(done, "github webhook")
    assert f"GitHub delivers to {wired.public_url}/webhook, Rocket 2 listens on" in done.stdout


def test_a_team_id_of_another_workspace(wired: Wired):
    done = wired.doctor("--json", SLACK_TEAM_ID="T0OTHER001")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["status"] == "fail" and len(report["checks"]) >= 15
    (workspace,) = [c for c in report["checks"] if c["check"] == "slack workspace"]
    assert workspace == {
        "check": "slack workspace",
        "status": "fail",
        "message": "the bot token belongs to workspace T0DEV00001, SLACK_TEAM_ID is T0OTHER001",
        "fix": "set SLACK_TEAM_ID=T0DEV00001, or use the club workspace's bot token",
    }
    assert {c["status"] for c in report["checks"] if c is not workspace} == {"ok"}


def test_a_token_missing_a_scope(wired: Wired):
    wired.dev_api(
        "slack/scopes", {"scopes": [s for s in SLACK.bot_scopes if s != "users:read.email"]}
    )
    try:
        done = wired.doctor()
    finally:
        wired.dev_api("slack/scopes", {"scopes": list(SLACK.bot_scopes)})
    assert done.returncode == 2
    assert "the bot token lacks users:read.email" in done.stdout
    assert "reinstall it to the workspace" in done.stdout


def test_an_app_missing_a_permission_or_an_event(wired: Wired):
    lacking = {
        "permissions": {"members": "read", "emails": "read"},
        "events": ["membership", "organization"],
    }
    wired.dev_api("github/app", {"app_id": wired.app_id, **lacking})
    try:
        done = wired.doctor()
    finally:
        wired.dev_api(
            "github/app",
            {
                "app_id": wired.app_id,
                "permissions": dict(GITHUB.permissions),
                "events": list(GITHUB.events),
            },
        )
    assert done.returncode == 2
    assert "the App lacks members: write, event team" in done.stdout
    assert "fix: add them under Permissions & events on" in done.stdout


def test_the_app_not_installed_on_the_org(wired: Wired):
    wired.dev_api("github/app", {"app_id": wired.app_id, "installed": False})
    try:
        done = wired.doctor()
    finally:
        install = done.stdout.split("fix: install it: ", 1)[1].split()[0]
        assert httpx.post(install, timeout=10).status_code == 200
    assert done.returncode == 2
    assert line(done, "github installation").startswith("fail")
    assert "the App is not installed on rocket2-dev" in line(done, "github installation")
    assert install.endswith("/installations/new")


def test_an_admin_or_leads_team_that_does_not_exist(wired: Wired):
    done = wired.doctor(GITHUB_ADMIN_TEAM_NAME="all", GITHUB_LEADS_TEAM_NAME="Ghosts")
    assert done.returncode == 2
    assert "no such team in rocket2-dev: GITHUB_LEADS_TEAM_NAME=Ghosts" in done.stdout
    assert "GITHUB_ADMIN_TEAM_NAME" not in line(done, "github teams")


def test_zz_failing_recent_deliveries(wired: Wired):  # last: the failed deliveries stay
    wired.dev_api(
        "github/app",
        {"app_id": wired.app_id, "failed_deliveries": {"status_code": 502, "count": 5}},
    )
    done = wired.doctor()
    assert done.returncode == 2
    assert "GitHub's last 5 deliveries got 502" in done.stdout
    assert "fix: Rocket 2 or its proxy did not answer" in done.stdout


def test_zzz_nothing_printed_a_secret(wired: Wired):
    env_file = Path(wired.playground.directory) / ".env"
    assert_no_secret("\n".join(wired.outputs) + wired.playground.output(), secrets_in(env_file))
