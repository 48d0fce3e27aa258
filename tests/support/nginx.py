"""Run Debian's real nginx with the repository's nginx.conf on 127.0.0.1 high ports.

Only the deployment-specific strings are substituted (ports, the app's address, the resolver,
/etc/letsencrypt, /var/www/certbot, user, pid path); everything else is the production file.
The certificate is made at start with trustme, so every run has its own CA.

    with NginxServer(upstream=f"127.0.0.1:{port}", workdir=tmp_path) as nginx:
        httpx.get(nginx.https_url + "/", verify=nginx.ssl_context())

An upstream given by name (``rocket2:PORT``) is resolved while nginx runs, through
``resolver`` (a local stand-in such as tests.support.dns.NameServer, ``127.0.0.1:PORT``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import trustme

from tests.support.gunicorn import REPO, free_port, terminate, wait_until

NGINX_CONF = REPO / "nginx.conf"

# The strings production nginx.conf must contain, each exactly this many times.
LISTEN_HTTP = "listen 80;"
LISTEN_HTTPS = "listen 443 ssl;"
UPSTREAM = "set $rocket2_app rocket2:5000;"
RESOLVER = "resolver 127.0.0.11 "
LETSENCRYPT = "/etc/letsencrypt"
WEBROOT = "/var/www/certbot"
USER = "user nginx;"
PID = "pid /run/nginx.pid;"
EXPECTED_COUNTS = {
    LISTEN_HTTP: 1,
    LISTEN_HTTPS: 1,
    UPSTREAM: 1,
    RESOLVER: 1,
    LETSENCRYPT: 2,
    WEBROOT: 1,
    USER: 1,
    PID: 1,
}


def find_nginx() -> str | None:
    """Path of the nginx binary (Debian installs it in /usr/sbin), or None."""
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def render_conf(
    text: str,
    *,
    http_port: int,
    https_port: int,
    upstream: str,
    letsencrypt_dir: Path,
    webroot: Path,
    pid_file: Path,
    host: str = "127.0.0.1",
    resolver: str = "127.0.0.11",
) -> str:
    """Return ``text`` with only the listed deployment-specific strings replaced.

    Raises AssertionError if a listed string is missing or appears an unexpected number of
    times, so a change to nginx.conf that the test would not notice fails loudly instead.
    """
    directives = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for needle, count in EXPECTED_COUNTS.items():
        found = directives.count(needle)
        if found != count:
            raise AssertionError(f"nginx.conf has {found} x {needle!r}, expected {count}")
    if os.geteuid() == 0:
        # Workers must read the test's private temporary directories.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};"
    else:
        user = "# user: not root, so workers run as the test's own account"
    replacements = {
        LISTEN_HTTP: f"listen {host}:{http_port};",
        LISTEN_HTTPS: f"listen {host}:{https_port} ssl;",
        UPSTREAM: f"set $rocket2_app {upstream};",
        RESOLVER: f"resolver {resolver} ",
        LETSENCRYPT: str(letsencrypt_dir),
        WEBROOT: str(webroot),
        USER: user,
        PID: f"pid {pid_file};",
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class NginxServer:
    """Debian's nginx running the repository's nginx.conf, in ``workdir``.

    ``upstream`` is the "host:port" that replaces ``rocket2:5000``; ``resolver`` the
    "address[:port]" of the DNS server that replaces Docker's 127.0.0.11. After ``start()``:
    ``http_url``, ``https_url``, ``ca_file`` (PEM of the test CA), ``webroot`` (the ACME
    webroot: files under ``.well-known/acme-challenge/`` are served on http), ``output()``.
    """

    upstream: str
    workdir: Path
    conf_source: Path = NGINX_CONF
    host: str = "127.0.0.1"
    resolver: str = "127.0.0.11"
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    cert_hostnames: tuple[str, ...] = ("localhost", "127.0.0.1")
    binary: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        while self.https_port == self.http_port:
            self.https_port = free_port()
        self.prefix = self.workdir / "prefix"
        self.letsencrypt_dir = self.workdir / "letsencrypt"
        self.webroot = self.workdir / "www"
        self.conf_path = self.workdir / "nginx.conf"
        self.pid_file = self.workdir / "nginx.pid"
        self.log_path = self.workdir / "nginx.log"
        self.ca_file = self.workdir / "ca.pem"
        self.cert_dir = self.letsencrypt_dir / "live" / "rocket2"

    @property
    def http_url(self) -> str:
        """Base URL of the plain-http listener."""
        return f"http://{self.host}:{self.http_port}"

    @property
    def https_url(self) -> str:
        """Base URL of the TLS listener."""
        return f"https://{self.host}:{self.https_port}"

    def write_files(self) -> None:
        """Make the certificate, the webroot and the rendered nginx.conf (no process yet)."""
        for path in (self.prefix, self.cert_dir, self.webroot / ".well-known" / "acme-challenge"):
            path.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA()
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self.issue_certificate()
        self.conf_path.write_text(
            render_conf(
                self.conf_source.read_text(),
                http_port=self.http_port,
                https_port=self.https_port,
                upstream=self.upstream,
                letsencrypt_dir=self.letsencrypt_dir,
                webroot=self.webroot,
                pid_file=self.pid_file,
                host=self.host,
                resolver=self.resolver,
            )
        )

    def issue_certificate(self) -> None:
        """Write a fresh leaf certificate from the test CA, as a renewal would (no reload)."""
        leaf = self._ca.issue_cert(*self.cert_hostnames)
        leaf.private_key_pem.write_to_path(str(self.cert_dir / "privkey.pem"))
        chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        (self.cert_dir / "fullchain.pem").write_bytes(chain)

    def _argv(self, *extra: str) -> list[str]:
        binary = self.binary or find_nginx()
        if binary is None:
            raise AssertionError("nginx is not installed")
        # -e: log start-up errors to stderr instead of the compiled-in /var/log/nginx path.
        return [binary, "-p", str(self.prefix), "-c", str(self.conf_path), "-e", "stderr", *extra]

    def check_config(self) -> subprocess.CompletedProcess[str]:
        """Run ``nginx -t`` on the rendered configuration."""
        if not self.conf_path.exists():
            self.write_files()
        return subprocess.run(
            self._argv("-t"), capture_output=True, text=True, timeout=30, check=False
        )

    def start(self) -> NginxServer:
        """Write the files, start nginx in the foreground, and wait until both ports answer."""
        self.write_files()
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self._argv("-g", "daemon off;"), stdout=self._log, stderr=subprocess.STDOUT
        )

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"nginx exited {self.proc.returncode}:\n{self.output()}")
            return _port_open(self.host, self.http_port) and _port_open(self.host, self.https_port)

        wait_until(ready, timeout=15, what=f"nginx on {self.http_url} and {self.https_url}")
        return self

    def reload(self) -> None:
        """``nginx -s reload``, as the compose service's loop runs it (found via the pid file)."""
        result = subprocess.run(
            self._argv("-s", "reload"), capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr

    def served_certificate(self) -> bytes:
        """DER of the certificate the https listener presents now."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with (
            socket.create_connection((self.host, self.https_port), timeout=10) as sock,
            context.wrap_socket(sock, server_hostname=self.cert_hostnames[0]) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der

    def output(self) -> str:
        """Everything nginx wrote to stdout (access log) and stderr (error log) so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only this server's test CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def stop(self, timeout: float = 15) -> None:
        """Fast shutdown (TERM); KILL if nginx does not exit in time."""
        if self.proc is None:
            return
        terminate(self.proc, timeout)
        self._log.close()

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
