"""Signed but malformed input, each case once reproduced on a real server (issue 13): now a 4xx
naming the field (never its value), or the 2xx of an ignored event; never a 5xx, never the
crash reply, never a traceback. Through a real Gunicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.rocket import FORM, Rocket
from tests.support.slack import TEAM_ID, command_body, event_body
from tests.support.webhooks import ORG, json_body, membership_event, org_event, post_signed

HOOK = "/github/hook"
rocket_module = rocket_support.rocket_module_with(GITHUB_WEBHOOK_ENDPT=HOOK)
rocket = rocket_support.rocket
JOINER = "U0JOINER01"
CRASH = "something went wrong"


def events(rocket: Rocket, body: bytes) -> httpx.Response:
    return rocket.post("/slack/events", body, "application/json")


def envelope(event: Any, **fields: Any) -> bytes:
    body = json.loads(event_body("Ev0REPRO01", {}))
    body["event"] = event
    body.update(fields)
    return json.dumps(body).encode()


def hook(rocket: Rocket, event: str, payload: dict[str, Any]) -> httpx.Response:
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    return post_signed(rocket.server.url + HOOK, secret, event, json_body(payload))


def assert_refused(response: httpx.Response, field: str, *hidden: str) -> None:
    """400, naming ``field`` and none of the ``hidden`` values."""
    assert response.status_code == 400, (response.status_code, response.text)
    assert f"`{field}`" in response.text, response.text
    for value in hidden:
        assert value not in response.text


def assert_no_crash(rocket: Rocket) -> None:
    output = rocket.server.output()
    assert "Traceback" not in output
    assert " 500 " not in "".join(rocket.server.lines("gunicorn.access"))
    for request, _response in list(rocket.slack.server.log):
        assert CRASH not in request.get_data(as_text=True)


# ---- 1-4: /slack/events ----------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"[]", b"0", b'"x"', b"true", b"null"])
def test_json_that_is_not_an_object_is_a_400(rocket, body):
    response = events(rocket, body)
    assert response.status_code == 400
    assert "not a JSON object" in response.text
    assert_no_crash(rocket)


@pytest.mark.parametrize("event", [{"type": 0}, 1.5, [], {"type": None}, "team_join"])
def test_an_event_without_a_string_type_is_a_400(rocket, event):
    response = events(rocket, envelope(event))
    assert_refused(response, "event")
    assert_no_crash(rocket)


MENTION = {"type": "app_mention", "user": "U0ABC1234", "channel": "C1", "text": "x"}
JOIN = {"type": "team_join", "user": {"id": "U0ABC1234"}}


@pytest.mark.parametrize(
    ("event", "extra", "field"),
    [
        ({"type": "team_join", "user": -1}, {}, "$.event.user"),
        ({"type": "team_join", "user": False}, {}, "$.event.user"),
        ({**MENTION, "channel": -1}, {}, "$.event.channel"),
        (MENTION, {"user": 0}, "$.user"),
        (JOIN, {"authorizations": 5}, "$.authorizations"),
        (JOIN, {"authorizations": [{"team_id": 5}]}, "$.authorizations[0].team_id"),
        (JOIN, {"event_id": 3}, "$.event_id"),
    ],
)
def test_fields_of_the_wrong_type_are_a_400_naming_the_field(rocket, event, extra, field):
    response = events(rocket, envelope(event, **extra))
    assert_refused(response, field)
    assert_no_crash(rocket)


def test_a_mention_whose_user_is_an_object_is_a_400_not_the_crash_reply(rocket):
    mention = {"type": "app_mention", "user": {"id": "U0ABC1234"}, "channel": "C0001"}
    response = events(rocket, envelope({**mention, "text": "<@U0BOT> help"}))
    assert_refused(response, "$.event.user")
    assert not rocket.slack.requests("/api/chat.postEphemeral")
    assert_no_crash(rocket)


def test_an_event_we_do_not_handle_is_a_200_whatever_it_carries(rocket):
    odd = {"type": "reaction_added", "item": 5, "user": {"nested": [1, 2]}, "channel": -1}
    response = events(rocket, envelope(odd, authorizations="nope"))
    assert response.status_code == 200
    interaction = {"payload": json.dumps({"type": "block_actions", "user": {"id": 7}})}
    response = rocket.post("/slack/events", urlencode(interaction).encode(), FORM)
    assert response.status_code == 200
    assert_no_crash(rocket)


# ---- 5-6: the webhook --------------------------------------------------------------------------


@pytest.mark.parametrize("member_id", ["9223372036854775808", "1e999", "-1", "true", "1.5"])
def test_a_member_id_outside_64_bits_is_a_400_not_redeliver_later(rocket, member_id):
    team = {"id": 42, "name": "web", "slug": "web"}
    payload = json.loads(json.dumps(membership_event("added", team, "ada", 1)))
    body = json.dumps(payload).replace('"id": 1}', f'"id": {member_id}}}').encode()
    assert member_id in body.decode()
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    response = post_signed(rocket.server.url + HOOK, secret, "membership", body)
    assert_refused(response, "$.member.id")
    assert_no_crash(rocket)


@pytest.mark.parametrize("login", [False, 0, None, {"x": 1}, "a\x00b", "x" * 101])
def test_a_login_that_is_not_a_login_is_a_400_and_github_is_not_called(rocket, login):
    payload = org_event("member_added", "ada", 7)
    payload["membership"]["user"]["login"] = login
    response = hook(rocket, "organization", payload)
    assert_refused(response, "$.membership.user.login", "x" * 20)
    assert not [r for r in rocket.github.requests if "/memberships/" in r.path]
    assert_no_crash(rocket)


@pytest.mark.parametrize("name", ["web\x00site", "w" * 201, ""])
def test_team_names_the_store_cannot_hold_are_a_400_on_every_database(rocket, name):
    payload = {
        "action": "created",
        "team": {"id": 77, "name": name, "slug": "web"},
        "organization": {"login": ORG},
    }
    response = hook(rocket, "team", payload)
    assert_refused(response, "$.team.name", "w" * 20)
    with rocket.store.unit_of_work() as uow:
        assert uow.teams.get(77) is None
    assert_no_crash(rocket)


def test_an_action_we_do_not_handle_stays_a_202(rocket):
    payload = {"action": "added_to_repository", "team": 5, "organization": {"login": ORG}}
    assert hook(rocket, "team", payload).status_code == 202


# ---- 7: long outside ids -----------------------------------------------------------------------


def test_a_long_cjk_event_id_is_a_400_and_is_logged(rocket):
    user = {"id": JOINER, "profile": {"real_name": "Ada"}}
    event_id = "Ev" + "漢" * 100
    response = rocket.post(
        "/slack/events",
        event_body(event_id, {"type": "team_join", "user": user}),
        "application/json",
    )
    assert_refused(response, "$.event_id", "漢")
    rocket.server.wait_for_output("signed slack request refused")
    assert_no_crash(rocket)


def test_a_long_trigger_id_still_counts_a_karma_point_once(rocket):
    rocket.add_user("U0GIVER001")
    rocket.add_user("U0TAKER001")
    trigger = "1." + "9" * 250
    url = rocket.slack.response_url_for("k1")
    body = command_body("<@U0TAKER001> ++", url, "U0GIVER001", trigger_id=trigger)
    for _ in range(2):
        assert rocket.post("/slack/commands", body, FORM).status_code == 200
    rocket.slack.wait_for("/respond/k1", 2)
    assert rocket.user("U0TAKER001").karma == 2  # the default 1, plus one point
    assert_no_crash(rocket)


# ---- 8: a stale team ---------------------------------------------------------------------------


def test_a_stale_team_holding_the_name_is_renamed_once(rocket):
    with rocket.store.unit_of_work() as uow:
        uow.teams.upsert(11, "web", slug="web")
    payload = {
        "action": "created",
        "team": {"id": 12, "name": "web", "slug": "web"},
        "organization": {"login": ORG},
    }
    assert hook(rocket, "team", payload).status_code == 200
    with rocket.store.unit_of_work() as uow:
        assert uow.teams.get(11).github_team_name == "web~11"
        assert uow.teams.get(12).github_team_name == "web"


def test_a_stale_team_with_the_longest_name_is_renamed_within_its_column(rocket):
    name = "n" * 200
    with rocket.store.unit_of_work() as uow:
        uow.teams.upsert(11, name, slug=name)
    payload = {
        "action": "created",
        "team": {"id": 12, "name": name, "slug": name},
        "organization": {"login": ORG},
    }
    assert hook(rocket, "team", payload).status_code == 200
    with rocket.store.unit_of_work() as uow:
        placeholder = uow.teams.get(11).github_team_name
    assert placeholder.endswith("~11") and len(placeholder) == 200


# ---- commands: text that no field can store ------------------------------------------------------


@pytest.mark.parametrize("value", ["Ada\x00Lovelace", "Ada\x1b[31m", "x" * 201])
def test_a_value_no_field_can_store_gets_a_reply_not_the_crash_reply(rocket, value):
    rocket.add_user("U0CALLER01")
    reply = rocket.command(f'user edit --name "{value}"')
    assert CRASH not in reply["text"]
    assert ("control character" in reply["text"]) or ("too long" in reply["text"])
    assert rocket.user("U0CALLER01").name == ""
    assert_no_crash(rocket)


def test_command_text_past_the_limit_is_answered_in_the_ack(rocket):
    body = command_body("user view " + "x" * 5000, rocket.slack.response_url_for("long"))
    response = rocket.post("/slack/commands", body, FORM)
    assert response.status_code == 200
    assert "too long" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("user_id", "not-a-user"), ("command", "rocket"), ("team_id", "t lower"), ("user_id", "")],
)
def test_a_command_whose_fields_are_not_slacks_is_a_400(rocket, field, value):
    body = command_body("help", rocket.slack.response_url_for("f"))
    form = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    form[field] = value
    raw = "&".join(f"{k}={quote(v, safe='%')}" for k, v in form.items()).encode()
    assert_refused(rocket.post("/slack/commands", raw, FORM), f"$.{field}", "not-a-user")


def test_a_command_containing_the_word_payload_reaches_its_handler(rocket):
    rocket.add_user("U0CALLER01", Permission.member)
    reply = rocket.command('user edit --bio "I read payloads"')
    assert CRASH not in reply["text"]
    assert rocket.user("U0CALLER01").biography == "I read payloads"


def test_url_verification_still_answers_its_challenge(rocket):
    challenge = uuid.uuid4().hex
    body = json.dumps({"type": "url_verification", "challenge": challenge, "token": "t"})
    response = events(rocket, body.encode())
    assert response.status_code == 200 and challenge in response.text
    missing = json.dumps({"type": "url_verification", "team_id": TEAM_ID}).encode()
    assert_refused(events(rocket, missing), "challenge")


# ---- instance markers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["Ev" + "漢" * 100, "x" * 300, "../../etc/passwd", ".hidden", "a/b"]
)
def test_marker_keys_from_outside_ids_are_bounded_file_names(key):
    from app.server import instance

    directory = instance.create_runtime_dir()
    try:
        assert instance.first_time("slack-events", key)
        assert not instance.first_time("slack-events", key)
        names = [p.name for p in (directory / "slack-events").iterdir()]
        assert len(names) == 1 and len(names[0].encode()) <= 100 and "/" not in names[0]
        assert not names[0].startswith(".")
        instance.forget("slack-events", key)
        assert instance.first_time("slack-events", key)
        assert instance.first_time("slack-events", key + "2"), "distinct ids stay distinct"
    finally:
        instance.remove_runtime_dir()


def test_the_bots_own_mention_is_acknowledged_and_not_handled(rocket):
    # Each worker knows the bot's ids once its background auth.test has answered.
    rocket.server.wait_for_output("slack: bot user is UBOT", count=2)
    ignored = "slack event app_mention from the bot itself ignored"
    before = len(rocket.server.lines(ignored))
    own = {"type": "app_mention", "user": "UBOT", "channel": "C0001", "text": "<@UBOT> help"}
    response = rocket.event(f"Ev{uuid.uuid4().hex[:12]}", own)
    assert (response.status_code, response.text) == (200, "")
    # Decided in the request thread, before the ack: it was never handed to the executor.
    rocket.server.wait_for_output(ignored, count=before + 1)
    assert rocket.slack.bodies("/api/chat.postEphemeral") == []
