"""Team commands against GitHub as it documents itself: owners read back as maintainers,
leads who are not yet organisation members, team synchronisation, child teams."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient

from app.features import build_services
from app.slack.commands.dispatch import dispatch
from app.store import Permission
from app.teams.refresh import refresh
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support.teams import add_user, client, permissions, snapshot, teams_config

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github
PUT = "PUT"


@pytest.fixture
def ctx(fake_github, env, store):
    """The small org mirrored; alice admin, dave lead of design; outsider not in the org."""
    ids = fake_github.seed_small_org()
    config = teams_config(env)
    for slack_id, login in (("UALICE", "alice"), ("UDAVE", "dave"), ("UBOB", "bob")):
        add_user(store, slack_id, login, ids[login], email=f"{login}@club.example", verified=True)
    add_user(store, "UGRACE", "grace", ids["grace"])
    add_user(store, "UOUT", "outsider", ids["outsider"])
    refresh(store, client(config), config)
    slack = WebClient(base_url="http://127.0.0.1:9/", timeout=1)
    return build_services(config, slack, store=store, github=client(config)), fake_github


def test_removing_an_owner_as_lead_says_owners_keep_maintainer_rights(ctx):
    context, fake = ctx
    fake.org_members["dave"] = "admin"
    reply = dispatch("team lead --remove design <@UDAVE>", "UALICE", context)
    assert "no longer a lead of *design*" in reply["text"]
    assert "owns the GitHub organisation, so they keep maintainer rights on GitHub" in reply["text"]


def test_a_lead_outside_the_organisation_becomes_maintainer_on_accepting(ctx):
    context, fake = ctx
    reply = dispatch("team lead design <@UOUT>", "UALICE", context)
    assert "become the team's maintainer on GitHub when they accept" in reply["text"]
    assert fake.invitations == {"outsider": "member"}
    fake.accept_invitation("outsider")
    assert fake.team_logins("design", "maintainer") == {"dave", "outsider"}


def test_team_synchronisation_is_named_not_credentials(ctx):
    context, fake = ctx
    path = "/orgs/rocket-club/teams/design/memberships/grace"
    fake.fail(PUT, path, 403, message="Team membership is managed by your identity provider")
    reply = dispatch("team add design <@UGRACE>", "UDAVE", context)
    assert "identity provider (team synchronisation)" in reply["text"]
    assert "credentials" not in reply["text"].lower()


def test_a_member_of_a_child_team_only_is_added_to_the_parent(ctx):
    context, fake = ctx
    fake.add_team("design-web", members=["grace"], parent="design")
    reply = dispatch("team add design <@UGRACE>", "UDAVE", context)
    assert "Added <@UGRACE> in team *design*" in reply["text"]
    assert "grace" in fake.team_logins("design")  # a direct member now
    assert fake.count(PUT, "/orgs/rocket-club/teams/design/memberships/grace") == 1


def test_refresh_mirrors_direct_members_and_a_child_team_grants_no_admin(ctx):
    context, fake = ctx
    grace = fake.users["grace"]["id"]
    fake.add_team("admins-helpers", members=["grace"], parent="admins")
    reply = dispatch("team refresh", "UALICE", context)
    assert "Mirrored 6 GitHub team(s)." in reply["text"]
    teams = snapshot(context.store)
    assert grace in teams["admins-helpers"][2]
    assert grace not in teams["admins"][2]  # listed by GitHub as inherited, not mirrored
    assert permissions(context.store)["UGRACE"] is Permission.member
