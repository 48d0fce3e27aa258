"""Issue 11, findings 1 (second half), 2 and 5, reproduced through a real Gunicorn with the fake
Slack and the fake GitHub (SQLite and PostgreSQL): no role or lead power from a GitHub link that
was not proven, special teams pinned by GitHub team id, webhooks as hints that GitHub confirms,
GUID delivery ids, and the pins in /healthz, `rocket2 db check` and `rocket2 teams repin`."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.store import Permission
from app.teams.mirror import apply_roles, pin_status
from config import Config, load_config
from tests.support import rocket as rocket_support
from tests.support.gunicorn import server_env
from tests.support.rocket import Rocket, assert_refused
from tests.support.teams import snapshot
from tests.support.webhooks import (
    ORG,
    json_body,
    membership_event,
    org_event,
    post_signed,
    team_obj,
)

HOOK = "/github/hook"

SETTINGS = {
    "GITHUB_ADMIN_TEAM_NAME": "core",
    "GITHUB_LEADS_TEAM_NAME": "leads",
    "GITHUB_DEFAULT_TEAM_NAME": "all",
    "GITHUB_WEBHOOK_ENDPT": HOOK,
}
ADMIN = "U0ADMIN001"  # an admin by hand (`rocket2 user promote`), no GitHub account
MALLORY = "U0MALLORY1"  # typed alice's login: linked WITHOUT proof
ALICE = "U0ALICE001"  # alice herself, linked with proof
BOB = "U0BOB00001"
DAVE = "U0DAVE0001"


rocket_module = rocket_support.rocket_module_with(**SETTINGS)  # admin team "core"
rocket = rocket_support.rocket


# ---- helpers ---------------------------------------------------------------------------------


def hook(rocket: Rocket, event: str, payload: dict[str, Any], delivery: str = "") -> httpx.Response:
    """Deliver one webhook body signed with the webhook secret, as GitHub does."""
    return hook_body(rocket, event, json_body(payload), delivery or str(uuid.uuid4()))


def hook_body(rocket: Rocket, event: str, body: bytes, delivery: str) -> httpx.Response:
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    return post_signed(rocket.server.url + HOOK, secret, event, body, delivery)


def team_json(rocket: Rocket, name: str) -> dict[str, Any]:
    return team_obj(rocket.github, name)


def member_removed(login: str, user_id: int) -> dict[str, Any]:
    return org_event("member_removed", login, user_id)


def linked(rocket: Rocket, slack_id: str, login: str, ids: dict[str, int], *, proven: bool) -> None:
    rocket.add_user(slack_id, github_username=login, github_id=ids[login], github_verified=proven)


def permission(rocket: Rocket, slack_id: str) -> Permission:
    user = rocket.user(slack_id)
    assert user is not None
    return user.permission  # type: ignore[no-any-return]


def refreshed(rocket: Rocket) -> str:
    reply = rocket.command("team refresh", ADMIN)
    assert reply["text"].startswith("Mirrored"), reply
    return " ".join(b["text"]["text"] for b in reply["blocks"] if "text" in b)


def config_of(rocket: Rocket) -> Config:
    """The server's configuration, loaded from its environment."""
    return load_config(environ=rocket.env)


def healthz(rocket: Rocket) -> dict[str, str]:
    special: dict[str, str] = httpx.get(rocket.server.url + "/healthz").json()["special_teams"]
    return special


def org_with_core(rocket: Rocket) -> dict[str, int]:
    """The small org (alice maintains backend, is in leads; dave in leads) plus the admin team
    `core` with alice; the hand-made admin record."""
    ids = rocket.github.seed_small_org()
    rocket.github.add_team("core", members=["alice"])
    rocket.add_user(ADMIN, Permission.admin)
    return ids


# ---- finding 1: a typed login gives no role and no lead powers ---------------------------------


def test_an_unproven_link_gets_no_lead_powers_and_no_role(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, MALLORY, "alice", ids, proven=False)  # maintains backend, in core and leads
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    assert permission(rocket, MALLORY) is Permission.member  # refresh promoted nobody

    reply = rocket.command(f"team remove backend <@{BOB}|bob>", MALLORY)
    assert_refused(reply, "Only admins and the leads of team `backend`")
    assert "bob" in rocket.github.team_logins("backend")  # GitHub was not asked to remove him

    # A delivery about the admin team (GitHub confirms alice is in it) promotes nobody either.
    payload = membership_event("added", team_json(rocket, "core"), "alice", ids["alice"])
    assert hook(rocket, "membership", payload).json()["status"] == "processed"
    assert permission(rocket, MALLORY) is Permission.member


def test_the_same_account_linked_with_proof_gets_its_role_and_lead_powers(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, ALICE, "alice", ids, proven=True)
    linked(rocket, BOB, "bob", ids, proven=True)
    assert "Promoted: U0ALICE001 → admin" in refreshed(rocket)
    assert permission(rocket, ALICE) is Permission.admin
    reply = rocket.command(f"team remove backend <@{BOB}|bob>", ALICE)
    assert "Removed <@U0BOB00001> from team *backend*" in reply["text"], reply
    assert "bob" not in rocket.github.team_logins("backend")


def test_apply_roles_promotes_a_just_verified_member_from_the_mirror(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, ALICE, "alice", ids, proven=False)
    linked(rocket, DAVE, "dave", ids, proven=False)
    refreshed(rocket)  # pins core and leads; promotes nobody (no proof yet)
    with rocket.store.unit_of_work() as uow:
        alice = uow.users.require(ALICE)
        assert apply_roles(uow, config_of(rocket), alice) is None  # not verified: nothing
        uow.users.update(ALICE, github_verified=True)
        uow.users.update(DAVE, github_verified=True)
        change = apply_roles(uow, config_of(rocket), uow.users.require(ALICE))
        assert change is not None and change.after is Permission.admin
        change = apply_roles(uow, config_of(rocket), uow.users.require(DAVE))
        assert change is not None and change.after is Permission.team_lead
        assert apply_roles(uow, config_of(rocket), uow.users.require(DAVE)) is None  # once


# ---- finding 2: special teams by id, never by name ----------------------------------------------


def test_a_missing_admin_team_promotes_nobody_and_its_name_is_for_admins(rocket: Rocket) -> None:
    ids = rocket.github.seed_small_org()  # no `core` team on GitHub
    rocket.add_user(ADMIN, Permission.admin)
    linked(rocket, DAVE, "dave", ids, proven=True)  # in leads → team_lead
    linked(rocket, ALICE, "alice", ids, proven=True)  # maintains backend
    assert healthz(rocket) == {"admin": "unresolved", "team_lead": "unresolved"}
    assert "admin → not found" in refreshed(rocket)
    assert healthz(rocket) == {"admin": "not found", "team_lead": "pinned"}
    assert permission(rocket, DAVE) is Permission.team_lead

    for name in ("core", "Core", "CORE"):  # as GitHub compares names and slugs
        reply = rocket.command(f"team create {name}", DAVE)
        assert_refused(reply, "Only admins can create the team")
    assert rocket.github.team("core") is None

    reply = rocket.command("team edit backend --github core", ALICE)
    assert_refused(reply, "Only admins can rename a team to `core`")
    assert rocket.github.team("backend") is not None and rocket.github.team("core") is None
    assert_refused(rocket.command(f"team add core <@{ALICE}>", ALICE), "There is no team `core`")

    # A `core` made on GitHub by a member (or anyone) later is not pinned by a refresh…
    rocket.github.add_team("core", maintainers=["alice"])
    refreshed(rocket)
    assert healthz(rocket)["admin"] == "not found"
    assert permission(rocket, ALICE) is Permission.team_lead  # (leads) — not admin
    # …and only an admin may add members to a team named like the admin team.
    assert_refused(rocket.command(f"team add core <@{ALICE}>", ALICE), "Only admins can add")
    assert_refused(rocket.command(f"team lead core <@{DAVE}>", ALICE), "Only admins can change")
    assert rocket.github.team_logins("core") == {"alice"}
    assert (
        permission(rocket, DAVE) is Permission.team_lead
        and permission(rocket, ALICE) is Permission.team_lead
    )


def test_repin_lets_the_next_refresh_resolve_the_name_again(rocket: Rocket, tmp_path: Path) -> None:
    ids = rocket.github.seed_small_org()
    rocket.add_user(ADMIN, Permission.admin)
    linked(rocket, ALICE, "alice", ids, proven=True)
    refreshed(rocket)
    rocket.github.add_team("core", members=["alice"])  # the admins create it on GitHub
    refreshed(rocket)
    assert healthz(rocket)["admin"] == "not found"

    check = rocket2(rocket, tmp_path, "db", "check")
    assert "special teams" in check.stdout and "admin: not found" in check.stdout, check.stdout
    repin = rocket2(rocket, tmp_path, "teams", "repin")
    assert repin.returncode == 0, repin.stderr
    assert "admin: forgot the pin of 'core'" in repin.stdout
    assert healthz(rocket) == {"admin": "unresolved", "team_lead": "unresolved"}

    assert "admin → core" in refreshed(rocket)
    assert permission(rocket, ALICE) is Permission.admin
    assert "admin: pinned, team_lead: pinned" in rocket2(rocket, tmp_path, "db", "check").stdout


def rocket2(rocket: Rocket, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `rocket2` operator command against the server's database."""
    repo = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=server_env(rocket.env, 5000, PYTHONPATH=repo),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_renamed_pinned_team_keeps_granting_and_its_old_name_grants_nothing(
    rocket: Rocket,
) -> None:
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    linked(rocket, DAVE, "dave", ids, proven=True)
    core_id = rocket.github.team("core").id  # type: ignore[union-attr]
    refreshed(rocket)
    assert healthz(rocket)["admin"] == "pinned"

    core = rocket.github.teams[core_id]
    core.name, core.slug = "Core Crew", "core-crew"  # renamed on GitHub
    edited = {"action": "edited", "team": team_json(rocket, "core-crew"), "organization": {}}
    assert hook(rocket, "team", edited).status_code == 200
    core.members["bob"] = "member"
    added = membership_event("added", team_json(rocket, "core-crew"), "bob", ids["bob"])
    assert hook(rocket, "membership", added).json()["status"] == "processed"
    assert permission(rocket, BOB) is Permission.admin  # the rename followed the id
    assert healthz(rocket)["admin"] == "pinned"

    # A new team under the old name is just a team: its members are not admins.
    rocket.github.add_team("core", members=["dave"])
    refreshed(rocket)
    assert permission(rocket, DAVE) is Permission.team_lead
    rocket.command(f"team add core <@{DAVE}>", ADMIN)  # an admin may
    assert permission(rocket, DAVE) is Permission.team_lead


# ---- finding 5: webhooks are hints, GitHub is the truth ------------------------------------------


def test_a_replayed_added_to_admin_team_body_changes_nothing(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    core = rocket.github.team("core")
    assert core is not None
    core.members["bob"] = "member"
    old = json.dumps(
        membership_event("added", team_json(rocket, "core"), "bob", ids["bob"])
    ).encode()
    assert hook_body(rocket, "membership", old, str(uuid.uuid4())).status_code == 200
    assert permission(rocket, BOB) is Permission.admin

    del core.members["bob"]  # bob leaves the admin team on GitHub…
    gone = membership_event("removed", team_json(rocket, "core"), "bob", ids["bob"])
    assert hook(rocket, "membership", gone).status_code == 200
    assert permission(rocket, BOB) is Permission.member

    # …and the old signed body comes back under a fresh GUID.
    replay = hook_body(rocket, "membership", old, str(uuid.uuid4()))
    assert replay.status_code == 200 and replay.json()["status"] == "processed"
    assert permission(rocket, BOB) is Permission.member
    assert ids["bob"] not in snapshot(rocket.store)["core"][2]


def test_a_replayed_member_removed_for_a_member_deletes_nothing(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    before = snapshot(rocket.store)
    resp = hook(rocket, "organization", member_removed("bob", ids["bob"]))
    assert resp.status_code == 200 and resp.json()["status"] == "processed"
    assert rocket.user(BOB) is not None
    assert snapshot(rocket.store) == before

    rocket.github.org_members.pop("bob")  # bob really leaves: now the record goes
    assert hook(rocket, "organization", member_removed("bob", ids["bob"])).status_code == 200
    assert rocket.user(BOB) is None


def test_a_github_failure_during_the_re_read_is_503_and_changes_nothing(rocket: Rocket) -> None:
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    refreshed(rocket)
    rocket.github.team("core").members["bob"] = "member"  # type: ignore[union-attr]
    delivery = str(uuid.uuid4())
    body = json.dumps(
        membership_event("added", team_json(rocket, "core"), "bob", ids["bob"])
    ).encode()
    rocket.github.fail("GET", rf"/orgs/{ORG}/teams/core/memberships/bob", 502, times=1)
    assert hook_body(rocket, "membership", body, delivery).status_code == 503
    assert permission(rocket, BOB) is Permission.member
    rocket.github.fail("GET", rf"/orgs/{ORG}/memberships/bob", 502, times=1)
    assert hook(rocket, "organization", member_removed("bob", ids["bob"])).status_code == 503
    assert rocket.user(BOB) is not None
    # GitHub's redelivery (same GUID) is asked again, and applied.
    redelivered = hook_body(rocket, "membership", body, delivery)
    assert redelivered.json()["status"] == "processed"
    assert permission(rocket, BOB) is Permission.admin


# ---- delivery ids --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delivery",
    ["d-1", "", "12345678-1234-1234-1234-1234567890ab-x", "g2345678-1234-1234-1234-1234567890ab"],
)
def test_a_delivery_id_that_is_not_a_guid_is_400(rocket: Rocket, delivery: str) -> None:
    ids = org_with_core(rocket)
    linked(rocket, BOB, "bob", ids, proven=True)
    body = json_body(member_removed("bob", ids["bob"]))
    resp = hook_body(rocket, "organization", body, delivery)
    assert resp.status_code == 400
    assert resp.json() == {"error": "X-GitHub-Delivery must be a GUID, as GitHub sends it"}
    rocket.github.org_members.pop("bob")
    assert rocket.user(BOB) is not None  # nothing processed
    upper = str(uuid.uuid4()).upper()  # GitHub's GUIDs, in either case
    assert hook_body(rocket, "organization", body, upper).status_code == 200
    assert rocket.user(BOB) is None


# ---- /healthz ------------------------------------------------------------------------------------


def test_healthz_reads_the_pins_from_the_store(rocket: Rocket) -> None:
    rocket.github.seed_small_org()
    rocket.add_user(ADMIN, Permission.admin)
    requests = len(rocket.github.requests)
    assert healthz(rocket) == {"admin": "unresolved", "team_lead": "unresolved"}
    assert len(rocket.github.requests) == requests  # GitHub is never asked
    refreshed(rocket)
    status = healthz(rocket)
    assert status == {"admin": "not found", "team_lead": "pinned"}
    with rocket.store.unit_of_work() as uow:
        assert pin_status(uow, config_of(rocket)) == status


# ---- finding 7: typed and stored text is escaped -------------------------------------------------


def test_typed_and_stored_text_is_escaped_in_team_replies(rocket: Rocket) -> None:
    rocket.github.seed_small_org()
    rocket.github.add_team("x<!here>")
    rocket.add_user(ADMIN, Permission.admin, github_username="alice", github_id=1001)
    rocket.add_user(BOB, email="a@b.c<!channel>")
    refreshed(rocket)
    reply = rocket.command("team create x<!here>", ADMIN)
    assert_refused(reply, "Team `x&lt;!here&gt;` exists already")
    assert "`/rocket team view x&lt;!here&gt;`" in reply["text"]
    exported = json.dumps(rocket.command("export emails", ADMIN))
    assert "a@b.c&lt;!channel&gt;" in exported and "<!channel>" not in exported
    assert "<!here>" not in json.dumps(reply)
