"""scripts/setup_deploy.sh: refuses without DOMAIN/EMAIL or with busy ports; a rerun keeps the
certificate. (Getting a certificate from a real ACME server is issue 6's container suite.)"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gunicorn import REPO

SCRIPT = REPO / "scripts" / "setup_deploy.sh"


def run_setup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the script with only PATH/HOME from this process plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def listener() -> Iterator[int]:
    """A port on 127.0.0.1 that something is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"EMAIL": "ops@example.org"}, "DOMAIN"),
        ({"DOMAIN": "rocket.example.org"}, "EMAIL"),
        ({}, "DOMAIN EMAIL"),
        ({"DOMAIN": "", "EMAIL": "ops@example.org"}, "DOMAIN"),
    ],
)
def test_refuses_without_domain_or_email(tmp_path: Path, env: dict[str, str], missing: str) -> None:
    deploy = tmp_path / "deploy"
    result = run_setup({**env, "ROCKET2_DEPLOY_DIR": str(deploy)})
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr
    assert "DOMAIN=rocket.example.org EMAIL=ops@example.org" in result.stderr  # how to run it
    assert not deploy.exists()  # refused before touching anything


@pytest.mark.parametrize(
    ("name", "value"),
    [("DOMAIN", "https://rocket.example.org/"), ("DOMAIN", "a b"), ("EMAIL", "not-an-address")],
)
def test_refuses_malformed_domain_or_email(tmp_path: Path, name: str, value: str) -> None:
    env = {"DOMAIN": "rocket.example.org", "EMAIL": "ops@example.org", name: value}
    result = run_setup({**env, "ROCKET2_DEPLOY_DIR": str(tmp_path / "deploy")})
    assert result.returncode != 0
    assert f"{name} must be" in result.stderr


def test_refuses_an_unknown_argument(tmp_path: Path) -> None:
    env = {"DOMAIN": "rocket.example.org", "EMAIL": "ops@example.org"}
    result = run_setup({**env, "ROCKET2_DEPLOY_DIR": str(tmp_path)}, "--stagin")
    assert result.returncode != 0
    assert "unknown argument '--stagin'" in result.stderr


def test_refuses_when_the_http_port_is_in_use(tmp_path: Path, listener: int) -> None:
    deploy = tmp_path / "deploy"
    env = {
        "DOMAIN": "rocket.example.org",
        "EMAIL": "ops@example.org",
        "ROCKET2_DEPLOY_DIR": str(deploy),
        "ROCKET2_HTTP_PORT": f"127.0.0.1:{listener}",
        "ROCKET2_HTTPS_PORT": "1",  # nothing listens on port 1
        "CERTBOT_IMAGE": "rocket2-test/never-run",
    }
    result = run_setup(env)
    assert result.returncode != 0
    assert f"port {listener} is in use" in result.stderr
    assert not (deploy / "letsencrypt" / "live").exists()


def test_a_second_run_keeps_the_certificate_and_refreshes_nginx_conf(tmp_path: Path) -> None:
    deploy = tmp_path / "deploy"
    live = deploy / "letsencrypt" / "live" / "rocket2"
    live.mkdir(parents=True)
    (live / "fullchain.pem").write_text("existing chain\n")
    (live / "privkey.pem").write_text("existing key\n")
    (deploy / "nginx.conf").write_text("stale copy\n")
    env = {
        "DOMAIN": "rocket.example.org",
        "EMAIL": "ops@example.org",
        "ROCKET2_DEPLOY_DIR": str(deploy),
        "CERTBOT_IMAGE": "rocket2-test/never-run",  # would fail loudly if certbot were started
    }
    for _ in range(2):
        result = run_setup(env)
        assert result.returncode == 0, result.stderr
        assert "keeping the existing certificate" in result.stdout
    assert (live / "fullchain.pem").read_text() == "existing chain\n"
    assert (deploy / "nginx.conf").read_bytes() == (REPO / "nginx.conf").read_bytes()
    assert (deploy / "certbot-www").is_dir()  # the webroot compose mounts


def test_certbot_container_gets_the_acme_server_and_its_ca(tmp_path: Path) -> None:
    """The docker run line, recorded by a stand-in docker (the real run is issue 6's suite)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "docker-args"
    (bin_dir / "docker").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nexit 7\n')
    (bin_dir / "docker").chmod(0o755)
    ca = tmp_path / "pebble-ca.pem"
    ca.write_text("a CA\n")
    deploy = tmp_path / "deploy"
    env = {
        "DOMAIN": "rocket.test",
        "EMAIL": "ops@example.org",
        "ROCKET2_DEPLOY_DIR": str(deploy),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ACME_SERVER": "https://127.0.0.1:14000/dir",
        "ACME_CA_BUNDLE": str(ca),
        "CERTBOT_DOCKER_ARGS": "--network host --add-host rocket.test:127.0.0.1",
        "CERTBOT_ARGS": "--http-01-port 5002",
        "ROCKET2_HTTP_PORT": "127.0.0.1:1",
        "ROCKET2_HTTPS_PORT": "2",
    }
    result = run_setup(env)
    assert result.returncode == 7  # docker's failure ends the script (set -e)
    args = record.read_text().splitlines()
    assert args[:2] == ["run", "--rm"]
    assert args[args.index("-p") + 1] == "127.0.0.1:1:80"
    assert f"{deploy.resolve()}/letsencrypt:/etc/letsencrypt" in args
    assert f"{ca}:/etc/rocket2-acme-ca.pem:ro" in args
    assert "REQUESTS_CA_BUNDLE=/etc/rocket2-acme-ca.pem" in args
    image_at = args.index("certbot/certbot")
    assert args[image_at - 4 : image_at] == [
        "--network",
        "host",
        "--add-host",
        "rocket.test:127.0.0.1",
    ]
    certbot = args[image_at + 1 :]
    assert certbot[:2] == ["certonly", "--standalone"]
    assert certbot[certbot.index("--cert-name") + 1] == "rocket2"
    assert certbot[certbot.index("-d") + 1] == "rocket.test"
    assert certbot[certbot.index("--server") + 1] == "https://127.0.0.1:14000/dir"
    assert certbot[-2:] == ["--http-01-port", "5002"]
    assert "--staging" not in certbot


def test_staging_and_acme_server_are_exclusive(tmp_path: Path) -> None:
    env = {
        "DOMAIN": "rocket.example.org",
        "EMAIL": "ops@example.org",
        "ROCKET2_DEPLOY_DIR": str(tmp_path),
        "ACME_SERVER": "https://127.0.0.1:14000/dir",
    }
    result = run_setup(env, "--staging")
    assert result.returncode != 0
    assert "either --staging or ACME_SERVER" in result.stderr


def test_script_is_strict_and_names_the_certificate_rocket2() -> None:
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text
    assert '--cert-name rocket2 -d "$DOMAIN"' in text
    assert "--standalone" in text
    assert os.access(SCRIPT, os.X_OK)
