"""`rocket2 setup github`: GitHub's manifest flow against the stand-in, end to end by plain HTTP
(tests/setup/test_setup_github_browser.py drives a real browser once), and its refusals."""

from __future__ import annotations

import re

import httpx
from dotenv import dotenv_values

from tests.setup.conftest import StandIns, assert_no_secret, secrets_in
from tests.setup.github_flow import confirm, finish, post_the_manifest, start_setup

ORG = "rocket2-dev"
PUBLIC = "https://rocket.example.org"
SEVEN = (
    "GITHUB_APP_ID",
    "GITHUB_KEY",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "GITHUB_ORG_NAME",
    "PUBLIC_URL",
)


def api_env(standins: StandIns) -> dict[str, str]:
    """A fresh operator's shell: only where GitHub is (the stand-in)."""
    return {
        "GITHUB_API_URL": standins.url + "/github",
        "GITHUB_OAUTH_URL": standins.url + "/github",
    }


def test_the_manifest_flow_writes_the_seven_values_0600(standins: StandIns):
    proc, page = start_setup(
        standins.directory,
        "--org",
        ORG,
        "--public-url",
        PUBLIC,
        "--env-file",
        "prod.env",
        env=api_env(standins),
    )
    confirmation = post_the_manifest(page)
    assert f"Create GitHub App for {ORG}" in confirmation.text
    assert "members: write" in confirmation.text and "emails: read" in confirmation.text
    back = confirm(confirmation)
    assert back.startswith(page + "callback?code=")
    assert "GitHub App created" in httpx.get(back, timeout=10).text
    status, out, err = finish(proc)
    assert status == 0, err
    env_file = standins.directory / "prod.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    values = dotenv_values(env_file)
    assert all(values.get(name) for name in SEVEN)
    assert values["GITHUB_ORG_NAME"] == ORG and values["PUBLIC_URL"] == PUBLIC
    assert re.search(
        r'^GITHUB_KEY="-----BEGIN RSA PRIVATE KEY-----\\n[^\n]+"$',
        env_file.read_text(),
        re.MULTILINE,
    )
    assert f"{standins.url}/github/apps/rocket-2/installations/new" in out
    checked = standins.run(
        "config",
        "check",
        "--env-file",
        "prod.env",
        **api_env(standins),
        SLACK_SIGNING_SECRET="s" * 32,
        SLACK_API_TOKEN="xoxb-1-2-x",
    )
    assert checked.returncode == 0, checked.stderr
    fingerprint = re.search(r"GITHUB_KEY fingerprint (SHA256:\S+)", checked.stdout).group(1)  # type: ignore[union-attr]
    assert f"key {fingerprint}" in out
    logged = (standins.directory / "standins.log").read_text()
    assert_no_secret(out + err + checked.stdout + checked.stderr + logged, secrets_in(env_file))


def test_a_wrong_state_is_refused_and_nothing_is_written(standins: StandIns):
    proc, page = start_setup(
        standins.directory,
        "--org",
        ORG,
        "--public-url",
        PUBLIC,
        "--env-file",
        "state.env",
        "--name",
        "Rocket 2 state",
        env=api_env(standins),
    )
    back = confirm(post_the_manifest(page))
    forged = re.sub(r"state=[^&]+", "state=someone-elses", back)
    assert httpx.get(forged, timeout=10).status_code == 400
    status, _out, err = finish(proc)
    assert status == 2
    assert "state that is not this run's, so it was refused" in err
    assert not (standins.directory / "state.env").exists()


def test_an_expired_or_used_code_is_named(standins: StandIns):
    proc, page = start_setup(
        standins.directory,
        "--org",
        ORG,
        "--public-url",
        PUBLIC,
        "--env-file",
        "code.env",
        "--name",
        "Rocket 2 code",
        env=api_env(standins),
    )
    back = confirm(post_the_manifest(page))
    code = re.search(r"code=([^&]+)", back).group(1)  # type: ignore[union-attr]
    used = httpx.post(f"{standins.url}/github/app-manifests/{code}/conversions", timeout=10)
    assert used.status_code == 201  # someone else exchanged it first
    httpx.get(back, timeout=10)
    status, out, err = finish(proc)
    assert status == 2
    assert "it expired (GitHub allows one hour) or was already used" in err
    assert "pem" not in out + err and used.json()["pem"].splitlines()[1] not in out + err


def test_an_existing_value_is_kept_without_force(standins: StandIns):
    before = (standins.directory / ".env").read_text()
    done = standins.run(
        "setup", "github", "--org", ORG, "--public-url", PUBLIC, "--no-browser", "--timeout", "5"
    )
    assert done.returncode == 2
    assert "already sets GITHUB_APP_ID" in done.stderr and "--force" in done.stderr
    assert "nothing was created" in done.stderr
    assert (standins.directory / ".env").read_text() == before


def test_an_organisation_that_does_not_exist_is_named(standins: StandIns):
    done = standins.run(
        "setup",
        "github",
        "--org",
        "no-such-club",
        "--public-url",
        PUBLIC,
        "--env-file",
        "org.env",
        "--no-browser",
        **api_env(standins),
    )
    assert done.returncode == 2
    assert "GitHub has no organisation no-such-club" in done.stderr


def test_a_non_owner_gets_githubs_404_and_the_page_says_what_it_means(standins: StandIns):
    demoted = httpx.post(standins.url + "/dev/api/github/members", json={"login": "you-on-github"})
    assert demoted.status_code == 201  # the seed's owner is now a plain member
    proc, page = start_setup(
        standins.directory,
        "--org",
        ORG,
        "--public-url",
        PUBLIC,
        "--env-file",
        "owner.env",
        env=api_env(standins),
    )
    try:
        assert "you are not one of its owners" in httpx.get(page, timeout=10).text
        assert post_the_manifest(page).status_code == 404
    finally:
        proc.kill()
        proc.wait()
        owner = {"login": "you-on-github", "role": "admin"}
        httpx.post(standins.url + "/dev/api/github/members", json=owner)
