"""Hostile input to Slack's endpoints: 401 before any parsing when unsigned, 400 when malformed."""

from __future__ import annotations

import httpx
import pytest

from tests.support.gunicorn import GunicornServer, free_port, server_env
from tests.support.keys import valid_env
from tests.support.slack import FakeSlack, signed_headers

MALFORMED = [
    b'{"a": 1',  # truncated JSON
    b"[" * 200_000 + b"]" * 200_000,  # deeper than any parser's recursion limit
    b"\xff\xfe{",  # not UTF-8
    b"payload=%7Bnot-json",  # an interactivity form whose payload is not JSON
]


@pytest.fixture(scope="module")
def env(key_pem):
    return valid_env(key_pem)


@pytest.fixture(scope="module")
def server(env, tmp_path_factory):
    """One real Gunicorn for the whole module."""
    slack = FakeSlack().start()
    port = free_port()
    workdir = tmp_path_factory.mktemp("slack-input")
    srv = GunicornServer(
        env=server_env({**env, "SLACK_API_URL": slack.api_url}, port),
        port=port,
        log_path=workdir / "gunicorn.log",
        cwd=workdir,
    ).start()
    yield srv
    srv.stop()
    slack.stop()


@pytest.mark.parametrize("path", ["/slack/events", "/slack/commands"])
@pytest.mark.parametrize("body", MALFORMED, ids=["truncated", "deep", "binary", "form"])
def test_unsigned_garbage_is_refused_before_parsing(server, path, body):
    response = httpx.post(server.url + path, content=body, timeout=10)
    assert response.status_code == 401
    assert "Traceback" not in server.output()


@pytest.mark.parametrize("body", MALFORMED, ids=["truncated", "deep", "binary", "form"])
def test_signed_garbage_gets_a_client_error_never_500(server, env, body):
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type="application/json")
    response = httpx.post(server.url + "/slack/events", content=body, headers=headers, timeout=10)
    assert 400 <= response.status_code < 500
    assert "unhandled error" not in server.output()


@pytest.mark.parametrize("timestamp", ["soon", "", "1e3", "-"])
def test_a_timestamp_that_is_not_a_number_is_401(server, timestamp):
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    response = httpx.post(server.url + "/slack/commands", content=b"text=help", headers=headers)
    assert response.status_code == 401
