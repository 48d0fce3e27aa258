"""The VM deploy end to end (checks 3, 4 and 5 of issue 6).

setup_deploy.sh gets the first certificate from Pebble; the real docker-compose.yml comes up
(Compose v2); https through nginx reaches the app with a certificate that verifies against
Pebble's root; http redirects; the app publishes no port; a forced renewal is served after nginx's
periodic reload. The tests run in this order and share the session's deployment (conftest.py),
which test_rollout.py then updates.
"""

from __future__ import annotations

import re
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from tests.container.conftest import https_get
from tests.container.deploy import DOMAIN, Deployment, served_certificate
from tests.support.gunicorn import wait_until

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


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
