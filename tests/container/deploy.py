"""The VM deploy run for real: setup_deploy.sh against Pebble, then the real docker-compose.yml.

The compose stack is driven by Compose v2 (``docker compose``) from a project directory that holds
the operator's .env, docker-compose.yml (a link to the repository's) and an override written here;
COMPOSE_FILE and COMPOSE_PROJECT_NAME name them, so scripts/deploy.sh runs exactly as on a VM.
Host ports come from the variables docker-compose.yml and setup_deploy.sh both read
(ROCKET2_HTTP_PORT, ROCKET2_HTTPS_PORT: loopback high ports, because an override cannot remove the
base file's published ports); host paths from ROCKET2_DEPLOY_DIR (a temporary directory); the
image from ROCKET2_IMAGE. The override only shortens schedules (the app's healthcheck interval,
nginx's reload interval) and lets the certbot service trust Pebble's TLS certificate.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from tests.container.engine import REPO, Docker
from tests.container.pebble import Pebble

DOMAIN = "rocket2.example.test"
EMAIL = "ops@example.test"
CA_IN_CERTBOT = "/etc/rocket2-acme-ca.pem"
NGINX_RELOAD_INTERVAL = "3s"


@dataclass
class Deployment:
    """One VM deploy in temporary directories, on loopback high ports, against one Pebble."""

    docker: Docker
    pebble: Pebble
    image: str
    workdir: Path
    http_port: int
    https_port: int
    project: str = field(default_factory=lambda: f"rocket2t{uuid.uuid4().hex[:8]}")
    first_setup: subprocess.CompletedProcess[str] | None = None
    nginx_reload_interval: str = NGINX_RELOAD_INTERVAL

    @property
    def deploy_dir(self) -> Path:
        """ROCKET2_DEPLOY_DIR: nginx.conf, letsencrypt/, certbot-www/."""
        return self.workdir / "deploy"

    @property
    def project_dir(self) -> Path:
        """Compose's project directory: holds the operator's .env (env_file: .env)."""
        return self.workdir / "project"

    @property
    def live(self) -> Path:
        """Where certbot keeps the current certificate (always --cert-name rocket2)."""
        return self.deploy_dir / "letsencrypt" / "live" / "rocket2"

    @property
    def override(self) -> Path:
        """The test's compose override file."""
        return self.project_dir / "docker-compose.test.yml"

    @property
    def compose_files(self) -> list[Path]:
        """COMPOSE_FILE: the repository's file (linked into the project directory, so that is
        Compose's project directory), then the override."""
        link = self.project_dir / "docker-compose.yml"
        if not link.is_symlink():
            link.symlink_to(REPO / "docker-compose.yml")
        return [link, self.override]

    def env(self) -> dict[str, str]:
        """Environment for setup_deploy.sh, deploy.sh and docker compose: the private engine,
        loopback high ports, temporary paths, Pebble as the ACME server, the freshly built image,
        the compose files and project name."""
        shim = self.workdir / "bin"
        shim.mkdir(exist_ok=True)
        docker_link = shim / "docker"
        if not docker_link.exists():
            docker_link.symlink_to(self.docker.cli)  # setup_deploy.sh runs the engine's own CLI
        base = self.docker.env()
        return {
            **base,
            "PATH": f"{shim}:{base.get('PATH', '/usr/bin:/bin')}",
            "DOMAIN": DOMAIN,
            "EMAIL": EMAIL,
            "ROCKET2_DEPLOY_DIR": str(self.deploy_dir),
            "ROCKET2_IMAGE": self.image,
            "ACME_SERVER": self.pebble.directory,
            "ACME_CA_BUNDLE": str(self.pebble.tls_ca),
            # The host side of nginx's (and setup's certbot's) ports, as [ip:]port.
            "ROCKET2_HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "ROCKET2_HTTPS_PORT": f"127.0.0.1:{self.https_port}",
            "COMPOSE_FILE": ":".join(str(path) for path in self.compose_files),
            "COMPOSE_PROJECT_NAME": self.project,
        }

    def setup(self) -> subprocess.CompletedProcess[str]:
        """Run scripts/setup_deploy.sh as an operator would (plus the variables above)."""
        return subprocess.run(
            ["bash", str(REPO / "scripts" / "setup_deploy.sh")],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=str(REPO),
        )

    def write_override(self) -> Path:
        """The compose override: shorter schedules, and Pebble's CA for the certbot service."""
        override = {
            "services": {
                "rocket2": {"healthcheck": {"interval": "2s"}},
                "nginx": {"environment": {"NGINX_RELOAD_INTERVAL": self.nginx_reload_interval}},
                "certbot": {
                    "environment": {"REQUESTS_CA_BUNDLE": CA_IN_CERTBOT},
                    "volumes": [f"{self.pebble.tls_ca}:{CA_IN_CERTBOT}:ro"],
                },
            }
        }
        self.override.write_text(json.dumps(override, indent=2) + "\n")
        return self.override

    def compose(self, *args: str, check: bool = True, timeout: float = 300) -> Any:
        """``docker compose ARGS`` in the project directory, with env()."""
        return self.docker.compose(
            *args, env=self.env(), cwd=self.project_dir, check=check, timeout=timeout
        )

    def deploy(self, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run scripts/deploy.sh from the project directory, as an operator does."""
        return subprocess.run(
            ["bash", str(REPO / "scripts" / "deploy.sh")],
            env={**self.env(), **extra_env},
            cwd=str(self.project_dir),
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )

    def containers(self, service: str) -> list[str]:
        """The ids of the service's running containers."""
        return list(self.compose("ps", "-q", service).stdout.split())

    def container(self, service: str) -> str:
        """The id of the service's container."""
        found = self.containers(service)
        assert found, f"no container for {service}"
        return found[0]

    def project_resources(self) -> dict[str, list[str]]:
        """Containers, networks and volumes that carry this compose project's label."""
        label = f"label=com.docker.compose.project={self.project}"
        found = {}
        for kind, argv in {
            "containers": ["ps", "-aq", "--filter", label],
            "networks": ["network", "ls", "-q", "--filter", label],
            "volumes": ["volume", "ls", "-q", "--filter", label],
        }.items():
            found[kind] = self.docker.run(*argv).stdout.split()
        return found


def served_certificate(port: int, server_name: str = DOMAIN) -> x509.Certificate:
    """The leaf certificate served on 127.0.0.1:``port`` for SNI ``server_name`` (unverified)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)
