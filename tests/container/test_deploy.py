"""The VM deploy end to end (checks 3, 4 and 5 of issue 6).

setup_deploy.sh gets the first certificate from Pebble; the real docker-compose.yml comes up; https
through nginx reaches the app with a certificate that verifies against Pebble's root; http
redirects; the app publishes no port; a forced renewal is served after nginx's periodic reload;
``docker-compose down -v`` leaves nothing. The tests run in this order and share one deployment.
"""

from __future__ import annotations

import re
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from tests.container.deploy import DOMAIN, Deployment, served_certificate
from tests.container.engine import Docker
from tests.container.envfile import operator_env_file
from tests.container.pebble import Pebble, start_pebble
from tests.container.test_image import OFFLINE
from tests.support.gunicorn import free_port, wait_until
from tests.support.keys import valid_env

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def pebble(
    docker: Docker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pebble, int]]:
    """Pebble on the engine's bridge gateway, validating http-01 on a fresh loopback port."""
    gateway = docker.inspect("network", "bridge")["IPAM"]["Config"][0]["Gateway"]
    http_port = free_port()
    server = start_pebble(tmp_path_factory.mktemp("pebble"), gateway, http_port)
    yield server, http_port
    server.stop()


@pytest.fixture(scope="module")
def deployment(
    docker: Docker,
    base_images: dict[str, str],
    image: str,
    pebble: tuple[Pebble, int],
    tmp_path_factory: pytest.TempPathFactory,
    key_pem: str,
) -> Iterator[Deployment]:
    """A deployment whose first certificate setup_deploy.sh has obtained."""
    server, http_port = pebble
    deployment = Deployment(
        docker=docker,
        pebble=server,
        image=image,
        workdir=tmp_path_factory.mktemp("vm"),
        http_port=http_port,
        https_port=free_port(),
    )
    deployment.project_dir.mkdir()
    operator_env_file(deployment.project_dir / ".env", {**valid_env(key_pem), **OFFLINE})
    deployment.first_setup = deployment.setup()
    yield deployment
    deployment.compose("down", "-v", "--remove-orphans", "--timeout", "10", check=False)


@pytest.fixture(scope="module")
def stack(deployment: Deployment) -> Deployment:
    """The real docker-compose.yml (plus the test's override) up, and nginx answering https."""
    setup = deployment.first_setup
    assert setup is not None
    assert setup.returncode == 0, f"setup_deploy.sh failed:\n{setup.stdout}\n{setup.stderr}"
    deployment.write_override()
    require_loopback_ports(deployment)
    deployment.compose("up", "-d", "--no-build", timeout=400)
    wait_until(
        lambda: https_get(deployment, "/", verify=False).status_code == 200,
        timeout=60,
        interval=0.5,
        what="https through nginx",
    )
    return deployment


def require_loopback_ports(deployment: Deployment) -> None:
    """Stop before `up` unless every published port is the loopback high port the test chose.

    Compose merges `ports:` from an override into the base file's list (it cannot remove 80:80),
    so docker-compose.yml takes the host side from ROCKET2_HTTP_PORT / ROCKET2_HTTPS_PORT.
    """
    config = deployment.compose("config").stdout
    published = set(re.findall(r"^\s*- (\S+)/tcp$", config, re.MULTILINE))
    want = {
        f"127.0.0.1:{deployment.http_port}:80",
        f"127.0.0.1:{deployment.https_port}:443",
    }
    if published != want:
        pytest.fail(
            f"docker-compose.yml publishes {sorted(published)} with ROCKET2_HTTP_PORT and "
            f"ROCKET2_HTTPS_PORT set for the test; expected {sorted(want)}. An override cannot "
            "remove the base file's ports, so nginx's ports must read those variables: "
            '"${ROCKET2_HTTP_PORT:-80}:80" and "${ROCKET2_HTTPS_PORT:-443}:443".'
        )


def https_get(deployment: Deployment, path: str, verify: ssl.SSLContext | bool) -> httpx.Response:
    """GET https://DOMAIN{path} through nginx's loopback port (SNI and Host are DOMAIN)."""
    try:
        with httpx.Client(verify=verify, timeout=10) as client:
            return client.get(
                f"https://127.0.0.1:{deployment.https_port}{path}",
                headers={"Host": DOMAIN},
                extensions={"sni_hostname": DOMAIN},
            )
    except httpx.HTTPError as exc:
        return httpx.Response(599, text=str(exc))


def pebble_trust(deployment: Deployment, tmp_path: Path) -> ssl.SSLContext:
    """An SSL context that trusts only Pebble's current root."""
    root = tmp_path / "pebble-root.pem"
    root.write_text(deployment.pebble.root_pem())
    return ssl.create_default_context(cafile=str(root))


def test_setup_deploy_gets_the_first_certificate_from_pebble(deployment: Deployment) -> None:
    setup = deployment.first_setup
    assert setup is not None
    assert setup.returncode == 0, f"setup_deploy.sh failed:\n{setup.stdout}\n{setup.stderr}"
    assert (deployment.deploy_dir / "nginx.conf").is_file()
    assert (deployment.deploy_dir / "certbot-www").is_dir()
    leaf = x509.load_pem_x509_certificate((deployment.live / "fullchain.pem").read_bytes())
    names = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    assert names.get_values_for_type(x509.DNSName) == [DOMAIN]
    issuer = leaf.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert "Pebble" in str(issuer)

    # A second run keeps the certificate it has.
    before = (deployment.live / "fullchain.pem").read_bytes()
    again = deployment.setup()
    assert again.returncode == 0, again.stderr
    assert "keeping the existing certificate" in again.stdout + again.stderr
    assert (deployment.live / "fullchain.pem").read_bytes() == before


def test_https_through_nginx_reaches_the_app_with_a_verified_certificate(
    stack: Deployment, tmp_path: Path
) -> None:
    response = https_get(stack, "/", verify=pebble_trust(stack, tmp_path))
    assert response.status_code == 200, response.text
    assert "🚀" in response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_http_redirects_to_https(stack: Deployment) -> None:
    response = httpx.get(
        f"http://127.0.0.1:{stack.http_port}/some/path?x=1",
        headers={"Host": DOMAIN},
        timeout=10,
    )
    assert response.status_code == 308
    assert response.headers["location"] == f"https://{DOMAIN}/some/path?x=1"


def test_the_app_port_is_not_published(stack: Deployment) -> None:
    app = stack.docker.inspect("container", stack.container("rocket2"))
    assert app["HostConfig"]["PortBindings"] in (None, {})
    assert all(not bindings for bindings in app["NetworkSettings"]["Ports"].values())
    nginx = stack.docker.inspect("container", stack.container("nginx"))
    bound = {
        f"{b['HostIp']}:{b['HostPort']}"
        for bindings in nginx["NetworkSettings"]["Ports"].values()
        for b in bindings or []
    }
    assert bound == {f"127.0.0.1:{stack.http_port}", f"127.0.0.1:{stack.https_port}"}


def test_a_forced_renewal_is_served_after_nginx_reloads(stack: Deployment) -> None:
    before = served_certificate(stack.https_port).serial_number

    def renew() -> subprocess.CompletedProcess[str] | None:
        """One forced renewal; None while the service's own renew loop holds certbot's lock
        (it may for a moment at start-up), so wait_until tries again."""
        result = stack.compose(
            "exec",
            "-T",
            "certbot",
            "certbot",
            "renew",
            "--force-renewal",
            "--no-random-sleep-on-renew",  # certbot sleeps up to 8 min when not on a terminal
            "--webroot",
            "-w",
            "/var/www/certbot",
            "--non-interactive",
            check=False,
        )
        if "Another instance of Certbot is already running" in result.stdout + result.stderr:
            return None
        return result

    renewed = wait_until(renew, timeout=120, interval=1, what="certbot's lock to be free")
    output = renewed.stdout + renewed.stderr
    assert renewed.returncode == 0, output
    # Pebble validated the renewal through nginx's port 80 and the shared webroot.
    nginx_log = stack.docker.logs(stack.container("nginx"))
    assert re.search(r'"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1" 200 ', nginx_log), nginx_log
    on_disk = x509.load_pem_x509_certificate((stack.live / "fullchain.pem").read_bytes())
    assert on_disk.serial_number != before

    served = wait_until(
        lambda: served_certificate(stack.https_port).serial_number == on_disk.serial_number,
        timeout=60,
        interval=0.5,
        what="nginx to serve the renewed certificate",
    )
    assert served


def test_compose_down_leaves_nothing_running(stack: Deployment) -> None:
    stack.compose("down", "-v", "--timeout", "10")
    assert stack.project_resources() == {"containers": [], "networks": [], "volumes": []}
