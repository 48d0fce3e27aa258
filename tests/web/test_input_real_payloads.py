"""Real payloads, through a real Gunicorn on both databases: GitHub's published webhook examples
(octokit/webhooks) and Slack's SDK fixtures and documented examples (tests/data/payloads, with
SOURCES.md saying where each comes from). Each is sent, sent again with the same delivery or
event id, and sent under a fresh id: every answer is a 2xx, the store ends as the event means,
and the redelivery changes nothing. Events Rocket 2 does not handle get 200 and change nothing.

The files are the published bytes; the few values that must fit this test setup (the Slack
workspace, the ids the fakes know, a unique event id) are replaced here, in the test.
"""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from sqlalchemy import text

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.gunicorn import wait_until
from tests.support.rocket import FORM, Rocket
from tests.support.slack import TEAM_ID
from tests.support.teams import github_writes
from tests.support.webhooks import post_signed

PAYLOADS = Path(__file__).parents[1] / "data" / "payloads"
# Every GitHub example is a delivery to the organisation "Octocoders": the server is run for
# that organisation, so the organisation login needs no replacing.
EXAMPLE_ORG = "Octocoders"
HOOK = "/webhook"  # GITHUB_WEBHOOK_ENDPT's default

rocket_module = rocket_support.rocket_module_with(
    GITHUB_ORG_NAME=EXAMPLE_ORG, GITHUB_DEFAULT_TEAM_NAME="all"
)
rocket = rocket_support.rocket

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
_ids = itertools.count(1)


# ---- the published bodies ----------------------------------------------------------------


def raw(kind: str, name: str) -> bytes:
    """The stored bytes of a published payload."""
    return (PAYLOADS / kind / name).read_bytes()


def example(kind: str, name: str) -> dict[str, Any]:
    """A published JSON payload, parsed."""
    loaded: dict[str, Any] = json.loads(raw(kind, name))
    return loaded


def replaced(payload: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A copy of ``payload`` with values set at dotted paths (``event__user__id`` →
    ``event.user.id``; a number indexes a list)."""
    out = copy.deepcopy(payload)
    for path, value in values.items():
        *parents, last = path.split("__")
        node: Any = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return out


def event_id() -> str:
    """A fresh Slack event id (markers of earlier tests live as long as the server)."""
    return f"Ev0REAL{next(_ids):05d}{uuid.uuid4().hex[:6].upper()}"


# ---- what the store holds ----------------------------------------------------------------


def store_state(rocket: Rocket) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an event can change, except the delivery claims."""
    tables = ("users", "teams", "team_members", "team_leads")
    with rocket.store.session() as session:
        return {
            table: sorted(
                (tuple(row) for row in session.execute(text(f"SELECT * FROM {table}"))),  # noqa: S608 - fixed names
                key=repr,
            )
            for table in tables
        }


def claims(rocket: Rocket) -> int:
    with rocket.store.session() as session:
        return int(session.execute(text("SELECT COUNT(*) FROM processed_events")).scalar_one())


def teams(rocket: Rocket) -> dict[int, tuple[str, str | None, frozenset[int]]]:
    """GitHub team id → (name, slug, members) of every local team."""
    with rocket.store.unit_of_work() as uow:
        return {
            t.github_team_id: (t.github_team_name, t.slug, t.members) for t in uow.teams.list_all()
        }


# ---- GitHub ------------------------------------------------------------------------------


def deliver(rocket: Rocket, event: str, body: bytes, delivery: str) -> httpx.Response:
    return post_signed(
        rocket.server.url + HOOK, rocket.env["GITHUB_WEBHOOK_SECRET"], event, body, delivery
    )


def three_times(
    rocket: Rocket, event: str, body: bytes, expected: int = 200
) -> list[httpx.Response]:
    """Send ``body`` once, again under the same delivery id, and under a fresh one; check the
    same-id redelivery is a duplicate that changes nothing, in the store and on GitHub.
    Returns the three answers; the caller checks what the first and the fresh one did."""
    delivery = str(uuid.uuid4())
    first = deliver(rocket, event, body, delivery)
    assert first.status_code == expected, first.text
    state, writes, claimed = store_state(rocket), github_writes(rocket.github), claims(rocket)
    again = deliver(rocket, event, body, delivery)
    assert again.status_code in (200, expected), again.text
    if expected == 200 and event != "ping":
        assert again.json()["status"] == "duplicate"
    assert store_state(rocket) == state
    assert github_writes(rocket.github) == writes
    assert claims(rocket) == claimed
    fresh = deliver(rocket, event, body, str(uuid.uuid4()))
    assert fresh.status_code == expected, fresh.text
    return [first, again, fresh]


def test_ping_examples_get_pong_and_change_nothing(rocket):
    for name in ("ping.json", "ping.with-app_id.json", "ping.with-organization.json"):
        answers = three_times(rocket, "ping", raw("github", name))
        assert [a.json()["status"] for a in answers] == ["pong"] * 3, name
    assert store_state(rocket) == {"users": [], "teams": [], "team_members": [], "team_leads": []}
    assert claims(rocket) == 0 and github_writes(rocket.github) == 0


def test_team_created_edited_deleted_examples(rocket):
    created = example("github", "team.created.json")["team"]
    team_id = created["id"]
    first, _again, fresh = three_times(rocket, "team", raw("github", "team.created.json"))
    assert first.json()["status"] == "processed" and fresh.json()["status"] == "processed"
    assert teams(rocket) == {team_id: (created["name"], created["slug"], frozenset())}

    # GitHub's edited example carries the team as it is now: a stale local name is renamed.
    with rocket.store.unit_of_work() as uow:
        uow.teams.update(team_id, github_team_name="old-name", slug="old-name")
    edited = example("github", "team.edited.json")["team"]
    three_times(rocket, "team", raw("github", "team.edited.json"))
    assert teams(rocket) == {team_id: (edited["name"], edited["slug"], frozenset())}

    # The deleted example removes it; the fresh delivery finds nothing to delete (still 200).
    three_times(rocket, "team", raw("github", "team.deleted.json"))
    assert teams(rocket) == {}
    assert github_writes(rocket.github) == 0  # team events never call GitHub


def test_team_action_not_handled_is_202(rocket):
    answers = three_times(rocket, "team", raw("github", "team.added_to_repository.json"), 202)
    assert {a.json()["status"] for a in answers} == {"ignored"}
    assert teams(rocket) == {} and claims(rocket) == 0


def test_membership_added_example_records_the_member(rocket):
    name = "membership.added.json"
    payload = example("github", name)
    member, team = payload["member"], payload["team"]
    first, _again, fresh = three_times(rocket, "membership", raw("github", name))
    assert first.json()["status"] == "processed" and fresh.json()["status"] == "processed"
    assert teams(rocket) == {team["id"]: (team["name"], team["slug"], frozenset({member["id"]}))}
    assert github_writes(rocket.github) == 0


@pytest.mark.parametrize(
    "name",
    ["membership.removed.json", "membership.removed.with-installation.json"],
    ids=["removed", "removed-with-installation"],
)
def test_membership_removed_examples_drop_the_member(rocket, name):
    payload = example("github", name)
    member, team = payload["member"], payload["team"]
    with rocket.store.unit_of_work() as uow:
        uow.teams.create(team["id"], team["name"], slug=team["slug"])
        uow.teams.add_member(team["id"], member["id"])
        uow.teams.add_member(team["id"], 777)  # someone else stays
    three_times(rocket, "membership", raw("github", name))
    assert teams(rocket) == {team["id"]: (team["name"], team["slug"], frozenset({777}))}


def test_membership_removed_from_a_deleted_team_example(rocket):
    name = "membership.removed.with-deleted-team.json"
    team = example("github", name)["team"]
    with rocket.store.unit_of_work() as uow:
        uow.teams.create(team["id"], team["name"], slug="github")
    three_times(rocket, "membership", raw("github", name))
    assert teams(rocket) == {}


@pytest.mark.parametrize(
    "name",
    ["organization.member_added.json", "organization.member_added.with-installation.json"],
    ids=["member_added", "member_added-with-installation"],
)
def test_member_added_example_joins_the_default_team(rocket, name):
    user = example("github", name)["membership"]["user"]
    fake = rocket.github
    fake.add_user(user["login"], user["id"])
    fake.add_org_member(user["login"])  # GitHub says so when asked
    first, _again, fresh = three_times(rocket, "organization", raw("github", name))
    assert first.json()["status"] == "processed" and fresh.json()["status"] == "processed"
    default = fake.team("all")
    assert default is not None and fake.team_logins("all") == {user["login"]}
    assert teams(rocket) == {default.id: ("all", "all", frozenset({user["id"]}))}


def test_member_added_example_while_still_pending_adds_nobody(rocket):
    """The example's membership is "pending": if GitHub still says so, nobody is added."""
    name = "organization.member_added.json"
    user = example("github", name)["membership"]["user"]
    rocket.github.add_user(user["login"], user["id"])
    rocket.github.invitations[user["login"].lower()] = "member"  # invited, not yet accepted
    three_times(rocket, "organization", raw("github", name))
    assert teams(rocket) == {} and github_writes(rocket.github) == 0
    # GitHub was asked on the first and the fresh delivery, not on the duplicate.
    asked = rocket.github.count("GET", rf"/orgs/{EXAMPLE_ORG}/memberships/{user['login']}")
    assert asked == 2


def test_member_removed_example_deletes_the_record(rocket):
    name = "organization.member_removed.ghes-35.json"
    user = example("github", name)["membership"]["user"]
    rocket.add_user("U0HACKTOCAT", github_id=user["id"], github_username=user["login"])
    rocket.add_user("U0STAYS0001", github_id=4242, github_username="stays")
    with rocket.store.unit_of_work() as uow:
        uow.teams.create(99, "all", slug="all")
        uow.teams.add_member(99, user["id"])
        uow.teams.add_lead(99, user["id"])
    first, _again, fresh = three_times(rocket, "organization", raw("github", name))
    assert first.json()["status"] == "processed" and fresh.json()["status"] == "processed"
    assert rocket.user("U0HACKTOCAT") is None and rocket.user("U0STAYS0001") is not None
    assert teams(rocket) == {99: ("all", "all", frozenset())}
    assert github_writes(rocket.github) == 0


def test_member_invited_example_is_logged_only(rocket):
    name = "organization.member_invited.json"
    login = example("github", name)["user"]["login"]
    answers = three_times(rocket, "organization", raw("github", name))
    assert [a.json()["status"] for a in answers] == ["processed", "duplicate", "processed"]
    rocket.server.wait_for_output(f"{login} invited to {EXAMPLE_ORG}")
    assert teams(rocket) == {} and github_writes(rocket.github) == 0


# ---- Slack -------------------------------------------------------------------------------


def post_event(rocket: Rocket, payload: dict[str, Any], **headers: str) -> httpx.Response:
    return rocket.post("/slack/events", json.dumps(payload).encode(), "application/json", **headers)


def dms(rocket: Rocket, channel: str) -> list[dict[str, Any]]:
    return [b for b in rocket.slack.bodies("/api/chat.postMessage") if b["channel"] == channel]


def ephemerals(rocket: Rocket) -> list[dict[str, Any]]:
    return rocket.slack.bodies("/api/chat.postEphemeral")


def slack_calls(rocket: Rocket) -> int:
    return sum(
        len(rocket.slack.requests(f"/api/{m}"))
        for m in ("chat.postMessage", "chat.postEphemeral", "conversations.open")
    )


def test_url_verification_fixture_gets_its_challenge(rocket):
    payload = example("slack", "url_verification.bolt-python.json")
    for _ in range(2):  # Slack may verify again: same answer, nothing stored
        answer = post_event(rocket, payload)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"challenge": payload["challenge"]}
    assert claims(rocket) == 0 and slack_calls(rocket) == 0


def team_join_from_docs(newcomer: str, eid: str) -> dict[str, Any]:
    """Slack's documented team_join envelope (api.slack.com/events/team_join, which shows the
    user as "…") around Slack's documented user object (users.info's example)."""
    user = example("slack", "users.info.slack-api-specs.json")["user"]
    return {
        "token": "XXYYZZ",
        "team_id": TEAM_ID,
        "api_app_id": "A123ABC456",
        "event": {"type": "team_join", "user": replaced(user, id=newcomer, team_id=TEAM_ID)},
        "type": "event_callback",
        "authed_users": ["U123ABC456", "U222222222"],
        "event_id": eid,
        "event_time": 123456789,
    }


def team_join_from_java_sdk(newcomer: str, eid: str) -> dict[str, Any]:
    """The Java SDK's sample team_join (every field Slack sends, values blanked), with the
    blanks Rocket 2 reads filled in for this workspace."""
    return replaced(
        example("slack", "team_join.java-slack-sdk.json"),
        type="event_callback",
        team_id=TEAM_ID,
        event_id=eid,
        event__user__id=newcomer,
        event__user__team_id=TEAM_ID,
        event__user__real_name="Egon Spengler",
    )


@pytest.mark.parametrize(
    "build", [team_join_from_docs, team_join_from_java_sdk], ids=["docs", "java-sdk"]
)
def test_team_join_records_the_newcomer_and_welcomes_once(rocket, build):
    newcomer = "W012A3CDE"
    eid = event_id()
    payload = build(newcomer, eid)
    assert post_event(rocket, payload).status_code == 200
    wait_until(lambda: dms(rocket, newcomer), what="the welcome DM")
    user = rocket.user(newcomer)
    assert user is not None and user.permission is Permission.member
    assert user.name == "Egon Spengler"
    state, claimed = store_state(rocket), claims(rocket)

    # Slack's retry of the same event: acknowledged, nothing changes, no second welcome.
    assert post_event(rocket, payload, **RETRY).status_code == 200
    rocket.server.wait_for_output(f"{eid} already received")
    assert store_state(rocket) == state and claims(rocket) == claimed
    assert len(dms(rocket, newcomer)) == 1

    # The same member under a fresh event id: the record is kept as it is.
    again = event_id()
    assert post_event(rocket, replaced(payload, event_id=again)).status_code == 200
    rocket.server.wait_for_output(f"team_join {again}: {newcomer} already recorded")
    assert store_state(rocket) == state
    # A new delivery is welcomed again; wait for that DM so it cannot land in the next test.
    wait_until(lambda: len(dms(rocket, newcomer)) == 2, what="the second welcome DM")


@pytest.mark.parametrize(
    "name", ["app_mention.bolt-python.json", "app_mention.java-slack-sdk.json"]
)
def test_app_mention_is_answered_once_per_event(rocket, name):
    payload = example("slack", name)
    eid = event_id()
    fit = {"team_id": TEAM_ID, "event_id": eid, "event__team": TEAM_ID}
    if name.startswith("app_mention.java"):  # the sample's blanks that Rocket 2 reads
        fit |= {
            "type": "event_callback",
            "event__user": "U0CALLER01",
            "event__channel": "C0001",
            "event__user_team": TEAM_ID,
            "event__source_team": TEAM_ID,
            "event__text": "<@U0ROCKET01> help",
        }
    payload = replaced(payload, **fit)
    assert post_event(rocket, payload).status_code == 200
    replies = rocket.slack.wait_for("/api/chat.postEphemeral")
    assert replies[0]["channel"] == payload["event"]["channel"]
    assert replies[0]["user"] == payload["event"]["user"]
    state = store_state(rocket)

    assert post_event(rocket, payload, **RETRY).status_code == 200
    rocket.server.wait_for_output(f"{eid} already received")
    assert len(ephemerals(rocket)) == 1 and store_state(rocket) == state

    assert post_event(rocket, replaced(payload, event_id=event_id())).status_code == 200
    rocket.slack.wait_for("/api/chat.postEphemeral", 2)
    assert store_state(rocket) == state


def command_form(rocket: Rocket, path: str) -> bytes:
    """bolt-python's slash command body, for this workspace, command and response_url."""
    fields = dict(parse_qsl(raw("slack", "command.bolt-python.txt").decode()))
    fields.update(
        team_id=TEAM_ID, command="/rocket", response_url=rocket.slack.response_url_for(path)
    )
    return urlencode(fields).encode()


def test_slash_command_fixture_is_answered_and_stores_nothing(rocket):
    body = command_form(rocket, "fixture")
    for count in (1, 2):  # the same body again (same trigger_id): answered again, no change
        answer = rocket.post("/slack/commands", body, FORM)
        assert answer.status_code == 200, answer.text
        replies = rocket.slack.wait_for("/respond/fixture", count)
        assert replies[-1]["response_type"] == "ephemeral"
        assert "Hi" in replies[-1]["text"]  # the fixture's text, named in the usage reply
    assert store_state(rocket) == {"users": [], "teams": [], "team_members": [], "team_leads": []}
    assert claims(rocket) == 0


@pytest.mark.parametrize(
    "name", ["reaction_added.bolt-python.json", "message_file_share.bolt-python.json"]
)
def test_events_not_handled_get_200_and_change_nothing(rocket, name):
    payload = example("slack", name)
    for headers in ({}, RETRY):
        answer = post_event(rocket, payload, **headers)
        assert answer.status_code == 200 and answer.text == ""
    assert post_event(rocket, replaced(payload, event_id=event_id())).status_code == 200
    assert slack_calls(rocket) == 0 and claims(rocket) == 0
    assert store_state(rocket) == {"users": [], "teams": [], "team_members": [], "team_leads": []}


def test_block_actions_fixture_gets_200_and_changes_nothing(rocket):
    payload = example("slack", "block_actions.bolt-python.json")
    body = f"payload={quote(json.dumps(payload))}".encode()  # as Slack posts interactions
    for _ in range(2):
        answer = rocket.post("/slack/events", body, FORM)
        assert answer.status_code == 200 and answer.text == ""
    assert slack_calls(rocket) == 0 and claims(rocket) == 0
    assert store_state(rocket) == {"users": [], "teams": [], "team_members": [], "team_leads": []}
