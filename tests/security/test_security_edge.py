"""Issue 22's findings at the HTTP edge, reproduced through a real Gunicorn: what /healthz tells
the internet (L2), a chunked body over the limit (L3), whose X-Request-ID is believed (L4)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator

import httpx

from tests.support.webhooks import post_signed

INTERNET = "203.0.113.7"  # a documentation address, as a client on the internet
COMPOSE = "172.29.42.9"  # an address in the compose network
TOKEN = "healthz-token-" + "t" * 32
MIB = 1024 * 1024


def start(gunicorn_server, env, **overrides):  # type: ignore[no-untyped-def]
    return gunicorn_server({**env, "SLACK_API_URL": "http://127.0.0.1:9/", **overrides})


def healthz(server, client: str | None = None, **headers: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    """GET /healthz as ``client`` (through the trusted proxy at 127.0.0.1), or from loopback."""
    if client is not None:
        headers["X-Forwarded-For"] = client
    return httpx.get(server.url + "/healthz", headers=headers, timeout=5)


def test_healthz_tells_the_internet_ok_only_and_the_details_to_internal_or_token(
    gunicorn_server, env
):
    server = start(gunicorn_server, env, HEALTHZ_TOKEN=TOKEN)
    public = healthz(server, INTERNET)
    assert public.status_code == 200
    assert public.json() == {"status": "ok"}
    wrong = healthz(server, INTERNET, Authorization="Bearer " + "x" * len(TOKEN))
    assert wrong.json() == {"status": "ok"}

    full = {"status", "version", "store", "scheduler", "special_teams"}
    assert set(healthz(server).json()) == full  # loopback: the compose healthcheck, deploy.sh
    assert set(healthz(server, COMPOSE).json()) == full
    assert set(healthz(server, INTERNET, Authorization=f"Bearer {TOKEN}").json()) == full
    server.assert_no_secrets([TOKEN])


def test_healthz_without_a_token_configured_refuses_an_empty_bearer(gunicorn_server, env):
    server = start(gunicorn_server, env)
    assert healthz(server, INTERNET, Authorization="Bearer").json() == {"status": "ok"}
    assert healthz(server, "::ffff:10.1.2.3").json()["store"] == "up"


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        yield b"x" * step
        sent += step


def test_a_chunked_body_over_the_limit_gets_413_and_one_within_it_is_served(gunicorn_server, env):
    server = start(gunicorn_server, env)
    for path in ("/webhook", "/slack/commands"):
        response = httpx.post(server.url + path, content=_chunks(2 * MIB), timeout=10)
        assert response.status_code == 413, (path, response.text)
        assert response.json() == {"error": "Request Entity Too Large"}
        assert len(response.headers["X-Request-ID"]) == 32
    # Not chunked: Werkzeug's own Content-Length check, as before.
    assert httpx.post(server.url + "/webhook", content=b"x" * (2 * MIB)).status_code == 413

    # A signed ping sent chunked, within the limit: read whole, its signature holds.
    body = json.dumps({"zen": "z" * (MIB - 4096), "hook_id": 1}).encode()
    secret = env["GITHUB_WEBHOOK_SECRET"].encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    chunked = httpx.post(
        server.url + "/webhook", content=iter([body[:1000], body[1000:]]), headers=headers
    )
    assert chunked.status_code == 200, chunked.text
    assert chunked.json() == {"status": "pong"}
    plain = post_signed(server.url + "/webhook", env["GITHUB_WEBHOOK_SECRET"], "ping", body)
    assert plain.json() == {"status": "pong"}


def test_a_request_id_is_believed_only_from_a_trusted_proxy(gunicorn_server, env):
    server = start(gunicorn_server, env, FORWARDED_ALLOW_IPS="10.0.0.1")
    chosen = "client-chosen-id-1"
    answered = httpx.get(server.url + "/", headers={"X-Request-ID": chosen}).headers
    assert answered["X-Request-ID"] != chosen and len(answered["X-Request-ID"]) == 32
    assert server.wait_for_output(f"request_id={answered['X-Request-ID']}")
    assert chosen not in server.output()

    trusted = start(gunicorn_server, env)  # FORWARDED_ALLOW_IPS=127.0.0.1
    assert (
        httpx.get(trusted.url + "/", headers={"X-Request-ID": chosen}).headers["X-Request-ID"]
        == chosen
    )
