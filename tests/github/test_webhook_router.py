"""The webhook Router (app.github.webhooks) and the typed decoding of deliveries
(app.github.payloads), on GitHub's own payload examples (tests/data/payloads/github)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app import features
from app.github.payloads import (
    DeletedTeam,
    Envelope,
    Malformed,
    MemberChange,
    MemberInvited,
    MembershipChange,
    Team,
    TeamChange,
    decode,
)
from app.github.webhooks import DeliveryOutcome, Router

EXAMPLES = Path(__file__).parents[1] / "data" / "payloads" / "github"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("organization.member_added", MemberChange),
        ("organization.member_removed.ghes-35", MemberChange),
        ("organization.member_invited", MemberInvited),
        ("team.created", TeamChange),
        ("team.edited", TeamChange),
        ("team.deleted", TeamChange),
        ("team.added_to_repository", Envelope),
        ("membership.added", MembershipChange),
        ("membership.removed", MembershipChange),
        ("ping", Envelope),
    ],
)
def test_each_example_decodes_to_the_struct_for_its_action(name, shape):
    decoded = decode(name.split(".")[0], example(name))
    assert type(decoded) is shape
    assert decoded.org_login() in (None, "Octocoders")


def test_the_decoded_values_are_the_payloads():
    added = decode("organization", example("organization.member_added"))
    assert isinstance(added, MemberChange)
    assert (added.user.id, added.user.login) == (39652351, "hacktocat")
    invited = decode("organization", example("organization.member_invited"))
    assert isinstance(invited, MemberInvited) and invited.invitee() == "hacktocat"
    membership = decode("membership", example("membership.added"))
    assert isinstance(membership, MembershipChange) and membership.scope == "team"
    assert membership.member is not None and membership.member.login == "Codertocat"
    assert membership.team == Team(id=3253328, name="github", slug="github")
    gone = decode("membership", example("membership.removed.with-deleted-team"))
    assert isinstance(gone, MembershipChange) and gone.team == DeletedTeam(id=3253328)


def test_a_malformed_delivery_names_the_field_never_the_value():
    payload = example("membership.added")
    payload["team"]["name"] = "\x01secret-name"
    with pytest.raises(Malformed) as raised:
        decode("membership", payload)
    assert "$.team.name" in str(raised.value) and "secret" not in str(raised.value)
    with pytest.raises(Malformed, match="missing required field `membership`"):
        decode("organization", {"action": "member_added"})
    with pytest.raises(Malformed, match=r"`\$\.action`"):
        decode("push", {"action": 7})


def handler(label: str):
    def handle(context: list[str], event: Envelope, delivery: str) -> DeliveryOutcome:
        context.append(f"{label} {event.action} {delivery}")
        return DeliveryOutcome.PROCESSED

    return handle


def test_the_router_runs_the_action_handler_else_the_events_any_action_one():
    router: Router[list[str]] = Router()
    router.register("team", action="created")(handler("created"))
    router.register("team")(handler("any"))
    router.register("organization", action="member_added")(handler("added"))
    seen: list[str] = []
    for event, action in [("team", "created"), ("team", "edited"), ("organization", "x")]:
        outcome = router.dispatch(seen, event, Envelope(action=action), "d1")
        assert outcome is (DeliveryOutcome.IGNORED if action == "x" else DeliveryOutcome.PROCESSED)
    assert seen == ["created created d1", "any edited d1"]
    assert router.events == {"team", "organization"}
    assert router.handles("team") and not router.handles("push")


def test_routers_combine_and_refuse_two_handlers_for_one_action():
    one: Router[list[str]] = Router()
    two: Router[list[str]] = Router()
    one.register("team", action="created")(handler("one"))
    two.register("membership")(handler("two"))
    both = Router(one, two)
    assert both.events == {"team", "membership"}
    with pytest.raises(ValueError, match="two handlers for GitHub team created"):
        Router(one, one)
    with pytest.raises(ValueError, match="any action"):
        two.register("membership")(handler("again"))


def test_the_apps_router_handles_the_mirrored_events_and_their_actions():
    router = features.webhook_router()
    assert router.events == {"organization", "team", "membership"}
    for event, action in [
        ("organization", "member_added"),
        ("organization", "member_removed"),
        ("organization", "member_invited"),
        ("team", "created"),
        ("team", "edited"),
        ("team", "deleted"),
        ("membership", "added"),
        ("membership", "removed"),
    ]:
        assert router.handler_for(event, action) is not None, (event, action)
    assert router.handler_for("team", "added_to_repository") is None
