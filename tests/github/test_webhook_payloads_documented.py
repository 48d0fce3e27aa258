"""Webhook deliveries as GitHub describes them: every delivery the GitHub stand-in sends, the
deliveries the tests build (tests/support/webhooks.py) and GitHub's own examples, held to the
webhook schemas of GitHub's REST description (tests/data/openapi/github-webhooks.json, cut by
scripts/cut-openapi.py from the same file as github.json), and each decoded by
app.github.payloads into the Struct its handler takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.github import payloads
from tests.support import fake_github as fake_support
from tests.support.contract import Description
from tests.support.teams import client, teams_config
from tests.support.webhooks import membership_event, org_event, team_obj

fake_github = fake_support.fake_github

DATA = Path(__file__).parents[1] / "data"
WEBHOOKS = Description("github-webhooks", DATA / "openapi" / "github-webhooks.json")
HANDLED = {
    "organization": ("member_added", "member_removed", "member_invited"),
    "team": ("created", "edited", "deleted"),
    "membership": ("added", "removed"),
}


def problems(event: str, payload: dict[str, Any]) -> list[str]:
    """Why ``payload`` is not an ``event`` delivery as GitHub describes it (none when it is)."""
    action = str(payload.get("action")).replace("_", "-")
    pointer = f"/components/schemas/webhook-{event}-{action}"
    found = [
        f"{event} {payload.get('action')}: {error}" for error in WEBHOOKS.errors(pointer, payload)
    ]
    payloads.decode(event, payload)  # and Rocket 2 reads it (Malformed otherwise)
    return found


def test_every_handled_delivery_has_its_schema_in_the_cut():
    schemas = WEBHOOKS.document["components"]["schemas"]
    for event, actions in HANDLED.items():
        for action in actions:
            assert f"webhook-{event}-{action.replace('_', '-')}" in schemas, (event, action)


@pytest.mark.parametrize(
    "name",
    [
        "organization.member_added",
        "organization.member_invited",
        "team.created",
        "team.edited",
        "team.deleted",
        "membership.added",
        "membership.removed",
        "membership.removed.with-deleted-team",
    ],
)
def test_githubs_examples_are_as_described(name):
    payload = json.loads((DATA / "payloads" / "github" / f"{name}.json").read_text())
    assert problems(name.split(".")[0], payload) == []


def test_every_delivery_the_stand_in_sends_is_as_github_describes_it(fake_github, env):
    sent: list[tuple[str, dict[str, Any]]] = []
    fake_github.events = lambda event, payload: sent.append((event, payload))
    fake_github.seed_small_org()
    fake_github.add_user("heidi")
    fake_github.invite("heidi")
    fake_github.accept_invitation("heidi")
    github = client(teams_config(env))
    github.add_team_member("admins", "heidi")
    github.remove_team_member("admins", "heidi")
    github.rename_team("admins", "admins-renamed")
    github.delete_team("admins-renamed")
    fake_github.remove_org_member("heidi")
    kinds = {(event, payload["action"]) for event, payload in sent}
    assert kinds == {(e, a) for e, actions in HANDLED.items() for a in actions}, kinds
    found = [p for event, payload in sent for p in problems(event, payload)]
    assert found == [], found[:5]


def test_the_deliveries_the_tests_build_are_as_github_describes_them(fake_github):
    ids = fake_github.seed_small_org()
    backend = team_obj(fake_github, "backend")
    built = [
        ("organization", org_event("member_added", "alice", ids["alice"])),
        ("organization", org_event("member_removed", "alice", ids["alice"])),
        ("membership", membership_event("added", backend, "bob", ids["bob"])),
        ("membership", membership_event("removed", backend, "bob", ids["bob"])),
    ]
    found = [p for event, payload in built for p in problems(event, payload)]
    assert found == [], found[:5]
