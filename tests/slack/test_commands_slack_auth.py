"""Slack being slow or failing at auth.test never delays the ack: the bot token is the
configured one, and the bot's ids come from one background auth.test."""

from __future__ import annotations

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
    """Send /rocket help and check the empty ack (the server answers it while auth.test is
    held, or this request fails on its timeout: a guard against hanging, not a measured speed)."""
    body = command_body("help", slack.response_url_for(name))
    headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
    response = httpx.post(server.url + "/slack/commands", content=body, headers=headers)
    assert response.status_code == 200 and response.text == ""


def test_help_is_acked_and_answered_while_auth_test_is_held(gunicorn_server, env, slack):
    # auth.test is held unanswered until the command has been acked AND answered through its
    # response_url: proof by ordering that neither waited for auth.test.
    slack.block_auth_test()
    env["SLACK_API_URL"] = slack.api_url
    server = gunicorn_server(env)
    help_command(server, env, slack, "held")
    reply = slack.wait_for("/respond/held")[0]
    assert reply["blocks"][0]["text"]["text"] == "Rocket 2 commands"
    # auth.test was asked in the background and is still unanswered.
    wait_until(lambda: slack.auth_test_received >= 1, what="the background auth.test")
    assert slack.requests("/api/auth.test") == []
    assert not server.lines("slack: bot user is")
    # Its answer, once released, arrives later and fills the bot id.
    slack.release_auth_test()
    server.wait_for_output("slack: bot user is UBOT", timeout=20)


def test_help_is_acked_and_answered_while_auth_test_fails(gunicorn_server, env, slack):
    slack.auth_test_fails = True
    slack.block_auth_test()  # held (then failing) until the first replies have arrived
    env["SLACK_API_URL"] = slack.api_url
    server = gunicorn_server(env)
    for name in ("first", "second", "third"):
        help_command(server, env, slack, name)
        assert slack.wait_for(f"/respond/{name}")[0]["response_type"] == "ephemeral"
    wait_until(lambda: slack.auth_test_received >= 1, what="the background auth.test")
    assert slack.requests("/api/auth.test") == []  # still held: the replies did not wait
    slack.release_auth_test()
    server.wait_for_output("slack auth.test (bot and workspace ids) failed")
    # After the failure a command is still acked and answered without waiting for a new
    # auth.test (held again, so one asked in line would hang the ack).
    slack.block_auth_test()
    help_command(server, env, slack, "fourth")
    assert slack.wait_for("/respond/fourth")[0]["response_type"] == "ephemeral"
    # One background attempt per worker per minute, not one per request.
    assert slack.auth_test_received == 1
    assert len(slack.requests("/api/auth.test")) == 1
