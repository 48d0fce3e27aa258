"""Slack endpoints on a real Gunicorn: signatures, the /rocket help reply, events, retries."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.gunicorn import secrets_of
from tests.support.slack import FakeSlack, command_body, event_body, signed_headers

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def server(gunicorn_server, env, slack):
    env["SLACK_API_URL"] = slack.api_url
    srv = gunicorn_server(env)
    yield srv
    srv.assert_no_secrets(secrets_of(env))


def post_signed(server, env, path, body, content_type=FORM, **kwargs):
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=content_type, **kwargs)
    return httpx.post(server.url + path, content=body, headers=headers, timeout=5)


def test_startup_notice_and_help_reply_through_response_url(server, env, slack):
    notices = slack.wait_for("/api/chat.postMessage")
    assert notices[0]["channel"] == "#rocket2"
    assert notices[0]["text"] == "Rocket 2 has restarted"

    # The reply to response_url is held unanswered until the ack has arrived: an ack that
    # waited for the command's work (which ends with that reply) would never come back.
    slack.hold_response("/respond/hook")
    resp = post_signed(server, env, "/slack/commands", command_body("help", slack.response_url))
    assert resp.status_code == 200
    assert resp.text == ""  # acknowledged before the work finished; the reply goes to response_url
    assert not slack.answered("/respond/hook")
    slack.release_response("/respond/hook")

    reply = slack.wait_for("/respond/hook")[0]
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["text"]["text"] == "Rocket 2 commands"
    assert "/rocket user view" in json.dumps(reply["blocks"])
    access = server.wait_for_output("POST /slack/commands")[0]
    request_id = access.rsplit("request_id=", 1)[1].strip()
    # The work after the ack ran in a listener thread and still carries the request's id.
    answered = server.wait_for_output("slack command answered")[0]
    assert answered.endswith(f"request_id={request_id}")


def test_unknown_command_answers_with_the_command_list(server, env, slack):
    resp = post_signed(
        server, env, "/slack/commands", command_body("frobnicate x", slack.response_url)
    )
    assert resp.status_code == 200
    reply = slack.wait_for("/respond/hook")[0]
    assert reply["response_type"] == "ephemeral"
    assert "I don't know the command `frobnicate`" in reply["text"]
    assert "/rocket user view" in reply["text"]


@pytest.mark.parametrize("path", ["/slack/commands", "/slack/events"])
def test_bad_signatures_get_401(server, env, slack, path):
    body = command_body("help", slack.response_url)
    url = server.url + path
    assert httpx.post(url, content=body, headers={"Content-Type": FORM}).status_code == 401

    wrong = signed_headers("not-the-signing-secret", body, content_type=FORM)
    assert httpx.post(url, content=body, headers=wrong).status_code == 401

    tampered = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
    assert httpx.post(url, content=body + b"&x=1", headers=tampered).status_code == 401

    stale = int(time.time()) - 5 * 60 - 30
    assert post_signed(server, env, path, body, timestamp=stale).status_code == 401
    future = int(time.time()) + 5 * 60 + 30
    assert post_signed(server, env, path, body, timestamp=future).status_code == 401

    assert slack.requests("/respond/hook") == []


def test_url_verification_answers_the_challenge(server, env):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
    resp = post_signed(server, env, "/slack/events", body, content_type="application/json")
    assert resp.status_code == 200
    assert "c-123" in resp.text


def test_event_retries_are_not_processed_twice(server, env, slack):
    mention = {
        "type": "app_mention",
        "user": "U0123ABCDEF",
        "channel": "C0001",
        "text": "<@UBOT> help",
    }
    first = event_body("Ev0001", mention)
    resp = post_signed(server, env, "/slack/events", first, content_type="application/json")
    assert resp.status_code == 200
    slack.wait_for("/api/chat.postEphemeral", 1)

    retry_headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    headers = {
        **signed_headers(env["SLACK_SIGNING_SECRET"], first, content_type="application/json"),
        **retry_headers,
    }
    resp = httpx.post(server.url + "/slack/events", content=first, headers=headers)
    assert resp.status_code == 200
    assert server.wait_for_output("Ev0001 already received")

    second = event_body("Ev0002", mention)
    assert post_signed(server, env, "/slack/events", second, "application/json").status_code == 200
    slack.wait_for("/api/chat.postEphemeral", 2)
    # Two distinct events were handled; the repeat of the first was not.
    assert len(slack.requests("/api/chat.postEphemeral")) == 2
    reply = slack.bodies("/api/chat.postEphemeral")[0]
    assert reply["user"] == "U0123ABCDEF" and reply["channel"] == "C0001"


def test_body_over_one_mebibyte_gets_413(server, env, slack):
    body = b"text=" + b"a" * (1024 * 1024 + 1)
    resp = post_signed(server, env, "/slack/commands", body)
    assert resp.status_code == 413


def test_debug_logs_carry_no_body_and_no_secret_header(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url, LOG_LEVEL="DEBUG")
    server = gunicorn_server(env)
    body = command_body("user view --email body-marker-4711@example.org", slack.response_url)
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
    assert (
        httpx.post(server.url + "/slack/commands", content=body, headers=headers).status_code == 200
    )
    slack.wait_for("/respond/hook")
    hook = json.dumps({"zen": "body-marker-0815"}).encode()
    httpx.post(server.url + "/webhook", content=hook, headers={"X-GitHub-Event": "ping"})
    server.wait_for_output("POST /webhook")
    server.stop()
    output = server.output()
    assert "DEBUG" in output
    # One line per record, even for Gunicorn's multi-line configuration dump at DEBUG.
    assert "Current configuration:" in output
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line) for line in output.splitlines())
    assert "body-marker-4711" not in output and "body-marker-0815" not in output
    assert headers["X-Slack-Signature"] not in output
    server.assert_no_secrets(secrets_of(env))
