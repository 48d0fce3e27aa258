"""Pebble, Let's Encrypt's test ACME server (Debian's package), issuing real certificates offline.

Where things listen, and why:

* Pebble's ACME API listens on the engine's bridge gateway (e.g. 10.166.0.1). That address
  belongs to this host, so certbot in any container reaches it: through the default bridge
  (setup_deploy.sh's ``docker run``) and through the compose network alike, since a container's
  packets to any host address go up through its own gateway into the host. It is not loopback,
  which containers cannot reach, and not the machine's network.
* Pebble's management API (``/roots/0``) listens on 127.0.0.1 only: just the tests read it.
* Pebble validates http-01 by connecting to ``DOMAIN:httpPort``. pebble-challtestsrv, serving DNS
  on 127.0.0.1, answers every name with 127.0.0.1, and ``httpPort`` is the loopback high port where
  the challenge is published: certbot standalone's during setup_deploy.sh, nginx's port 80 after.

Pebble's TLS listener gets a certificate from a CA made at test time (trustme); certbot trusts
it through REQUESTS_CA_BUNDLE. Pebble forgets accounts when it stops, so each run needs a fresh
certbot config directory.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import trustme

from tests.support.gunicorn import free_port, wait_until


@dataclass
class Pebble:
    """A running Pebble (and its DNS stand-in)."""

    directory: str
    tls_ca: Path
    management: str
    procs: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def root_pem(self) -> str:
        """The root that Pebble's issued certificates chain to (changes on every start)."""
        response = httpx.get(f"{self.management}/roots/0", verify=self._verify(), timeout=10)
        response.raise_for_status()
        return response.text

    def output(self) -> str:
        """What Pebble and the DNS stand-in printed, for failure messages."""
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.logs if p.exists())

    def stop(self) -> None:
        """Stop both processes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def _verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tls_ca))


def start_pebble(workdir: Path, listen_ip: str, http_port: int) -> Pebble:
    """Start pebble-challtestsrv (DNS) and Pebble; return once Pebble answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "pebble-tls-ca.pem"))
    leaf = ca.issue_cert(listen_ip, "127.0.0.1", "localhost")
    leaf.cert_chain_pems[0].write_to_path(str(workdir / "pebble-cert.pem"))
    leaf.private_key_pem.write_to_path(str(workdir / "pebble-key.pem"))

    acme_port, management_port, dns_port = free_port(), free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"{listen_ip}:{acme_port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(workdir / "pebble-cert.pem"),
            "privateKey": str(workdir / "pebble-key.pem"),
            "httpPort": http_port,
            "tlsPort": free_port(),  # unused: only http-01 is offered by certbot here
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (workdir / "pebble-config.json").write_text(json.dumps(config, indent=2))

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    procs: list[subprocess.Popen[bytes]] = []
    logs = [workdir / "challtestsrv.log", workdir / "pebble.log"]
    # DNS on loopback answering every A query with 127.0.0.1 (and no AAAA); its other
    # challenge servers are switched off.
    dns = [
        "pebble-challtestsrv",
        "-dns01",
        f"127.0.0.1:{dns_port}",
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-management",
        f"127.0.0.1:{free_port()}",
        "-defaultIPv4",
        "127.0.0.1",
        "-defaultIPv6",
        "",
    ]
    pebble_cmd = [
        "pebble",
        "-config",
        str(workdir / "pebble-config.json"),
        "-dnsserver",
        f"127.0.0.1:{dns_port}",
    ]
    pebble_env = {
        **keep,
        "PEBBLE_VA_NOSLEEP": "1",  # validate at once instead of after a random sleep
        "PEBBLE_WFE_NONCEREJECT": "0",  # no deliberately rejected nonces: deterministic runs
        "PEBBLE_AUTHZREUSE": "0",  # every order is validated again (a renewal through nginx too)
    }
    for argv, env, log in ((dns, keep, logs[0]), (pebble_cmd, pebble_env, logs[1])):
        with open(log, "wb") as out:
            procs.append(
                subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
            )
    pebble = Pebble(
        directory=f"https://{listen_ip}:{acme_port}/dir",
        tls_ca=workdir / "pebble-tls-ca.pem",
        management=f"https://127.0.0.1:{management_port}",
        procs=procs,
        logs=logs,
    )

    def ready() -> bool:
        for proc in procs:
            if proc.poll() is not None:
                pebble.stop()
                raise AssertionError(f"{proc.args[0]} exited {proc.returncode}:\n{pebble.output()}")
        try:
            response = httpx.get(pebble.directory, verify=pebble._verify(), timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and "newOrder" in response.text

    wait_until(ready, timeout=30, what=f"Pebble at {pebble.directory}")
    return pebble
