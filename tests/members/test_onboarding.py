"""Onboarding through a real Gunicorn on both databases: Slack's team_join creates the member
only if absent (never overwriting), sends the welcome DM, and each event id is processed once —
on retries to the same instance and across two instances sharing the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.gunicorn import GunicornServer, wait_until

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

NEWCOMER = "U0NEWBIE0001"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def join(slack_id=NEWCOMER, name="Ada Lovelace", is_bot=False):
    return {
        "type": "team_join",
        "user": {
            "id": slack_id,
            "name": "ada",
            "real_name": name,
            "is_bot": is_bot,
            "profile": {
                "real_name": name,
                "email": "ada@example.org",
                "image_192": "https://avatars.example.org/ada.png",
            },
        },
    }


def dms(rocket, channel=NEWCOMER):
    return [b for b in rocket.slack.bodies("/api/chat.postMessage") if b["channel"] == channel]


def processed(rocket, event_id):
    with rocket.store.unit_of_work() as uow:
        return uow.events.seen("slack", event_id)


def test_team_join_creates_the_member_and_sends_the_welcome(rocket):
    assert rocket.event("Ev-join-1", join()).status_code == 200
    wait_until(lambda: dms(rocket), what="the welcome DM")
    user = rocket.user(NEWCOMER)
    assert (user.name, user.email, user.permission, user.karma) == (
        "Ada Lovelace",
        "ada@example.org",
        Permission.member,
        1,
    )
    assert user.image_url == "https://avatars.example.org/ada.png"
    dm = dms(rocket)[0]
    assert "`/rocket user link`" in dm["text"]
    assert "--github" not in dm["text"]
    assert dm["blocks"][0]["type"] == "header"
    assert processed(rocket, "Ev-join-1")


def test_a_retry_is_processed_once(rocket):
    assert rocket.event("Ev-join-2", join()).status_code == 200
    wait_until(lambda: dms(rocket), what="the welcome DM")
    assert rocket.event("Ev-join-2", join(name="Changed"), **RETRY).status_code == 200
    rocket.server.wait_for_output("Ev-join-2 already received")
    assert rocket.event("Ev-join-3", join("U0SOMEONE002")).status_code == 200
    wait_until(lambda: dms(rocket, "U0SOMEONE002"), what="the second newcomer's DM")
    assert len(dms(rocket)) == 1
    assert rocket.user(NEWCOMER).name == "Ada Lovelace"


def test_an_existing_member_is_never_overwritten(rocket):
    rocket.add_user(NEWCOMER, Permission.admin, name="Keep Me", karma=0, github_id=9)
    assert rocket.event("Ev-join-4", join(name="Someone Else")).status_code == 200
    wait_until(lambda: dms(rocket), what="the welcome DM")
    user = rocket.user(NEWCOMER)
    assert (user.name, user.permission, user.karma, user.github_id, user.email) == (
        "Keep Me",
        Permission.admin,
        0,
        9,
        "",
    )


def test_bots_get_no_record_and_no_dm(rocket):
    assert rocket.event("Ev-join-5", join("U0BOTBOT0001", is_bot=True)).status_code == 200
    rocket.server.wait_for_output("U0BOTBOT0001 is a bot")
    assert rocket.user("U0BOTBOT0001") is None
    assert dms(rocket, "U0BOTBOT0001") == []


def test_the_dm_opens_a_conversation_when_slack_wants_one(rocket):
    rocket.slack.reject_user_channels = True
    assert rocket.event("Ev-join-6", join()).status_code == 200
    opened = rocket.slack.wait_for("/api/conversations.open")
    assert opened[0]["users"] == NEWCOMER
    wait_until(lambda: dms(rocket, "D" + NEWCOMER[1:]), what="the DM in the opened channel")


def test_a_failed_delivery_is_handled_on_slacks_retry(rocket):
    """The instance marker and the store claim agree: a delivery whose handling failed is
    neither marked nor claimed, so Slack's retry is handled."""
    with rocket.store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE users RENAME TO users_away"))
    try:
        assert rocket.event("Ev-join-7", join()).status_code == 200
        rocket.server.wait_for_output("handling slack event team_join Ev-join-7 failed")
    finally:
        with rocket.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE users_away RENAME TO users"))
    assert not processed(rocket, "Ev-join-7")
    assert rocket.event("Ev-join-7", join(), **RETRY).status_code == 200
    wait_until(lambda: dms(rocket), what="the welcome DM after the retry")
    assert rocket.user(NEWCOMER) is not None and processed(rocket, "Ev-join-7")


@pytest.fixture(scope="module")
def second_instance(rocket_module, tmp_path_factory) -> Iterator[GunicornServer]:
    """Another Rocket 2 instance on the same database and fakes."""
    directory = tmp_path_factory.mktemp("second")
    server = rocket_support.second_instance_of(rocket_module, directory)
    yield server
    server.stop()


def test_one_event_at_two_instances_is_processed_once(rocket, second_instance):
    import httpx

    from tests.support.slack import event_body, signed_headers

    body = event_body("Ev-join-8", join())
    headers = signed_headers(
        rocket.env["SLACK_SIGNING_SECRET"], body, content_type="application/json"
    )
    for url in (rocket.server.url, second_instance.url):
        assert httpx.post(url + "/slack/events", content=body, headers=headers).status_code == 200
    wait_until(lambda: dms(rocket), what="the welcome DM")
    wait_until(
        lambda: "Ev-join-8 already processed" in rocket.server.output() + second_instance.output(),
        what="the other instance to skip the event",
    )
    assert len(dms(rocket)) == 1
