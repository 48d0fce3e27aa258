"""team refresh against the fake GitHub (lists paginated over ≥3 pages), on SQLite and
PostgreSQL: it mirrors, converges, heals drift, and changes nothing when GitHub fails."""

from __future__ import annotations

import pytest

from app.github import GitHubError
from app.store import Permission
from app.teams import refresh
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support.teams import (
    add_user,
    client,
    github_writes,
    permissions,
    snapshot,
    teams_config,
)

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github

ORG = "rocket-club"


@pytest.fixture
def org(fake_github, env):
    ids = fake_github.seed_small_org()
    config = teams_config(env)
    return fake_github, ids, config, client(config)


def expected(fake, ids):
    """What the local mirror must look like: name → (id, slug, members, leads)."""
    out = {}
    for team in fake.teams.values():
        members = frozenset(ids[login] for login in team.members)
        leads = frozenset(ids[login] for login, r in team.members.items() if r == "maintainer")
        out[team.name] = (team.id, team.slug, members, leads)
    return out


def test_refresh_mirrors_every_page(org, store):
    fake, ids, config, github = org
    report = refresh(store, github, config)
    assert snapshot(store) == expected(fake, ids)
    assert sorted(report.teams_created) == ["admins", "all", "backend", "design", "leads"]
    assert report.changed and not report.failures
    # Every list was read to its last page (page size 2): 7 org members → 4 pages, 5 teams → 3,
    # the 7 members of "all" → 4 pages.
    assert fake.count("GET", rf"/orgs/{ORG}/members") == 4
    assert fake.count("GET", rf"/orgs/{ORG}/teams") == 3
    assert snapshot(store)["all"][2] == frozenset(ids[x] for x in ids if x != "outsider")


def test_refresh_promotes_and_keeps_an_admins_grant(org, store):
    _fake, ids, config, github = org
    add_user(store, "UALICE", "alice", ids["alice"], verified=True)  # admins and leads → admin
    add_user(store, "UDAVE", "dave", ids["dave"], verified=True)  # in leads → team_lead
    add_user(store, "UBOB", "bob", ids["bob"], verified=True)  # in neither → stays member
    add_user(store, "UCAROL", "carol", ids["carol"], Permission.admin)  # admin by hand: kept
    add_user(store, "UERIN", "erin", ids["erin"], Permission.team_lead)  # kept
    report = refresh(store, github, config)
    assert permissions(store) == {
        "UALICE": Permission.admin,
        "UDAVE": Permission.team_lead,
        "UBOB": Permission.member,
        "UCAROL": Permission.admin,
        "UERIN": Permission.team_lead,
    }
    assert "UALICE → admin" in report.promoted and "UDAVE → team_lead" in report.promoted


def test_second_refresh_changes_nothing(org, store):
    fake, ids, config, github = org
    add_user(store, "UALICE", "alice", ids["alice"])
    fake.add_org_member("heidi")  # in the org but not in the default team yet
    first = refresh(store, github, config)
    assert first.github_default_added == ["heidi"]
    assert "heidi" in fake.team_logins("all")
    state, perms, writes = snapshot(store), permissions(store), github_writes(fake)
    second = refresh(store, github, config)
    assert not second.changed, second.summary()
    assert "nothing changed" in second.summary()
    assert snapshot(store) == state and permissions(store) == perms
    assert github_writes(fake) == writes  # no GitHub write either


def test_refresh_heals_drift(org, store):
    _fake, ids, config, github = org
    refresh(store, github, config)
    good = snapshot(store)
    with store.unit_of_work() as uow:
        backend = uow.teams.require_by_name("backend")
        design = uow.teams.require_by_name("design")
        uow.teams.delete(uow.teams.require_by_name("leads").github_team_id)
        uow.teams.create(999_999, "ghost-team", slug="ghost-team")
        uow.teams.add_member(999_999, ids["bob"])
        uow.teams.remove_member(backend.github_team_id, ids["carol"])
        uow.teams.add_member(backend.github_team_id, ids["grace"])
        uow.teams.add_lead(backend.github_team_id, ids["bob"])
        uow.teams.remove_lead(design.github_team_id, ids["dave"])
        uow.teams.update(design.github_team_id, github_team_name="Design Old", slug="design-old")
    assert snapshot(store) != good
    report = refresh(store, github, config)
    assert snapshot(store) == good
    assert report.teams_deleted == ["ghost-team"]
    assert report.teams_created == ["leads"]
    assert report.teams_renamed == ["Design Old → design"]
    assert not refresh(store, github, config).changed


def test_refresh_follows_renames_and_swapped_names(org, store):
    fake, ids, config, github = org
    refresh(store, github, config)
    backend, design = fake.team("backend"), fake.team("design")
    backend.name, backend.slug, design.name, design.slug = "design", "design", "backend", "backend"
    refresh(store, github, config)
    assert snapshot(store) == expected(fake, ids)


def test_refresh_creates_a_missing_default_team(org, store):
    fake, ids, config, github = org
    del fake.teams[fake.team("all").id]
    report = refresh(store, github, config)
    assert report.github_default_created
    assert fake.team("all") is not None
    assert fake.team_logins("all") == {x for x in ids if x != "outsider"}
    assert snapshot(store)["all"][2] == frozenset(ids[x] for x in ids if x != "outsider")
    assert not refresh(store, github, config).changed


def test_refresh_updates_changed_logins(org, store):
    _fake, ids, config, github = org
    add_user(store, "UBOB", "bob-old-login", ids["bob"])
    report = refresh(store, github, config)
    assert report.logins_updated == 1
    with store.unit_of_work() as uow:
        assert uow.users.require("UBOB").github_username == "bob"


@pytest.mark.parametrize(
    "path",
    [
        rf"/orgs/{ORG}/teams",
        rf"/orgs/{ORG}/members",
        rf"/orgs/{ORG}/teams/backend/members",
    ],
)
def test_github_failure_changes_nothing_locally(org, store, path):
    fake, ids, config, github = org
    refresh(store, github, config)
    add_user(store, "UALICE", "alice", ids["alice"])
    before, perms = snapshot(store), permissions(store)
    fake.team("backend").members["grace"] = "member"  # a change GitHub has…
    # …but the second page of this list fails (after the client's bounded retries).
    fake.fail("GET", path, 502, times=10, query="page=2")
    with pytest.raises(GitHubError):
        refresh(store, github, config)
    assert snapshot(store) == before and permissions(store) == perms


def test_a_refused_default_team_add_is_reported_not_fatal(org, store):
    fake, ids, config, github = org
    fake.add_org_member("heidi")
    fake.fail("PUT", rf"/orgs/{ORG}/teams/all/memberships/heidi", 422, times=1)
    report = refresh(store, github, config)
    assert report.failures and "heidi" in report.failures[0]
    assert "heidi" not in fake.team_logins("all")
    assert snapshot(store)["all"][2] == frozenset(ids[x] for x in ids if x != "outsider")


def test_pins_follow_the_setting_and_a_gone_team_stays_pinned(org, store, env):
    fake, ids, config, github = org
    add_user(store, "UERIN", "erin", ids["erin"], verified=True)  # in design only
    admins_id = fake.team("admins").id
    assert refresh(store, github, config).pinned == ["admin → admins", "team_lead → leads"]
    with store.unit_of_work() as uow:
        assert uow.special_teams.get("admin").github_team_id == admins_id

    # The admin team is deleted on GitHub and a new one takes its name: not pinned by name.
    del fake.teams[admins_id]
    fake.add_team("admins", members=["erin"])
    assert refresh(store, github, config).pinned == []
    with store.unit_of_work() as uow:
        assert uow.special_teams.get("admin").github_team_id == admins_id
    assert permissions(store)["UERIN"] is Permission.member

    # GITHUB_ADMIN_TEAM_NAME changes: resolved again, once.
    other = teams_config(env, GITHUB_ADMIN_TEAM_NAME="Design")
    assert refresh(store, github, other).pinned == ["admin → design"]
    assert permissions(store)["UERIN"] is Permission.admin
    assert refresh(store, github, other).pinned == []
