"""`/rocket team …` and `/rocket export emails` through the parser: registration, arguments and
help, refusals and GitHub failures as replies — in-process on both databases, and end to end
through a real Gunicorn (signed slash commands, replies at the fake Slack's response_url)."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient

from app.features import build_services
from app.slack.commands.dispatch import dispatch
from app.store import Permission
from app.teams.refresh import refresh
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support import rocket as rocket_support
from tests.support.teams import add_user, client, permissions, snapshot, teams_config

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github
rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

ORG = "rocket-club"


@pytest.fixture
def ctx(fake_github, env, store):
    """The small org mirrored; alice admin, dave team_lead and lead of design, bob member."""
    ids = fake_github.seed_small_org()
    config = teams_config(env)
    for slack_id, login in (("UALICE", "alice"), ("UDAVE", "dave"), ("UBOB", "bob")):
        add_user(store, slack_id, login, ids[login], email=f"{login}@club.example", verified=True)
    add_user(store, "UGRACE", "grace", ids["grace"])
    refresh(store, client(config), config)
    slack = WebClient(base_url="http://127.0.0.1:9/", timeout=1)
    github = client(config)
    return build_services(config, slack, store=store, github=github), fake_github, ids


def said(reply):
    return reply["text"] + "\n" + json.dumps(reply.get("blocks", []))


def test_help_lists_the_team_and_export_commands(ctx):
    context, _fake, _ids = ctx
    listing = said(dispatch("help", "UBOB", context))
    for usage in ("/rocket team lead", "/rocket team refresh", "/rocket export emails"):
        assert usage in listing
    team_help = said(dispatch("team", "UBOB", context))
    for name in ("list", "view", "create", "add", "remove", "lead", "edit", "delete", "refresh"):
        assert f"/rocket team {name}" in team_help
    assert "--remove" in said(dispatch("team lead --help", "UBOB", context))


def test_every_team_command_through_the_parser(ctx):
    context, fake, _ids = ctx
    assert "5 team(s)" in dispatch("team list", "UBOB", context)["text"]
    assert "Team *backend*" in dispatch("team view BACKEND", "UBOB", context)["text"]
    reply = dispatch(
        "team create “Mobile Apps” —displayname 'Phones' --lead <@UGRACE|grace>", "UDAVE", context
    )
    assert "Created team *Mobile Apps*" in reply["text"], said(reply)
    assert fake.team_logins("mobile-apps", "maintainer") == {"grace"}
    reply = dispatch("team add design <@UGRACE|grace>", "UDAVE", context)
    assert reply["text"].startswith("Added <@UGRACE> in team *design*")
    reply = dispatch("team lead design <@UGRACE|grace>", "UDAVE", context)
    assert "now leads team *design*" in reply["text"]
    reply = dispatch("team lead design <@UGRACE> --remove", "UDAVE", context)
    assert "no longer a lead" in reply["text"]
    reply = dispatch("team remove design <@UGRACE>", "UDAVE", context)
    assert reply["text"].startswith("Removed <@UGRACE>")
    reply = dispatch(
        'team edit design --platform figma --github "Product Design"', "UDAVE", context
    )
    assert "renamed on GitHub to *Product Design*" in reply["text"]
    assert "Product Design" in snapshot(context.store)
    reply = dispatch("team delete product-design", "UDAVE", context)
    assert "Deleted team *Product Design*" in reply["text"]
    reply = dispatch("team refresh", "UDAVE", context)
    assert reply["text"] == "Mirrored 5 GitHub team(s)."
    reply = dispatch("export emails --team backend", "UDAVE", context)
    assert "alice@club.example, bob@club.example" in said(reply)


def test_refusals_bad_arguments_and_github_failures_are_replies(ctx):
    context, fake, _ids = ctx
    reply = dispatch("team add backend <@UGRACE>", "UBOB", context)
    assert "Only admins and the leads of team `backend`" in reply["text"]
    assert (
        "Only team leads and admins can export"
        in dispatch("export emails", "UBOB", context)["text"]
    )
    reply = dispatch("team add design", "UDAVE", context)  # no @user
    assert "usage: /rocket team add" in said(reply)
    reply = dispatch("team add design grace", "UDAVE", context)  # not a mention
    assert "expected a Slack user mention" in said(reply)
    before = snapshot(context.store)
    fake.fail("PUT", rf"/orgs/{ORG}/teams/design/memberships/grace", 502, times=3)
    reply = dispatch("team add design <@UGRACE>", "UDAVE", context)
    assert "GitHub did not add `grace` to `design`" in reply["text"]
    assert "Nothing was changed here" in reply["text"]
    assert snapshot(context.store) == before
    assert "There is no team `nope`" in dispatch("team view nope", "UBOB", context)["text"]


def test_promotion_through_the_commands(ctx):
    context, _fake, _ids = ctx
    reply = dispatch("team add admins <@UBOB>", "UALICE", context)
    assert "promoted to admin" in reply["text"]
    assert permissions(context.store)["UBOB"] is Permission.admin


def test_team_commands_end_to_end(rocket):
    ids = rocket.github.seed_small_org()
    rocket.add_user("U0ADMIN001", Permission.admin, github_username="alice", github_id=ids["alice"])
    rocket.add_user("U0BOB00001", github_username="bob", github_id=ids["bob"], email="b@x.org")
    reply = rocket.command("team refresh", "U0ADMIN001")
    assert reply["text"] == "Mirrored 5 GitHub team(s).", reply
    assert "Only team leads and admins" in rocket.command("team refresh", "U0BOB00001")["text"]
    reply = rocket.command("team add design <@U0BOB00001|bob>", "U0ADMIN001")
    assert "Added <@U0BOB00001> in team *design*" in reply["text"]
    assert "bob" in rocket.github.team_logins("design")
    shown = said(rocket.command("team view design", "U0BOB00001"))
    assert "<@U0BOB00001>" in shown
    assert "b@x.org" in said(rocket.command("export emails --team design", "U0ADMIN001"))
