"""Review of issue 11: reproductions through a real Gunicorn with the fake Slack and GitHub."""

from __future__ import annotations

import uuid

from app.store import Permission
from tests.security.test_security_roles import (
    ADMIN,
    SETTINGS,
    hook_body,
    linked,
    org_with_core,
    refreshed,
)
from tests.support import rocket as rocket_support
from tests.support.rocket import Rocket
from tests.support.webhooks import json_body, org_event

rocket_module = rocket_support.rocket_module_with(**SETTINGS)
rocket = rocket_support.rocket

BOB = "U0BOB00001"


def test_a_replayed_member_added_body_invites_nobody_back(rocket: Rocket) -> None:
    """An old signed `member_added` under a fresh delivery id, after the member left: GitHub
    is asked first, so nobody is put back in the default team (which would invite them)."""
    ids = org_with_core(rocket)
    refreshed(rocket)
    old = json_body(org_event("member_added", "bob", ids["bob"]))
    gh = rocket.github
    gh.org_members.pop("bob")  # bob leaves (or is removed from) the organisation
    for team in gh.teams.values():
        team.members.pop("bob", None)
    replay = hook_body(rocket, "organization", old, str(uuid.uuid4()))
    assert replay.status_code == 200 and replay.json()["status"] == "processed", replay.text
    assert "bob" not in gh.invitations and "bob" not in gh.team_logins("all")


def test_team_add_by_a_stale_login_adds_nobody_else(rocket: Rocket) -> None:
    """Bob is linked with proof; he renames his GitHub account and someone else takes "bob".
    A lead then adds Bob to a team before the next refresh."""
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    gh = rocket.github
    with gh.lock:
        gh.users["bobby"] = {"id": ids["bob"], "login": "bobby"}
        gh.org_members["bobby"] = gh.org_members.pop("bob")
        for team in gh.teams.values():
            if "bob" in team.members:
                team.members["bobby"] = team.members.pop("bob")
        gh.users["bob"] = {"id": 99999, "login": "bob"}  # a stranger takes the login
    reply = rocket.command("team add design @" + BOB, ADMIN)
    assert "bob" not in gh.team_logins("design"), reply
    assert "bob" not in gh.invitations, reply
    assert "bobby" in gh.team_logins("design")  # the account linked with proof, by its id


def test_team_create_with_a_stale_lead_login_makes_nobody_else_maintainer(rocket: Rocket) -> None:
    """The same rename, then Bob runs `team create`: GitHub's login for Bob's id leads it."""
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    gh = rocket.github
    with gh.lock:
        gh.users["bobby"] = {"id": ids["bob"], "login": "bobby"}
        gh.org_members["bobby"] = gh.org_members.pop("bob")
        gh.users["bob"] = {"id": 99999, "login": "bob"}  # a stranger takes the login
    with rocket.store.unit_of_work() as uow:
        uow.users.set_permission(BOB, Permission.team_lead)
    reply = rocket.command("team create rockets", BOB)  # Bob leads it
    assert gh.team("rockets") is not None, reply
    assert "bob" not in gh.team_logins("rockets", role="maintainer"), reply
    assert "bobby" in gh.team_logins("rockets", role="maintainer"), reply
    assert "bob" not in gh.invitations
