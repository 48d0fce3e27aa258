"""The team command logic (app.teams.operations / app.teams.export) called directly with a real
store (SQLite and PostgreSQL) and the fake GitHub: happy paths, permission refusals, GitHub
failures after which nothing changes locally, promotion and demotion, Slack size limits."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from slack_sdk import WebClient
from sqlalchemy import text
from werkzeug import Request, Response

from app.features import build_services
from app.slack.commands.errors import CommandError, PermissionDenied
from app.store import AlreadyExists, Permission
from app.teams import operations as tc
from app.teams.export import (
    MAX_PIECES,
    PIECE_LIMIT,
    email_pieces,
    export_emails,
    truncation_warning,
)
from app.teams.mirror import once_more_on_conflict
from app.teams.refresh import refresh
from tests.support import contract, db
from tests.support import fake_github as fake_support
from tests.support.gunicorn import wait_until
from tests.support.teams import add_user, client, github_writes, permissions, snapshot, teams_config

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github

ORG = "rocket-club"


@pytest.fixture
def slack_members():
    """A fake Slack conversations.members, two pages, on its own server (held to Slack's
    description)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    pages = [["UBOB", "UNOGH"], ["UERIN", "UNOBODY"]]

    def members(request: Request) -> Response:
        if request.values.get("channel") != "C0CHANNEL":
            body = {"ok": False, "error": "channel_not_found"}
            return Response(json.dumps(body), content_type="application/json")
        index = int(request.values.get("cursor") or 0)
        nxt = str(index + 1) if index + 1 < len(pages) else ""
        body = {"ok": True, "members": pages[index], "response_metadata": {"next_cursor": nxt}}
        return Response(json.dumps(body), content_type="application/json")

    checked = contract.checked("slack", members, root="/api")
    server.expect_request("/api/conversations.members").respond_with_handler(checked)
    yield WebClient(base_url=server.url_for("/api/"))
    server.stop()


@pytest.fixture
def club(fake_github, env, store, slack_members):
    """The small org mirrored, with records: alice admin (admins team), dave team_lead and lead
    of design, bob and erin members, grace in "all" only, one member without GitHub."""
    ids = fake_github.seed_small_org()
    config = teams_config(env)
    for slack_id, login in (
        ("UALICE", "alice"),
        ("UDAVE", "dave"),
        ("UBOB", "bob"),
        ("UERIN", "erin"),
        ("UGRACE", "grace"),
    ):
        add_user(store, slack_id, login, ids[login], email=f"{login}@club.example", verified=True)
    add_user(store, "UNOGH")
    refresh(store, client(config), config)
    assert permissions(store)["UALICE"] is Permission.admin
    assert permissions(store)["UDAVE"] is Permission.team_lead
    return (
        build_services(config, slack_members, store=store, github=client(config)),
        fake_github,
        ids,
    )


def unchanged(deps, fake, action):
    """Run ``action`` (which must fail) and check nothing changed locally."""
    before, perms = snapshot(deps.store), permissions(deps.store)
    with pytest.raises(CommandError) as caught:
        action()
    assert snapshot(deps.store) == before and permissions(deps.store) == perms
    return str(caught.value)


# ---- list and view ----------------------------------------------------------------------------


def test_list_and_view_for_anyone(club):
    deps, _fake, _ids = club
    listing = tc.team_list(deps)
    assert listing.text == "5 team(s):"
    assert any(
        line.startswith("*backend*") and "3 member(s), 1 lead(s)" in line for line in listing.lines
    )
    view = tc.team_view(deps, "Backend")
    assert view.text == "Team *backend*"
    assert "*Leads:* <@UALICE>" in view.lines
    members = next(line for line in view.lines if line.startswith("*Members"))
    assert "<@UALICE>" in members and "<@UBOB>" in members
    assert "1 GitHub account(s) without a Rocket 2 record" in members  # carol
    with pytest.raises(CommandError, match="There is no team `nope`"):
        tc.team_view(deps, "nope")


def test_list_when_empty(fake_github, env, store, slack_members):
    config = teams_config(env)
    deps = build_services(config, slack_members, store=store, github=client(config))
    assert "team refresh" in tc.team_list(deps).text


# ---- create -----------------------------------------------------------------------------------


def test_create_with_channel_and_lead(club):
    deps, fake, ids = club
    reply = tc.team_create(
        deps,
        "UDAVE",
        "Mobile",
        displayname="Mobile apps",
        platform="flutter",
        channel="C0CHANNEL",
        lead="UGRACE",
    )
    assert "Created team *Mobile*" in reply.text and "<@UGRACE>" in reply.text
    assert fake.team_logins("mobile", "maintainer") == {"grace"}
    assert fake.team_logins("mobile") == {"grace", "bob", "erin"}  # registered, with GitHub
    assert fake.team("mobile").privacy == "closed"
    team_id, slug, members, leads = snapshot(deps.store)["Mobile"]
    assert (team_id, slug) == (fake.team("mobile").id, "mobile")
    assert members == {ids["grace"], ids["bob"], ids["erin"]} and leads == {ids["grace"]}
    with deps.store.unit_of_work() as uow:
        team = uow.teams.require_by_name("mobile")
        assert (team.displayname, team.platform) == ("Mobile apps", "flutter")


def test_create_without_channel_adds_the_caller(club):
    deps, fake, ids = club
    tc.team_create(deps, "UALICE", "ops")
    assert fake.team_logins("ops") == {"alice"}
    assert snapshot(deps.store)["ops"][2:] == (frozenset({ids["alice"]}), frozenset({ids["alice"]}))


def test_create_refusals(club, store):
    deps, fake, _ids = club
    with pytest.raises(PermissionDenied, match="Only team leads and admins"):
        tc.team_create(deps, "UBOB", "x")
    with pytest.raises(PermissionDenied):
        tc.team_create(deps, "UNOBODY", "x")
    with store.unit_of_work() as uow:
        uow.users.set_permission("UNOGH", Permission.team_lead)
    with pytest.raises(PermissionDenied, match="GitHub account on record"):
        tc.team_create(deps, "UNOGH", "x")
    with pytest.raises(CommandError, match="exists already"):
        tc.team_create(deps, "UDAVE", "Backend")
    with pytest.raises(CommandError, match="no GitHub account"):
        tc.team_create(deps, "UDAVE", "x", lead="UNOGH")
    with pytest.raises(CommandError, match="not a channel link"):
        tc.team_create(deps, "UDAVE", "x", channel="#general")
    with pytest.raises(CommandError, match="could not read the members of <#CNOTTHERE>"):
        tc.team_create(deps, "UDAVE", "x", channel="CNOTTHERE")
    assert fake.count("POST", rf"/orgs/{ORG}/teams") == 0


def test_create_github_failure_changes_nothing(club):
    deps, fake, _ids = club
    fake.add_team("secret-project")  # on GitHub, not known here
    text = unchanged(deps, fake, lambda: tc.team_create(deps, "UDAVE", "secret-project"))
    assert "GitHub did not create team" in text and "Nothing was changed here" in text
    fake.fail("POST", rf"/orgs/{ORG}/teams", 502)
    unchanged(deps, fake, lambda: tc.team_create(deps, "UDAVE", "another"))
    assert fake.team("another") is None


# ---- add and remove ---------------------------------------------------------------------------


def test_add_and_remove_by_the_team_lead(club):
    deps, fake, ids = club
    reply = tc.team_add(deps, "UDAVE", "design", "UGRACE")
    assert reply.text.startswith("Added <@UGRACE> in team *design*")
    assert "grace" in fake.team_logins("design")
    assert ids["grace"] in snapshot(deps.store)["design"][2]
    reply = tc.team_remove(deps, "UDAVE", "design", "UGRACE")
    assert reply.text.startswith("Removed <@UGRACE>")
    assert "grace" not in fake.team_logins("design")
    assert ids["grace"] not in snapshot(deps.store)["design"][2]
    assert "was not in team" in tc.team_remove(deps, "UDAVE", "design", "UGRACE").text


def test_add_keeps_a_maintainer_a_maintainer(club):
    deps, fake, _ids = club
    tc.team_add(deps, "UALICE", "backend", "UALICE")
    assert fake.team_logins("backend", "maintainer") == {"alice"}
    assert not [b for b in fake.bodies if b[0] == "PUT" and "backend" in b[1]]


def test_add_remove_refusals(club):
    deps, fake, _ids = club
    writes = github_writes(fake)
    for caller in ("UBOB", "UNOBODY", "UDAVE"):  # dave leads design, not backend
        with pytest.raises(PermissionDenied, match="leads of team `backend`"):
            tc.team_add(deps, caller, "backend", "UGRACE")
        with pytest.raises(PermissionDenied):
            tc.team_remove(deps, caller, "backend", "UBOB")
    with pytest.raises(CommandError, match="no GitHub account"):
        tc.team_add(deps, "UALICE", "backend", "UNOGH")
    with pytest.raises(CommandError, match="no member record"):
        tc.team_add(deps, "UALICE", "backend", "UNOBODY")
    assert github_writes(fake) == writes


def test_add_remove_github_failure_changes_nothing(club):
    deps, fake, _ids = club
    fake.fail("PUT", rf"/orgs/{ORG}/teams/design/memberships/grace", 502, times=3)
    text = unchanged(deps, fake, lambda: tc.team_add(deps, "UDAVE", "design", "UGRACE"))
    assert "GitHub did not add `grace` to `design`" in text
    fake.fail("DELETE", rf"/orgs/{ORG}/teams/design/memberships/erin", 403)
    unchanged(deps, fake, lambda: tc.team_remove(deps, "UDAVE", "design", "UERIN"))
    assert "erin" in fake.team_logins("design")


def test_a_team_only_on_github_asks_for_a_refresh(club):
    deps, fake, _ids = club
    fake.add_team("research")
    with pytest.raises(CommandError, match="team refresh"):
        tc.team_add(deps, "UALICE", "research", "UBOB")
    tc.team_refresh(deps, "UALICE")
    tc.team_add(deps, "UALICE", "research", "UBOB")
    assert fake.team_logins("research") == {"bob"}


def test_joining_and_leaving_admin_and_leads_teams(club):
    deps, _fake, _ids = club
    reply = tc.team_add(deps, "UALICE", "leads", "UBOB")
    assert "promoted to team_lead" in reply.text
    reply = tc.team_add(deps, "UALICE", "admins", "UBOB")
    assert "promoted to admin" in reply.text
    assert permissions(deps.store)["UBOB"] is Permission.admin
    reply = tc.team_remove(deps, "UALICE", "admins", "UBOB")
    assert "demoted to team_lead" in reply.text  # still in the leads team
    reply = tc.team_remove(deps, "UALICE", "leads", "UBOB")
    assert "demoted to member" in reply.text
    assert permissions(deps.store)["UBOB"] is Permission.member


# ---- lead -------------------------------------------------------------------------------------


def test_lead_and_unlead(club):
    deps, fake, ids = club
    reply = tc.team_lead(deps, "UDAVE", "design", "UGRACE")  # not even a member yet
    assert "now leads team *design*" in reply.text
    assert fake.team("design").members["grace"] == "maintainer"
    _id, _slug, members, leads = snapshot(deps.store)["design"]
    assert ids["grace"] in members and ids["grace"] in leads
    # grace may now manage design herself.
    tc.team_add(deps, "UGRACE", "design", "UBOB")
    reply = tc.team_lead(deps, "UDAVE", "design", "UGRACE", remove=True)
    assert "no longer a lead" in reply.text
    assert fake.team("design").members["grace"] == "member"
    _id, _slug, members, leads = snapshot(deps.store)["design"]
    assert ids["grace"] in members and ids["grace"] not in leads
    assert "was not a lead" in tc.team_lead(deps, "UDAVE", "design", "UGRACE", remove=True).text
    # …and the mapping leads = maintainers survives a refresh unchanged.
    assert not refresh(deps.store, deps.github, deps.config).changed


def test_lead_refusal_and_github_failure(club):
    deps, fake, _ids = club
    with pytest.raises(PermissionDenied):
        tc.team_lead(deps, "UERIN", "design", "UERIN")
    fake.fail("PUT", rf"/orgs/{ORG}/teams/design/memberships/erin", 422)
    unchanged(deps, fake, lambda: tc.team_lead(deps, "UDAVE", "design", "UERIN"))
    assert fake.team("design").members["erin"] == "member"
    fake.fail("PUT", rf"/orgs/{ORG}/teams/design/memberships/dave", 502, times=3)
    unchanged(deps, fake, lambda: tc.team_lead(deps, "UDAVE", "design", "UDAVE", remove=True))


# ---- edit -------------------------------------------------------------------------------------


def test_edit_fields_and_rename_on_github(club):
    deps, fake, _ids = club
    design_id = fake.team("design").id
    reply = tc.team_edit(deps, "UDAVE", "design", displayname="Design Studio", platform="figma")
    assert "displayname set to `Design Studio`" in reply.text
    assert github_writes(fake) == 0  # local fields only
    reply = tc.team_edit(deps, "UDAVE", "design", github_name="Product Design")
    assert "renamed on GitHub to *Product Design*" in reply.text
    assert fake.teams[design_id].name == "Product Design"
    assert snapshot(deps.store)["Product Design"][:2] == (design_id, "product-design")
    with deps.store.unit_of_work() as uow:
        team = uow.teams.require(design_id)
        assert (team.displayname, team.platform) == ("Design Studio", "figma")
    assert not refresh(deps.store, deps.github, deps.config).changed


def test_edit_refusals_and_failures(club):
    deps, fake, _ids = club
    with pytest.raises(PermissionDenied):
        tc.team_edit(deps, "UBOB", "design", displayname="x")
    with pytest.raises(CommandError, match="Say what to change"):
        tc.team_edit(deps, "UDAVE", "design")
    with pytest.raises(CommandError, match="exists already"):
        tc.team_edit(deps, "UDAVE", "design", github_name="backend")
    fake.fail("PATCH", rf"/orgs/{ORG}/teams/design", 502, times=3)
    text = unchanged(
        deps, fake, lambda: tc.team_edit(deps, "UDAVE", "design", github_name="new", platform="p")
    )
    assert "GitHub did not rename `design` to `new`" in text
    with deps.store.unit_of_work() as uow:
        assert uow.teams.require_by_name("design").platform == ""


# ---- delete -----------------------------------------------------------------------------------


def test_delete(club):
    deps, fake, _ids = club
    with pytest.raises(PermissionDenied):
        tc.team_delete(deps, "UBOB", "design")
    fake.fail("DELETE", rf"/orgs/{ORG}/teams/design", 502, times=3)
    unchanged(deps, fake, lambda: tc.team_delete(deps, "UDAVE", "design"))
    assert fake.team("design") is not None
    assert "Deleted team *design*" in tc.team_delete(deps, "UDAVE", "design").text
    assert fake.team("design") is None and "design" not in snapshot(deps.store)
    # Already gone on GitHub: the local record goes too.
    del fake.teams[fake.team("backend").id]
    tc.team_delete(deps, "UALICE", "backend")
    assert "backend" not in snapshot(deps.store)


# ---- refresh ----------------------------------------------------------------------------------


def test_refresh_command(club):
    deps, fake, _ids = club
    with pytest.raises(PermissionDenied, match="Only team leads and admins"):
        tc.team_refresh(deps, "UBOB")
    reply = tc.team_refresh(deps, "UDAVE")
    assert reply.text == "Mirrored 5 GitHub team(s)."
    assert "nothing changed" in reply.lines[0]
    fake.team("design").members["grace"] = "member"
    fake.fail("GET", rf"/orgs/{ORG}/teams/design/members", 502, times=3)
    text = unchanged(deps, fake, lambda: tc.team_refresh(deps, "UDAVE"))
    assert "GitHub did not list the teams and members" in text
    assert "Members: +1" in "\n".join(tc.team_refresh(deps, "UDAVE").lines)


# ---- export emails ------------------------------------------------------------------------------


def test_export_emails(club):
    deps, _fake, _ids = club
    with pytest.raises(PermissionDenied):
        export_emails(deps, "UBOB")
    everyone = export_emails(deps, "UDAVE")
    assert "5 of 6 member(s) have one" in everyone.text
    assert everyone.lines[0] == (
        "```alice@club.example, bob@club.example, dave@club.example, erin@club.example, "
        "grace@club.example```"
    )
    assert everyone.lines[1] == "Without an e-mail: <@UNOGH>"
    backend = export_emails(deps, "UDAVE", team="backend")
    assert backend.lines == ("```alice@club.example, bob@club.example```",)
    with pytest.raises(CommandError, match="no team"):
        export_emails(deps, "UDAVE", team="nope")


@dataclass
class U:
    slack_id: str
    email: str


def test_export_pieces_fit_slack_and_lose_nothing():
    users: list[Any] = [
        U(f"U{i:05}", f"member.number.{i:04}@students.club.example") for i in range(300)
    ]
    users += [U(f"UX{i:04}", "") for i in range(10)]
    pieces, left_out, missing_left_out = email_pieces(users)
    assert left_out == 0 and missing_left_out == 0 and 1 < len(pieces) <= MAX_PIECES
    assert all(len(p) <= PIECE_LIMIT for p in pieces)
    shown = ", ".join(p.strip("`") for p in pieces if p.startswith("```")).split(", ")
    assert sorted(shown) == sorted(u.email for u in users if u.email)
    assert pieces[-1].startswith("Without an e-mail: <@UX0000>")


def test_export_too_long_is_cut_and_says_so():
    users: list[Any] = [
        U(f"U{i:05}", f"member.number.{i:05}@students.club.example") for i in range(2000)
    ]
    result = email_pieces(users)
    pieces, left_out = result.pieces, result.addresses_left_out
    assert result.truncated and result.without_email_left_out == 0
    assert len(pieces) == MAX_PIECES - 1 and all(len(p) <= PIECE_LIMIT for p in pieces)
    shown = ", ".join(p.strip("`") for p in pieces).split(", ")
    assert len(shown) + left_out == 2000 and left_out > 0
    assert sum(len(p) for p in pieces) < 40_000


def test_export_without_email_list_that_does_not_fit_is_reported():
    """The addresses fit, but addresses + the list of members without one do not: the part of
    that list that does not fit is counted, and the export warns."""
    per_piece = (PIECE_LIMIT - 6) // len("member.number.0000@students.club.example, ")
    users: list[Any] = [
        U(f"U{i:05}", f"member.number.{i:04}@students.club.example")
        for i in range(per_piece * (MAX_PIECES - 2))
    ]
    users += [U(f"UX{i:07}", "") for i in range(800)]
    result = email_pieces(users)
    assert result.addresses_left_out == 0
    assert result.truncated and result.without_email_left_out > 0
    assert len(result.pieces) == MAX_PIECES - 1
    listed = " ".join(p for p in result.pieces if p.startswith("Without an e-mail"))
    assert listed.count("<@UX") + result.without_email_left_out == 800
    warning = truncation_warning(result)
    assert f"{result.without_email_left_out} member(s) without an e-mail" in warning
    assert "address(es)" not in warning


def test_export_reply_warns_when_only_the_without_email_list_is_cut(club):
    deps, _fake, _ids = club
    with deps.store.unit_of_work() as uow:
        for i in range(3000):  # about 13 pieces of "<@UX…>" mentions
            uow.users.create(f"UX{i:07}")
    reply = export_emails(deps, "UDAVE")
    assert reply.lines[0].startswith("```alice@club.example")
    assert reply.lines[-1].startswith(":warning: The list is longer than one Slack message")
    assert "member(s) without an e-mail are not shown" in reply.lines[-1]


# ---- racing the webhook ----------------------------------------------------------------------


def test_add_while_the_webhook_stores_the_same_member(club, caplog):
    """The membership webhook for the change a command just made on GitHub can be committing
    the same row at that moment; the command's write is retried and still answers."""
    deps, fake, ids = club
    if deps.store.dialect == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this race cannot happen there")
    caplog.set_level(logging.INFO, logger="rocket2.teams")
    design = fake.team("design").id
    webhook = deps.store.engine.connect()
    transaction = webhook.begin()
    webhook.execute(
        text("INSERT INTO team_members (team_id, github_id) VALUES (:t, :g)"),
        {"t": design, "g": ids["grace"]},
    )
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(tc.team_add, deps, "UDAVE", "design", "UGRACE")
        # The command's INSERT of the same row waits on the open transaction's lock.
        wait_until(lambda: waiting_locks(deps.store) > 0, what="the command to wait on the row")
        transaction.commit()
        webhook.close()
        reply = future.result(timeout=30)
    assert "<@UGRACE> in team *design*" in reply.text
    assert ids["grace"] in snapshot(deps.store)["design"][2]
    assert any("retrying once" in r.getMessage() for r in caplog.records)


def waiting_locks(store):
    with store.engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))


def test_once_more_on_conflict():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise AlreadyExists("team", "x")
        return "ok"

    assert once_more_on_conflict(flaky) == "ok" and len(calls) == 2

    def always():
        raise AlreadyExists("team", "x")

    with pytest.raises(AlreadyExists):
        once_more_on_conflict(always)
