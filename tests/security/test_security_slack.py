"""Slack-side security through a real Gunicorn (issue 11, findings 4, 6 and 10).

- Replies go to Slack's response_url hosts (plus the test origin) only: no other host or port
  is contacted, no redirect is followed, a slow URL is given up after a short timeout, and
  retries are bounded.
- Commands, mentions and team_join events from another workspace change nothing; while the
  workspace is not known yet, everything fails closed.
- A `++` counts once per signed delivery: replayed, or delivered to two instances sharing one
  PostgreSQL database. A giver gives at most 10 points an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.members.karma import GIFTS_PER_HOUR
from tests.support import rocket as rocket_support
from tests.support.gunicorn import GunicornServer, wait_until
from tests.support.rocket import FORM, Rocket
from tests.support.slack import FakeSlack, command_body, event_body, signed_headers

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

ME = rocket_support.ME
BOB = "U0BOB00001"
OUTSIDER_TEAM = "T0OUTSIDE"
REFUSED = "only works for members of its own workspace"


@pytest.fixture
def elsewhere() -> Iterator[HTTPServer]:
    """A second local listener that must never be contacted: answers anything with 200."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/", method="POST").respond_with_data("ok")
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def send_command(rocket: Rocket, text: str, response_url: str, **fields: str) -> httpx.Response:
    """POST one signed slash command; check it was acked with 200."""
    response = rocket.post("/slack/commands", command_body(text, response_url, **fields), FORM)
    assert response.status_code == 200, response.text
    return response


def next_line(rocket: Rocket, needle: str, send: Callable[[], object]) -> str:
    """Run ``send``, then wait for one more server log line with ``needle``; return it."""
    before = len(rocket.server.lines(needle))
    send()
    return rocket.server.wait_for_output(needle, before + 1)[-1]


def mention(text: str, user: str = ME, **fields: str) -> dict[str, str]:
    return {"type": "app_mention", "user": user, "channel": "C0001", "text": text, **fields}


# ---- response_url: the allow-list and our own client ------------------------------------


def test_a_response_url_on_another_local_port_is_not_contacted(rocket, elsewhere):
    rocket.add_user(ME, email="me@example.org")
    url = elsewhere.url_for("/secret-path-4711")  # 127.0.0.1, but not the allowed port
    line = next_line(
        rocket,
        "reply to response_url failed, carrying on: response_url not allowed",
        lambda: send_command(rocket, "export emails", url),
    )
    assert "me@example.org" not in line
    refused = rocket.server.lines("reply not sent: response_url host '127.0.0.1' is not allowed")
    assert refused
    assert "secret-path-4711" not in rocket.server.output()  # the path is a credential
    assert elsewhere.log == []


def test_a_reply_url_never_reaches_the_log(rocket):
    rocket.command("help")
    # the reply reached the fake before the server logged it: wait for the line, do not race it
    rocket.server.wait_for_output("response_url")
    replies = [line for line in rocket.server.lines("HTTP Request: POST") if "response_url" in line]
    assert replies, "httpx logs the reply request, by origin"
    assert "/respond/" not in rocket.server.output()


def test_an_http_hooks_slack_com_url_is_refused(rocket):
    next_line(
        rocket,
        "reply not sent: response_url host 'hooks.slack.com' is not allowed",
        lambda: send_command(rocket, "help", "http://hooks.slack.com/commands/T0001/1/secret-xyz"),
    )
    assert "secret-xyz" not in rocket.server.output()


def test_a_redirect_from_an_allowed_origin_is_not_followed(rocket, elsewhere):
    target = elsewhere.url_for("/")
    rocket.slack.server.expect_request("/moved/hook").respond_with_response(
        Response(status=302, headers={"Location": target})
    )
    send_command(rocket, "help", rocket.slack.server.url_for("/moved/hook"))
    rocket.server.wait_for_output("reply to response_url failed, carrying on: answered 302")
    assert len(rocket.slack.requests("/moved/hook")) == 1  # a 3xx is not retried either
    assert elsewhere.log == []


def test_a_slow_response_url_is_given_up_after_the_timeout(rocket):
    # The fake holds this reply for up to 30 s. Proof by ordering: the client gave up (its log
    # line) while the fake had still not answered, so the reply thread was not held by it.
    rocket.slack.hold_response("/respond/slow")
    send_command(rocket, "help", rocket.slack.response_url_for("slow"))
    rocket.server.wait_for_output("reply to response_url failed, carrying on: timed out")
    assert not rocket.slack.answered("/respond/slow")
    assert rocket.slack.arrived("/respond/slow") == 1  # a read timeout is not retried
    rocket.slack.release_response("/respond/slow")


def test_retries_are_bounded_and_only_for_server_errors(rocket):
    server = rocket.slack.server
    server.expect_request("/down/hook").respond_with_data("down", status=503)
    server.expect_request("/gone/hook").respond_with_data("expired_url", status=404)
    busy_answers = iter([Response("slow down", status=429, headers={"Retry-After": "0"})])

    def busy(request: Request) -> Response:
        return next(busy_answers, Response("ok"))

    server.expect_request("/busy/hook").respond_with_handler(busy)
    send_command(rocket, "help", server.url_for("/down/hook"))
    send_command(rocket, "help", server.url_for("/gone/hook"))
    send_command(rocket, "help", server.url_for("/busy/hook"))
    rocket.server.wait_for_output("carrying on: answered 503")
    rocket.server.wait_for_output("carrying on: answered 404")
    wait_until(lambda: len(rocket.slack.requests("/busy/hook")) == 2, what="the 429's retry")
    assert len(rocket.slack.requests("/down/hook")) == 3  # the first try and two more
    assert len(rocket.slack.requests("/gone/hook")) == 1  # a 4xx is final


# ---- one workspace ------------------------------------------------------------------------


def test_another_workspaces_command_is_refused_in_the_ack(rocket):
    rocket.add_user(BOB, karma=3)
    for text in ("user add", f"<@{BOB}> ++"):
        body = command_body(text, rocket.slack.response_url_for("outside"), team_id=OUTSIDER_TEAM)
        response = rocket.post("/slack/commands", body, FORM)
        assert response.status_code == 200
        assert response.json() == {
            "response_type": "ephemeral",
            "text": f"Sorry, Rocket 2 {REFUSED}.",
        }
    rocket.server.wait_for_output(f"slack command from another workspace ({OUTSIDER_TEAM})", 2)
    assert rocket.user("U0123ABCDEF") is None  # command_body's default caller
    assert rocket.user(BOB).karma == 3
    assert rocket.slack.requests("/respond/outside") == []


def test_an_outside_members_mention_in_a_shared_channel_is_ignored(rocket):
    rocket.add_user(BOB, karma=3)
    # Slack Connect: the event comes through our workspace, the caller is from another one.
    event = mention(f"<@UBOT> <@{BOB}> ++", user="U0GUEST001", user_team=OUTSIDER_TEAM)
    line = next_line(
        rocket,
        "slack event app_mention from another workspace",
        lambda: rocket.event("Ev-sec-outside-mention", event),
    )
    assert OUTSIDER_TEAM in line and BOB not in line
    assert rocket.user(BOB).karma == 3
    assert rocket.slack.requests("/api/chat.postEphemeral") == []


def test_a_team_join_of_another_workspace_records_nothing(rocket):
    user = {"id": "U0NEWOUT01", "team_id": OUTSIDER_TEAM, "profile": {"email": "o@example.org"}}
    body = event_body("Ev-sec-outside-join", {"type": "team_join", "user": user})
    headers = signed_headers(
        rocket.env["SLACK_SIGNING_SECRET"], body, content_type="application/json"
    )
    url = rocket.server.url + "/slack/events"
    line = next_line(
        rocket,
        "slack event team_join from another workspace",
        lambda: httpx.post(url, content=body, headers=headers).raise_for_status(),
    )
    assert OUTSIDER_TEAM in line
    assert rocket.user("U0NEWOUT01") is None
    assert rocket.slack.requests("/api/chat.postMessage") == []


def test_a_whole_outside_workspaces_event_is_ignored(rocket):
    rocket.add_user(BOB, karma=3)
    body = event_body("Ev-sec-outside-all", mention(f"<@UBOT> <@{BOB}> ++"), OUTSIDER_TEAM)
    next_line(
        rocket,
        "slack event app_mention from another workspace",
        lambda: rocket.post("/slack/events", body, "application/json").raise_for_status(),
    )
    assert rocket.user(BOB).karma == 3


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_with_no_team_id_set_the_workspace_is_the_one_auth_test_names(gunicorn_server, env, slack):
    env.update(SLACK_API_URL=slack.api_url, SLACK_TEAM_ID="", WEB_CONCURRENCY="1")
    slack.block_auth_test()  # the workspace stays unknown until released
    server = gunicorn_server(env)
    secret = env["SLACK_SIGNING_SECRET"]

    def post(path: str, body: bytes, content_type: str) -> httpx.Response:
        headers = signed_headers(secret, body, content_type=content_type)
        return httpx.post(server.url + path, content=body, headers=headers)

    # Unknown yet: fail closed. A command is asked to come back; an event is left for Slack's
    # retry (503).
    early = post("/slack/commands", command_body("help", slack.response_url_for("early")), FORM)
    assert early.json()["text"] == "Rocket 2 is still starting. Please try again in a minute."
    join = {"type": "team_join", "user": {"id": "U0EARLY001", "profile": {}}}
    assert (
        post("/slack/events", event_body("Ev-early", join), "application/json").status_code == 503
    )
    wait_until(lambda: slack.auth_test_received >= 1, what="the background auth.test")
    slack.release_auth_test()
    server.wait_for_output("slack: bot user is UBOT in workspace T0001")
    # Known now: our workspace is served, another one refused.
    ours = post("/slack/commands", command_body("help", slack.response_url_for("ours")), FORM)
    assert ours.text == ""
    assert slack.wait_for("/respond/ours")[0]["blocks"][0]["text"]["text"] == "Rocket 2 commands"
    theirs = command_body("help", slack.response_url_for("theirs"), team_id=OUTSIDER_TEAM)
    assert REFUSED in post("/slack/commands", theirs, FORM).json()["text"]
    assert slack.requests("/respond/early") == [] and slack.requests("/respond/theirs") == []


def test_the_workspace_is_asked_for_at_worker_start_not_at_the_first_request(
    gunicorn_server, env, slack
):
    env.update(SLACK_API_URL=slack.api_url, SLACK_TEAM_ID="", WEB_CONCURRENCY="2")
    server = gunicorn_server(env)
    # Both workers ask auth.test as they start, before any request reaches them.
    server.wait_for_output("slack: bot user is UBOT in workspace T0001", count=2)
    assert slack.auth_test_received >= 2
    for n in range(4):  # whichever worker takes it, the first commands are served
        body = command_body("help", slack.response_url_for(f"first{n}"))
        headers = signed_headers(env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
        assert httpx.post(server.url + "/slack/commands", content=body, headers=headers).text == ""
        slack.wait_for(f"/respond/first{n}")


# ---- claims and the rate limit ------------------------------------------------------------


def test_one_signed_plus_one_replayed_three_times_counts_once(rocket):
    rocket.add_user(BOB, karma=3)
    body = command_body(f"<@{BOB}> ++", rocket.slack.response_url_for("replayed"), user_id=ME)
    headers = signed_headers(rocket.env["SLACK_SIGNING_SECRET"], body, content_type=FORM)
    for _ in range(3):  # the very same signed request, inside Slack's 5-minute window
        response = httpx.post(rocket.server.url + "/slack/commands", content=body, headers=headers)
        assert response.status_code == 200
    replies = sorted(reply["text"] for reply in rocket.slack.wait_for("/respond/replayed", 3))
    assert replies[-1] == f"You gave <@{BOB}> a karma point: they have 4 now."
    assert replies[:2] == ["That karma point was counted already."] * 2
    assert rocket.user(BOB).karma == 4


@pytest.fixture(scope="module")
def second_instance(rocket_module, tmp_path_factory) -> Iterator[GunicornServer]:
    """Another Rocket 2 instance on the same PostgreSQL database and fakes."""
    if rocket_module.backend != "postgres":
        pytest.skip("two instances share a PostgreSQL database")
    directory = tmp_path_factory.mktemp("second-instance")
    server = rocket_support.second_instance_of(rocket_module, directory)
    yield server
    server.stop()


def test_one_mention_delivered_to_two_instances_counts_once(rocket, second_instance):
    rocket.add_user(BOB, karma=3)
    body = event_body("Ev-sec-two-instances", mention(f"<@UBOT> <@{BOB}> ++"))
    headers = signed_headers(
        rocket.env["SLACK_SIGNING_SECRET"], body, content_type="application/json"
    )
    for url in (rocket.server.url, second_instance.url):
        assert httpx.post(url + "/slack/events", content=body, headers=headers).status_code == 200
    replies = sorted(r["text"] for r in rocket.slack.wait_for("/api/chat.postEphemeral", 2))
    assert replies == [
        "That karma point was counted already.",
        f"You gave <@{BOB}> a karma point: they have 4 now.",
    ]
    assert rocket.user(BOB).karma == 4


def test_a_giver_gives_at_most_ten_points_an_hour(rocket):
    assert GIFTS_PER_HOUR == 10
    rocket.add_user(BOB, karma=1)
    rocket.add_user("U0CAROL001", karma=1)
    for n in range(GIFTS_PER_HOUR):
        target = BOB if n % 2 else "U0CAROL001"
        assert "You gave" in rocket.command(f"<@{target}> ++", ME)["text"]
    refusal = rocket.command(f"<@{BOB}> ++", ME)
    rocket_support.assert_refused(refusal, f"You have given {GIFTS_PER_HOUR} karma points")
    assert (rocket.user(BOB).karma, rocket.user("U0CAROL001").karma) == (6, 6)
    # Another giver is not limited by it.
    assert "they have 7 now" in rocket.command(f"<@{BOB}> ++", "U0OTHER001")["text"]
