"""Slack being slow or failing at auth.test never delays the ack: Bolt's authorize is built from
the configured bot token, and the bot's ids come from one background auth.test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.gunicorn import wait_until
from tests.support.slack import FakeSlack, command_body, signed_headers

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def help_command(server, env, slack, name):
    body = command_body("help", slack.response_url_for(name))
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
    started = time.monotonic()
    response = httpx.post(server.url + "/slack/commands", content=body, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.text == ""
    return elapsed


def test_help_is_acked_and_answered_while_auth_test_is_slow(gunicorn_server, env, slack):
    slack.auth_test_delay = 6.0  # well past Slack's 3-second limit for the ack
    env["SLACK_API_URL"] = slack.api_url
    server = gunicorn_server(env)
    assert help_command(server, env, slack, "slow") < 2
    reply = slack.wait_for("/respond/slow")[0]
    assert reply["blocks"][0]["text"]["text"] == "Rocket 2 commands"
    # auth.test was asked in the background; its answer arrives later and fills the bot id.
    server.wait_for_output("slack: bot user is UBOT", timeout=20)


def test_help_is_acked_and_answered_while_auth_test_fails(gunicorn_server, env, slack):
    slack.auth_test_fails = True
    env["SLACK_API_URL"] = slack.api_url
    server = gunicorn_server(env)
    for name in ("first", "second", "third"):
        assert help_command(server, env, slack, name) < 2
        assert slack.wait_for(f"/respond/{name}")[0]["response_type"] == "ephemeral"
    server.wait_for_output("slack auth.test (bot ids, to ignore the bot's own events) failed")
    # One background attempt per worker per minute, not one per request.
    wait_until(lambda: slack.requests("/api/auth.test"), what="the background auth.test")
    assert len(slack.requests("/api/auth.test")) == 1
