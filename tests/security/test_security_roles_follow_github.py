"""Issue 22, items 1, 2 and L5, reproduced through a real Gunicorn with the fake Slack and the
fake GitHub (SQLite and PostgreSQL): a phished click grants nothing (H1), the second factor
(matching verified e-mails, or an admin's approval), roles that follow GitHub both ways (M1,
M2) and the earlier account leaving the organisation (L5)."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.rocket import Rocket, assert_refused
from tests.support.webhooks import json_body, membership_event, org_event, post_signed, team_obj

HOOK = "/github/hook"
rocket_module = rocket_support.rocket_module_with(
    GITHUB_ADMIN_TEAM_NAME="admins",
    GITHUB_LEADS_TEAM_NAME="leads",
    GITHUB_DEFAULT_TEAM_NAME="all",
    GITHUB_WEBHOOK_ENDPT=HOOK,
)
rocket = rocket_support.rocket

ADMIN = "U0ADMIN001"  # an admin by hand (`rocket2 user promote`), no GitHub account
ALICE = "U0ALICE001"
MALLORY = "U0MALLORY1"
DAVE = "U0DAVE0001"
NOTICES = "#rocket2"


# ---- helpers ---------------------------------------------------------------------------------


def link_page(rocket: Rocket, slack_id: str, login: str) -> httpx.Response:
    """`/rocket user link` as ``slack_id``; ``login`` approves on GitHub; the confirmation page."""
    reply = rocket.command("user link", slack_id)
    found = re.search(r"<(https?://[^|>]+)\|", reply["text"])
    assert found, reply
    url = html.unescape(found.group(1))
    return rocket.callback(rocket.github.approve(url, login), confirm=False)


def link(rocket: Rocket, slack_id: str, login: str) -> httpx.Response:
    """The whole link: the page, then its form with the username it asks for typed."""
    page = link_page(rocket, slack_id, login)
    token = rocket_support.confirmation_of(page)
    assert token is not None, page.text
    return rocket.confirm(token, rocket_support.typed_of(page))


def same_email(rocket: Rocket, slack_id: str, login: str, *, verified: bool = True) -> None:
    address = f"{login}@club.example"
    rocket.slack.emails[slack_id] = address
    rocket.github.set_emails(login, (f"{login}@github.example", True), (address, verified))


def notices(rocket: Rocket) -> list[str]:
    bodies = rocket.slack.bodies("/api/chat.postMessage")
    said = [str(b["text"]) for b in bodies if b.get("channel") == NOTICES]
    return [text for text in said if "has restarted" not in text]


def permission(rocket: Rocket, slack_id: str) -> Permission:
    user = rocket.user(slack_id)
    assert user is not None
    return user.permission  # type: ignore[no-any-return]


def refreshed(rocket: Rocket, caller: str = ADMIN) -> str:
    reply = rocket.command("team refresh", caller)
    assert reply["text"].startswith("Mirrored"), reply
    return " ".join(b["text"]["text"] for b in reply["blocks"] if "text" in b)


def hook(rocket: Rocket, event: str, payload: dict[str, Any]) -> httpx.Response:
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    body = json_body(payload)
    return post_signed(rocket.server.url + HOOK, secret, event, body, str(uuid.uuid4()))


def club(rocket: Rocket) -> dict[str, int]:
    """The small org (alice in admins and leads, maintains backend; dave in leads), mirrored
    and pinned by a refresh, and the hand-made admin."""
    ids = rocket.github.seed_small_org()
    rocket.add_user(ADMIN, Permission.admin)
    refreshed(rocket)
    return ids


# ---- H1: a phished click grants nothing --------------------------------------------------------


def test_h1_the_phished_click_grants_nothing_and_the_admins_decide(rocket: Rocket) -> None:
    ids = club(rocket)
    rocket.add_user(ALICE, github_username="alice", github_id=ids["alice"])  # typed, unverified
    rocket.slack.display_names[MALLORY] = "Alice Liddell"
    rocket.slack.handles[MALLORY] = "mallory"

    # Mallory's link, opened and confirmed by alice: she even types what the page asks for.
    page = link_page(rocket, MALLORY, "alice")
    assert "Alice Liddell" not in page.text and "<strong>@mallory</strong>" in page.text
    assert f"taken off the Slack member {ALICE}" in page.text
    answer = rocket.confirm(rocket_support.confirmation_of(page) or "", "mallory")
    assert answer.status_code == 202, answer.text

    mallory = rocket.user(MALLORY)
    assert mallory is None or (mallory.github_id, mallory.permission) == (None, Permission.member)
    assert rocket.user(ALICE).github_id == ids["alice"]  # not taken off Alice's record
    assert rocket.github.count("PUT", r"/orgs/[^/]+/memberships/alice") == 0
    [request] = notices(rocket)
    assert f"<@{MALLORY}> asks to link the GitHub account `alice`" in request
    assert "nothing is linked or granted yet" in request
    # GitHub asks for consent next time: the grant was deleted, not only the token (L6).
    assert rocket.github.grants == set()
    assert rocket.github.count("DELETE", r"/applications/[^/]+/grant") == 1

    # Only an admin approves, and only the account the request names.
    assert_refused(rocket.command(f"user approve <@{MALLORY}|m> alice", ALICE), "admin")
    reply = rocket.command(f"user approve <@{MALLORY}|m> bob", ADMIN)
    assert_refused(reply, "No link of `bob` waits")
    assert permission(rocket, ALICE) is Permission.member and rocket.user(MALLORY) is None


def test_the_admin_approval_links_and_tells_the_channel_before_the_role(rocket: Rocket) -> None:
    ids = club(rocket)
    assert link(rocket, ALICE, "alice").status_code == 202  # e-mails differ: waits
    assert rocket.user(ALICE) is None

    reply = rocket.command(f"user approve <@{ALICE}|alice> alice", ADMIN)
    assert "is linked to the GitHub account `alice`" in reply["text"], reply
    assert "promoted to admin" in reply["text"]
    user = rocket.user(ALICE)
    assert (user.github_id, user.github_verified, user.permission) == (
        ids["alice"],
        True,
        Permission.admin,
    )
    assert notices(rocket)[-1].startswith(f":key: <@{ALICE}> is being linked")
    assert f"approved by the admin <@{ADMIN}>" in notices(rocket)[-1]
    assert_refused(rocket.command(f"user approve <@{ALICE}|alice> alice", ADMIN), "No link")

    # Without a channel to tell, no role is given: the notice comes first.
    rocket.reset()
    club(rocket)
    same_email(rocket, ALICE, "alice")
    rocket.slack.fail_methods.add("chat.postMessage")
    answer = link(rocket, ALICE, "alice")
    assert answer.status_code == 502 and "could not tell" in answer.text
    assert rocket.user(ALICE) is None


def test_a_verified_email_match_is_the_second_factor(rocket: Rocket) -> None:
    ids = club(rocket)
    same_email(rocket, ALICE, "alice", verified=False)  # on GitHub, but not verified: no match
    assert link(rocket, ALICE, "alice").status_code == 202
    rocket.github.emails_permission = False  # the App without "Email addresses": no match
    same_email(rocket, ALICE, "alice")
    assert link(rocket, ALICE, "alice").status_code == 202
    assert rocket.user(ALICE) is None

    rocket.github.emails_permission = True
    answer = link(rocket, ALICE, "alice")
    assert answer.status_code == 200 and "Linked" in answer.text
    user = rocket.user(ALICE)
    assert (user.github_id, user.permission) == (ids["alice"], Permission.admin)
    assert "e-mails match" in notices(rocket)[-1] and "They become admin" in notices(rocket)[-1]
    assert rocket.github.count("GET", r"/user/emails") == 3


def test_taking_an_account_off_another_record_needs_the_factor_too(rocket: Rocket) -> None:
    ids = club(rocket)
    rocket.add_user(DAVE, github_username="grace", github_id=ids["grace"])  # typed by an admin
    answer = link(rocket, MALLORY, "grace")  # grace holds nothing, but DAVE's record has her
    assert answer.status_code == 202
    assert rocket.user(DAVE).github_id == ids["grace"] and rocket.user(MALLORY) is None
    assert f"is linked to <@{DAVE}> now" in notices(rocket)[-1]

    rocket.command(f"user approve <@{MALLORY}|m> grace", ADMIN)
    assert rocket.user(MALLORY).github_id == ids["grace"]
    assert rocket.user(DAVE).github_id is None


def test_a_link_that_gives_nothing_needs_no_second_factor(rocket: Rocket) -> None:
    ids = club(rocket)
    answer = link(rocket, MALLORY, "grace")  # grace is in no special team and leads nothing
    assert answer.status_code == 200
    assert rocket.user(MALLORY).github_id == ids["grace"]
    assert notices(rocket) == []


# ---- M1: a link change recomputes the role ------------------------------------------------------


def test_m1_user_add_f_and_relinking_cannot_keep_a_role(rocket: Rocket) -> None:
    ids = club(rocket)
    same_email(rocket, DAVE, "dave")
    assert link(rocket, DAVE, "dave").status_code == 200
    assert permission(rocket, DAVE) is Permission.team_lead
    card = rocket.command("user view", DAVE)
    assert "team_lead (from the leads team)" in str(card["blocks"])

    reply = rocket.command("user add -f", DAVE)
    assert "demoted to member" in reply["text"], reply
    assert permission(rocket, DAVE) is Permission.member

    assert link(rocket, DAVE, "dave").status_code == 200  # the e-mails still match
    assert permission(rocket, DAVE) is Permission.team_lead
    assert link(rocket, DAVE, "dave-alt").status_code == 200  # a powerless second account
    assert permission(rocket, DAVE) is Permission.member
    # GitHub removing him from the leads team now has nothing left to take.
    rocket.github.team("leads").members.pop("dave")
    assert "Demoted" not in refreshed(rocket)
    assert permission(rocket, DAVE) is Permission.member
    assert ids["dave"] != rocket.user(DAVE).github_id


def test_an_admins_grant_survives_a_link_change_and_an_admins_typed_link(rocket: Rocket) -> None:
    ids = club(rocket)
    rocket.add_user(DAVE)
    rocket.command(f"user edit --username <@{DAVE}|dave> --permission team_lead", ADMIN)
    rocket.command(f"user edit --username <@{DAVE}|dave> --github dave", ADMIN)
    assert permission(rocket, DAVE) is Permission.team_lead
    reply = rocket.command("user add -f", DAVE)
    assert "permission team_lead" in reply["text"] and "demoted" not in reply["text"]
    assert "team_lead (granted by an admin)" in str(rocket.command("user view", DAVE)["blocks"])

    # An admin's typed link to an admin-team account gives no role, and clears a GitHub one.
    rocket.add_user(ALICE, github_username="carol", github_id=ids["carol"], github_verified=True)
    with rocket.store.unit_of_work() as uow:
        uow.users.update(ALICE, permission=Permission.team_lead)  # as if from the leads team
    rocket.command(f"user edit --username <@{ALICE}|a> --github alice", ADMIN)
    assert permission(rocket, ALICE) is Permission.member


# ---- M2: refresh reconciles both ways ----------------------------------------------------------


def test_m2_a_lost_removal_is_healed_by_the_next_refresh(rocket: Rocket) -> None:
    club(rocket)
    same_email(rocket, ALICE, "alice")
    same_email(rocket, DAVE, "dave")
    assert link(rocket, ALICE, "alice").status_code == 200
    assert link(rocket, DAVE, "dave").status_code == 200
    assert (permission(rocket, ALICE), permission(rocket, DAVE)) == (
        Permission.admin,
        Permission.team_lead,
    )
    # GitHub takes alice out of admins and dave out of leads; both deliveries are lost (a
    # deploy answered 503, and GitHub does not redeliver by itself).
    rocket.github.team("admins").members.pop("alice")
    rocket.github.team("leads").members.pop("dave")

    said = refreshed(rocket)
    assert f"Demoted (no longer in their special team): {ALICE} admin → team_lead" in said
    assert f"{DAVE} team_lead → member" in said
    assert f"Granted by an admin (kept): {ADMIN} (admin)" in said
    assert (permission(rocket, ALICE), permission(rocket, DAVE), permission(rocket, ADMIN)) == (
        Permission.team_lead,
        Permission.member,
        Permission.admin,
    )
    assert "Demoted" not in refreshed(rocket)  # healed once


def test_the_last_admin_is_kept_and_the_refresh_says_so(rocket: Rocket) -> None:
    rocket.github.seed_small_org()
    same_email(rocket, ALICE, "alice")
    rocket.add_user(ADMIN, Permission.admin)
    refreshed(rocket)
    assert link(rocket, ALICE, "alice").status_code == 200
    rocket.command(f"user edit --username <@{ADMIN}|x> --permission member", ALICE)
    assert permission(rocket, ADMIN) is Permission.member
    rocket.github.team("admins").members.pop("alice")
    rocket.github.team("leads").members.pop("alice")

    said = refreshed(rocket, ALICE)
    assert f"Kept as the last admin although GitHub gives less: {ALICE}" in said
    assert permission(rocket, ALICE) is Permission.admin


def test_leaving_the_organisation_removes_the_role_after_the_id_changed(rocket: Rocket) -> None:
    ids = club(rocket)
    # A record from before this release: team_lead through dave, its GitHub id since changed.
    rocket.add_user(
        DAVE,
        Permission.team_lead,
        granted_permission=Permission.member,
        github_username="dave",
        github_id=ids["dave"],
    )
    with rocket.store.unit_of_work() as uow:
        uow.users.update(DAVE, github_id=4242, github_username="dave-new", github_verified=True)
    rocket.github.org_members.pop("dave")
    rocket.github.team("leads").members.pop("dave")
    payload = org_event("member_removed", "dave", ids["dave"])
    assert hook(rocket, "organization", payload).json()["status"] == "processed"
    assert permission(rocket, DAVE) is Permission.member


def test_a_special_team_webhook_demotes_by_reconciling(rocket: Rocket) -> None:
    ids = club(rocket)
    same_email(rocket, DAVE, "dave")
    assert link(rocket, DAVE, "dave").status_code == 200
    rocket.github.team("leads").members.pop("dave")
    payload = membership_event("removed", team_obj(rocket.github, "leads"), "dave", ids["dave"])
    assert hook(rocket, "membership", payload).json()["status"] == "processed"
    assert permission(rocket, DAVE) is Permission.member


# ---- L5: the earlier account leaves the organisation -------------------------------------------


def test_l5_the_earlier_account_leaves_or_the_admins_are_told(rocket: Rocket) -> None:
    club(rocket)
    for login in ("old-acct", "new-acct", "third-acct"):
        rocket.github.add_user(login)
    assert link(rocket, MALLORY, "old-acct").status_code == 200
    rocket.github.add_org_member("old-acct")  # accepted Rocket 2's invitation
    rocket.github.invitations.pop("old-acct", None)
    assert link(rocket, MALLORY, "new-acct").status_code == 200
    assert "old-acct" not in rocket.github.org_members  # invited by us, held nothing: gone

    rocket.github.add_org_member("new-acct")
    rocket.github.invitations.pop("new-acct", None)
    rocket.github.add_team("design-2", members=["new-acct"])
    refreshed(rocket)
    assert link(rocket, MALLORY, "third-acct").status_code == 200
    assert "new-acct" in rocket.github.org_members  # it is in a team: it stays
    told = notices(rocket)[-1]
    assert f"<@{MALLORY}> linked another GitHub account" in told
    assert "`new-acct` stays in the organisation: it is in design-2" in told
