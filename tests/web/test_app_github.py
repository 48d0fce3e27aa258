"""The GitHub webhook on a real Gunicorn: signature first, then routing by X-GitHub-Event."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from tests.support.gunicorn import secrets_of


@pytest.fixture
def server(gunicorn_server, env):
    env["GITHUB_WEBHOOK_ENDPT"] = "/github/hook"
    env["SLACK_API_URL"] = "http://127.0.0.1:9/"
    srv = gunicorn_server(env)
    yield srv
    srv.assert_no_secrets(secrets_of(env))


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(server, env, event, body, signature=None, **headers):
    sig = sign(env["GITHUB_WEBHOOK_SECRET"], body) if signature is None else signature
    all_headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "00000000-0000-4000-8000-000000000001",
        "Content-Type": "application/json",
        **({"X-Hub-Signature-256": sig} if sig else {}),
        **headers,
    }
    return httpx.post(server.url + "/github/hook", content=body, headers=all_headers)


PING = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()


def test_ping_is_200(server, env):
    resp = deliver(server, env, "ping", PING)
    assert resp.status_code == 200
    assert resp.json() == {"status": "pong"}


def test_missing_or_bad_signature_is_401(server, env):
    assert deliver(server, env, "ping", PING, signature="").status_code == 401
    assert deliver(server, env, "ping", PING, signature="sha256=" + "0" * 64).status_code == 401
    wrong_key = sign("another-secret", PING)
    assert deliver(server, env, "ping", PING, signature=wrong_key).status_code == 401
    # The legacy SHA-1 header alone is not accepted.
    legacy = "sha1=" + hmac.new(env["GITHUB_WEBHOOK_SECRET"].encode(), PING, "sha1").hexdigest()
    assert (
        deliver(server, env, "ping", PING, signature="", **{"X-Hub-Signature": legacy}).status_code
        == 401
    )
    # A signature over other bytes does not cover these.
    assert (
        deliver(
            server, env, "ping", PING + b" ", signature=sign(env["GITHUB_WEBHOOK_SECRET"], PING)
        ).status_code
        == 401
    )


def test_signature_is_checked_before_parsing(server, env):
    # Garbage without a valid signature is 401, not 400: nothing is parsed first.
    assert deliver(server, env, "push", b"{not json", signature="sha256=00").status_code == 401


def test_unhandled_event_is_202(server, env):
    body = json.dumps({"action": "created", "member": {"login": "a"}}).encode()
    resp = deliver(server, env, "star", body)
    assert resp.status_code == 202
    assert resp.json()["status"] == "ignored"
    # Routing is by header, never by the payload's action.
    assert (
        deliver(server, env, "ping", json.dumps({"action": "member_added"}).encode()).status_code
        == 200
    )


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b"[1, 2]", b"", b"null"])
def test_malformed_json_is_400(server, env, body):
    resp = deliver(server, env, "organization", body)
    assert resp.status_code == 400


def test_wrong_method_and_huge_body(server, env):
    assert httpx.get(server.url + "/github/hook").status_code == 405
    body = b"{" + b" " * (1024 * 1024) + b"}"
    assert deliver(server, env, "ping", body).status_code == 413
