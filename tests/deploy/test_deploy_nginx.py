"""The repository's nginx.conf, run by Debian's real nginx in front of a real Gunicorn.

Only the deployment-specific strings are substituted (tests/support/nginx.py): loopback high
ports, temporary directories, the upstream, and a certificate made for this test by trustme.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_binary
from tests.support.gunicorn import wait_until
from tests.support.nginx import NGINX_CONF, NginxServer

pytestmark = pytest.mark.nginx

# What the app saw, written by Gunicorn's access log from the WSGI environ after the app (and
# its ProxyFix) ran. Set through GUNICORN_CMD_ARGS, so no route exists only for tests.
ACCESS_FORMAT = (
    "deploy-seen scheme=%({wsgi.url_scheme}e)s remote=%(h)s host=%({http_host}e)s "
    "path=%(U)s rid=%({x-request-id}i)s xff=%({x-forwarded-for}i)s"
)
CLIENT_ADDRESS = "127.0.0.2"  # a loopback address distinct from nginx's own 127.0.0.1


@pytest.fixture
def stack(gunicorn_server, env, tmp_path: Path) -> Iterator[tuple[NginxServer, object]]:
    """nginx (the repo's nginx.conf) → Gunicorn running the app."""
    binary = require_binary("nginx")
    app = gunicorn_server(env, GUNICORN_CMD_ARGS=f"--access-logformat '{ACCESS_FORMAT}'")
    nginx = NginxServer(upstream=f"127.0.0.1:{app.port}", workdir=tmp_path / "nginx", binary=binary)
    with nginx:
        yield nginx, app


def client(nginx: NginxServer, **kwargs: object) -> httpx.Client:
    """An https client that trusts only the test CA."""
    return httpx.Client(verify=nginx.ssl_context(), timeout=10, **kwargs)  # type: ignore[arg-type]


def test_nginx_t_accepts_the_config(tmp_path: Path) -> None:
    binary = require_binary("nginx")
    result = NginxServer(upstream="127.0.0.1:9", workdir=tmp_path, binary=binary).check_config()
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_http_redirects_to_https_with_308(stack) -> None:
    nginx, _ = stack
    response = httpx.get(nginx.http_url + "/slack/commands?a=1&b=2", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "https://127.0.0.1/slack/commands?a=1&b=2"
    post = httpx.post(nginx.http_url + "/webhook", content=b"{}", follow_redirects=False)
    assert post.status_code == 308  # 308 keeps the method and body, unlike 301


def test_acme_challenge_is_served_over_plain_http(stack) -> None:
    nginx, _ = stack
    token = "Xk3-challenge_token"
    path = nginx.webroot / ".well-known" / "acme-challenge" / token
    path.write_text("Xk3-challenge_token.key-authorization")
    response = httpx.get(nginx.http_url + f"/.well-known/acme-challenge/{token}")
    assert response.status_code == 200
    assert response.text == "Xk3-challenge_token.key-authorization"
    missing = httpx.get(nginx.http_url + "/.well-known/acme-challenge/nope")
    assert missing.status_code == 404
    # Only the challenge directory is served; the rest of the webroot redirects like any path.
    other = httpx.get(nginx.http_url + "/.well-known/other", follow_redirects=False)
    assert other.status_code == 308


def test_https_reaches_the_app_with_hsts_and_no_version(stack) -> None:
    nginx, _ = stack
    with client(nginx) as http:
        root = http.get(nginx.https_url + "/")
        health = http.get(nginx.https_url + "/healthz")
    assert root.status_code == 200
    assert root.text == "🚀"
    assert health.json()["status"] == "ok"
    hsts = root.headers["strict-transport-security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts)[1])  # type: ignore[index]
    assert max_age >= 365 * 24 * 3600
    assert root.headers["server"] == "nginx"  # server_tokens off: no version


def test_app_sees_https_and_the_real_client_address(stack) -> None:
    nginx, app = stack
    transport = httpx.HTTPTransport(verify=nginx.ssl_context(), local_address=CLIENT_ADDRESS)
    with httpx.Client(transport=transport, timeout=10) as http:
        # A client cannot forge its address: nginx appends the real one, the app trusts one hop.
        response = http.get(
            nginx.https_url + "/healthz?probe=seen",
            headers={"X-Forwarded-For": "203.0.113.66", "X-Request-ID": "forged-id"},
        )
    assert response.status_code == 200

    def seen() -> str | None:
        lines = [line for line in app.output().splitlines() if "deploy-seen" in line]
        return next((line for line in lines if "path=/healthz" in line), None)

    line = wait_until(seen, timeout=10, what="the app's access-log line")
    # nginx passes the forged value on but appends the address it really saw.
    assert f"xff=203.0.113.66, {CLIENT_ADDRESS}" in line, line
    assert "scheme=https" in line, line
    assert f"remote={CLIENT_ADDRESS} " in line, line
    assert "host=127.0.0.1 " in line, line
    # nginx replaces a client's X-Request-ID with its own, so logs correlate and cannot be forged.
    assert "forged-id" not in line
    rid = re.search(r"rid=([0-9a-f]{32})", line)
    assert rid, line
    # The app adopts nginx's id and echoes it, so nginx's and the app's log lines correlate.
    assert response.headers["x-request-id"] == rid[1]
    nginx_line = wait_until(
        lambda: next((x for x in nginx.output().splitlines() if f"rid={rid[1]}" in x), None),
        timeout=10,
        what="nginx's log line",
    )
    # Neither log keeps a query string (GitHub's link callback carries a code and a state).
    assert '"GET /healthz HTTP/1.1"' in nginx_line and "probe" not in nginx_line, nginx_line
    assert "probe" not in app.output()


def test_body_over_1_mib_gets_413(stack) -> None:
    nginx, _ = stack
    with client(nginx) as http:
        response = http.post(nginx.https_url + "/slack/commands", content=b"x" * (2 * 1024 * 1024))
        small = http.post(nginx.https_url + "/", content=b"x" * 1024)
    assert response.status_code == 413
    assert small.status_code != 413


def _handshake(nginx: NginxServer, version: ssl.TLSVersion) -> str | None:
    context = nginx.ssl_context()
    context.minimum_version = version
    context.maximum_version = version
    # OpenSSL 3 refuses TLS 1.0/1.1 on the client side at its default security level; level 0
    # lets this client offer them, so a refusal we see is the server's.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        return tls.version()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused_by_the_server(stack) -> None:
    nginx, _ = stack
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(nginx, ssl.TLSVersion.TLSv1_1)
    # The server's protocol_version alert, not a client-side "no ciphers/protocols available".
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


def test_tls_1_2_and_1_3_work(stack) -> None:
    nginx, _ = stack
    assert _handshake(nginx, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    assert _handshake(nginx, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"


def test_reload_serves_a_renewed_certificate(stack) -> None:
    """certbot renews in place; the compose loop's `nginx -s reload` makes nginx serve it."""
    nginx, _ = stack
    before = nginx.served_certificate()
    nginx.issue_certificate()
    assert nginx.served_certificate() == before  # nginx keeps the old one until it reloads
    nginx.reload()
    wait_until(lambda: nginx.served_certificate() != before, timeout=10, what="the new cert")
    with client(nginx) as http:
        assert http.get(nginx.https_url + "/").status_code == 200


def test_the_conf_resolves_rocket2_at_run_time_and_reuses_no_upstream_connection() -> None:
    """The choices tests/deploy/test_nginx_upstream.py proves on 1.22, as the file states them."""
    text = "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text().splitlines())
    directives = [" ".join(d.split()) for d in text.replace("{", ";").replace("}", ";").split(";")]
    # Docker's DNS, a short validity, and a variable: no upstream block resolves once at start.
    assert "resolver 127.0.0.11 valid=2s ipv6=off" in directives
    assert "set $rocket2_app rocket2:5000" in directives
    assert "proxy_pass http://$rocket2_app" in directives
    assert not [d for d in directives if d.startswith("upstream ")]
    # No reuse, whatever the version's default (1.29.7+ keeps upstream connections alive).
    assert "proxy_set_header Connection close" in directives
    assert not [d for d in directives if d.startswith("keepalive ")]
    # Retries: unsent requests only for POST (nginx never replays one without non_idempotent).
    assert "proxy_next_upstream error timeout" in directives
    assert "non_idempotent" not in text
    assert "proxy_next_upstream_tries 3" in directives
    assert "proxy_next_upstream_timeout 5s" in directives
