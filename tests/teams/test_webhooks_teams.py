"""GitHub webhooks for teams through a real Gunicorn, with signed deliveries, against the fake
GitHub and a real store (SQLite and PostgreSQL): organization, team and membership events,
exactly-once deliveries, unknown teams and users, unknown actions, GitHub failures."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.features import build_services
from app.github.payloads import decode
from app.github.webhooks import webhook_client
from app.slack.client import slack_client
from app.store import Permission
from app.teams import refresh
from app.teams.webhooks import Budget, WebhookBudgetExceeded, member_added
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support.gunicorn import secrets_of
from tests.support.teams import add_user, client, github_writes, permissions, snapshot, teams_config
from tests.support.webhooks import (
    ORG,
    json_body,
    membership_event,
    org_event,
    post_signed,
    team_obj,
)

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github


HOOK = "/github/hook"


def guid(n):
    """A fixed delivery id in GitHub's GUID form."""
    return f"00000000-0000-4000-8000-{n:012d}"


class Hook:
    """Signs and sends deliveries to the server under test."""

    def __init__(self, server, env):
        self.server, self.env = server, env

    def send(self, event, payload, delivery=None, **headers):
        # GitHub gives up on a delivery after 10 seconds; every one must be answered well within
        # that. The client timeout is the bound (a request that takes longer fails with a
        # timeout), not a measured speed.
        return post_signed(
            self.server.url + HOOK,
            self.env["GITHUB_WEBHOOK_SECRET"],
            event,
            json_body(payload),
            delivery,
            timeout=5,
            **headers,
        )


def env_secret(env):
    return env["GITHUB_WEBHOOK_SECRET"].encode()


@pytest.fixture
def setup(fake_github, env, store, database_url, gunicorn_server):
    ids = fake_github.seed_small_org()
    config = teams_config(env)
    env["GITHUB_WEBHOOK_ENDPT"] = HOOK
    env["SLACK_API_URL"] = "http://127.0.0.1:9/"
    env["DATABASE_URL"] = database_url
    server = gunicorn_server(env)
    hook = Hook(server, env)
    yield fake_github, ids, config, hook
    server.assert_no_secrets(secrets_of(env))


def test_member_added_joins_default_team_once(setup, store):
    fake, _ids, _config, hook = setup
    heidi = fake.add_org_member("heidi")
    assert snapshot(store) == {}  # the default team is not known locally yet
    resp = hook.send("organization", org_event("member_added", "heidi", heidi), delivery=guid(1))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "processed"
    assert "heidi" in fake.team_logins("all")  # GitHub first…
    all_id = fake.team("all").id
    assert snapshot(store)["all"][0] == all_id and heidi in snapshot(store)["all"][2]  # …then here
    writes = github_writes(fake)
    again = hook.send("organization", org_event("member_added", "heidi", heidi), delivery=guid(1))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert github_writes(fake) == writes
    # An already-known default team is used as is (no lookup); the newcomer is added.
    ivan = fake.add_org_member("ivan")
    assert hook.send("organization", org_event("member_added", "ivan", ivan)).status_code == 200
    assert {heidi, ivan} <= snapshot(store)["all"][2]


def test_member_added_creates_a_missing_default_team(setup, store):
    fake, _ids, _config, hook = setup
    del fake.teams[fake.team("all").id]
    heidi = fake.add_org_member("heidi")
    resp = hook.send("organization", org_event("member_added", "heidi", heidi))
    assert resp.status_code == 200, resp.text
    assert fake.team("all") is not None and fake.team_logins("all") == {"heidi"}
    assert snapshot(store)["all"][2] == frozenset({heidi})


def test_member_added_github_failure_changes_nothing_then_redelivery_works(setup, store):
    fake, _ids, _config, hook = setup
    heidi = fake.add_org_member("heidi")
    fake.fail("PUT", rf"/orgs/{ORG}/teams/all/memberships/heidi", 502, times=1)
    resp = hook.send("organization", org_event("member_added", "heidi", heidi), delivery=guid(2))
    assert resp.status_code == 503
    assert "heidi" not in fake.team_logins("all")
    assert snapshot(store) == {}
    # The claim was rolled back with the change: GitHub's redelivery is processed.
    again = hook.send("organization", org_event("member_added", "heidi", heidi), delivery=guid(2))
    assert again.status_code == 200 and again.json()["status"] == "processed"
    assert heidi in snapshot(store)["all"][2]


def test_member_removed_deletes_the_record_and_memberships(setup, store):
    fake, ids, config, hook = setup
    refresh(store, client(config), config)
    add_user(store, "UALICE", "alice", ids["alice"], Permission.admin)
    add_user(store, "UBOB", "bob", ids["bob"])
    fake.org_members.pop("alice")  # GitHub says so when asked: the record goes
    payload = org_event("member_removed", "alice", ids["alice"])
    resp = hook.send("organization", payload, delivery=guid(3))
    assert resp.status_code == 200 and resp.json()["status"] == "processed"
    assert set(permissions(store)) == {"UBOB"}
    for _id, _slug, members, leads in snapshot(store).values():
        assert ids["alice"] not in members and ids["alice"] not in leads
    # A duplicate does nothing, even if the record came back in between.
    add_user(store, "UALICE", "alice", ids["alice"])
    assert hook.send("organization", payload, delivery=guid(3)).json()["status"] == "duplicate"
    assert "UALICE" in permissions(store)
    # Someone we never knew: processed, nothing to delete, never a 500.
    stranger = hook.send("organization", org_event("member_removed", "zed", 987654))
    assert stranger.status_code == 200


def test_member_invited_is_logged_only(setup, store):
    fake, _ids, _config, hook = setup
    payload = {
        "action": "member_invited",
        "invitation": {"login": "newbie", "id": 55, "role": "direct_member"},
        "user": {"login": "newbie", "id": 5555},
        "organization": {"login": ORG},
    }
    resp = hook.send("organization", payload)
    assert resp.status_code == 200 and resp.json()["status"] == "processed"
    assert snapshot(store) == {} and permissions(store) == {}
    assert github_writes(fake) == 0
    hook.server.wait_for_output("newbie invited to rocket-club")


# ---- team -------------------------------------------------------------------------------------


def test_team_created_edited_deleted(setup, store):
    fake, _ids, _config, hook = setup
    team = {"id": 4242, "name": "Mobile", "slug": "mobile", "privacy": "closed"}
    created = {"action": "created", "team": team, "organization": {"login": ORG}}
    assert hook.send("team", created, delivery=guid(4)).json()["status"] == "processed"
    assert snapshot(store) == {"Mobile": (4242, "mobile", frozenset(), frozenset())}
    assert hook.send("team", created, delivery=guid(4)).json()["status"] == "duplicate"

    renamed = {**team, "name": "Mobile Apps", "slug": "mobile-apps"}
    edited = {
        "action": "edited",
        "team": renamed,
        "changes": {"name": {"from": "Mobile"}},
        "organization": {"login": ORG},
    }
    assert hook.send("team", edited).status_code == 200
    assert snapshot(store) == {"Mobile Apps": (4242, "mobile-apps", frozenset(), frozenset())}

    # An edit of a team we never heard of stores it.
    unknown = {"id": 777, "name": "Infra", "slug": "infra"}
    assert hook.send("team", {**edited, "team": unknown}).status_code == 200
    assert "Infra" in snapshot(store)

    deleted = {"action": "deleted", "team": renamed, "organization": {"login": ORG}}
    assert hook.send("team", deleted).status_code == 200
    assert set(snapshot(store)) == {"Infra"}
    # Deleting a team we do not have is fine too.
    assert hook.send("team", deleted).status_code == 200
    assert github_writes(fake) == 0  # the team events never call GitHub


# ---- membership -------------------------------------------------------------------------------


def test_membership_before_the_team_exists_locally(setup, store):
    fake, ids, _config, hook = setup
    backend = team_obj(fake, "backend")
    payload = membership_event("added", backend, "grace", ids["grace"])
    resp = hook.send("membership", payload, delivery=guid(5))
    assert resp.status_code == 200 and resp.json()["status"] == "processed"
    assert snapshot(store) == {
        "backend": (backend["id"], "backend", frozenset({ids["grace"]}), frozenset())
    }
    assert hook.send("membership", payload, delivery=guid(5)).json()["status"] == "duplicate"
    # Removed from a team we did not know: the team is stored, without them.
    design = team_obj(fake, "design")
    resp = hook.send("membership", membership_event("removed", design, "erin", ids["erin"]))
    assert resp.status_code == 200
    assert snapshot(store)["design"] == (design["id"], "design", frozenset(), frozenset())


def test_membership_keeps_leads_and_promotes_demotes(setup, store):
    fake, ids, config, hook = setup
    refresh(store, client(config), config)
    add_user(store, "UBOB", "bob", ids["bob"], verified=True)
    add_user(store, "UALICE", "alice", ids["alice"], verified=True)
    refresh(store, client(config), config)  # alice is in admins and leads → admin
    admins, leads, backend = (team_obj(fake, n) for n in ("admins", "leads", "backend"))

    # Each delivery follows the change on GitHub (which the handler reads back).
    fake.team("leads").members["bob"] = "member"
    hook.send("membership", membership_event("added", leads, "bob", ids["bob"]))
    assert permissions(store)["UBOB"] is Permission.team_lead
    fake.team("admins").members["bob"] = "member"
    hook.send("membership", membership_event("added", admins, "bob", ids["bob"]))
    assert permissions(store)["UBOB"] is Permission.admin
    del fake.team("admins").members["bob"]
    hook.send("membership", membership_event("removed", admins, "bob", ids["bob"]))
    assert permissions(store)["UBOB"] is Permission.team_lead  # still in the leads team
    del fake.team("leads").members["bob"]
    hook.send("membership", membership_event("removed", leads, "bob", ids["bob"]))
    assert permissions(store)["UBOB"] is Permission.member

    # Leaving the leads team does not touch an admin.
    del fake.team("leads").members["alice"]
    hook.send("membership", membership_event("removed", leads, "alice", ids["alice"]))
    assert permissions(store)["UALICE"] is Permission.admin

    # alice maintains backend: removed as a member, she stays in its lead set (leads untouched).
    resp = hook.send("membership", membership_event("removed", backend, "alice", ids["alice"]))
    assert resp.status_code == 200
    _id, _slug, members, team_leads = snapshot(store)["backend"]
    assert ids["alice"] not in members and ids["alice"] in team_leads


def test_membership_of_a_deleted_team(setup, store):
    fake, ids, config, hook = setup
    refresh(store, client(config), config)
    design = team_obj(fake, "design")
    gone = {"id": design["id"], "name": "design", "deleted": True}
    resp = hook.send("membership", membership_event("removed", gone, "erin", ids["erin"]))
    assert resp.status_code == 200
    assert "design" not in snapshot(store)


# ---- what is not ours -------------------------------------------------------------------------


def test_unknown_actions_and_other_orgs_are_202(setup, store):
    fake, ids, _config, hook = setup
    cases = [
        ("organization", {**org_event("renamed", "x", 1), "action": "renamed"}),
        ("organization", org_event("member_added", "alice", ids["alice"], org="someone-else")),
        ("team", {"action": "added_to_repository", "team": team_obj(fake, "backend")}),
        ("membership", {**membership_event("added", team_obj(fake, "all"), "a", 1), "scope": "x"}),
        (
            "membership",
            {**membership_event("added", team_obj(fake, "all"), "a", 1), "member": None},
        ),
    ]
    for event, payload in cases:
        resp = hook.send(event, payload)
        assert resp.status_code == 202, (event, payload, resp.text)
        assert resp.json()["status"] == "ignored"
    assert snapshot(store) == {} and github_writes(fake) == 0


def test_malformed_payloads_are_400_never_500(setup, store):
    _fake, _ids, _config, hook = setup
    bad = [
        ("membership", {"action": "added", "scope": "team", "member": {"login": "a"}, "team": {}}),
        ("membership", membership_event("added", "not-a-team", "a", 1)),
        ("team", {"action": "created", "team": {"name": "no id"}}),
        ("organization", {"action": "member_removed", "membership": {}}),
        ("organization", org_event("member_removed", "a", "not-a-number")),
    ]
    for event, payload in bad:
        resp = hook.send(event, payload)
        assert resp.status_code == 400, (event, payload, resp.text)
    # A signed delivery without X-GitHub-Delivery cannot be deduplicated: refused.
    team = {"action": "created", "team": {"id": 1, "name": "x", "slug": "x"}}
    assert hook.send("team", team, delivery="").status_code == 400
    assert snapshot(store) == {}


# ---- service level: the time budget ------------------------------------------------------------


def test_member_added_stops_calling_github_when_out_of_time(fake_github, env, store):
    fake_github.seed_small_org()
    heidi = fake_github.add_org_member("heidi")
    config = teams_config(env)
    ticks = iter(range(0, 1000, 3))  # every look at the clock: 3 s later
    services = build_services(config, slack_client(config), store=store, github=client(config))
    event = decode("organization", org_event("member_added", "heidi", heidi))
    with pytest.raises(WebhookBudgetExceeded):
        member_added(services, event, "d-slow", budget=Budget(4, lambda: next(ticks)))
    assert snapshot(store) == {}
    with store.unit_of_work() as uow:
        assert not uow.events.seen("github", "d-slow")


def test_member_added_budget_holds_when_every_github_call_is_slow(fake_github, env, store):
    """Each request answers just under the webhook client's 2 s timeout (here scaled down): the
    budget still holds for the whole delivery, installation lookup and token POST included."""
    fake_github.seed_small_org()
    heidi = fake_github.add_org_member("heidi")
    config = teams_config(env)
    delay, budget = 0.6, 1.0

    started_calls: list[str] = []

    def slow(request):
        started_calls.append(request.path)
        time.sleep(delay)  # a slow GitHub, not synchronisation
        return fake_github._handle(request)

    for _ in range(8):
        fake_github.server.expect_oneshot_request(re.compile(r"^/.*")).respond_with_handler(slow)
    github = webhook_client(config)
    services = build_services(config, slack_client(config), store=store, github=github)
    event = decode("organization", org_event("member_added", "heidi", heidi))
    with pytest.raises(WebhookBudgetExceeded):
        member_added(services, event, "d-slow-calls", budget=Budget(budget))
    # One whole call (0.6 s) fits the 1 s budget; the second is cut to the 0.4 s left and no
    # third starts. Before the budget held for real, every call ran whole: three or more.
    assert len(started_calls) <= 2, started_calls
    assert "heidi" not in fake_github.team_logins("all")
    assert snapshot(store) == {}


# ---- concurrency ------------------------------------------------------------------------------


@pytest.fixture
def busy_setup(fake_github, env, store, database_url, gunicorn_server):
    ids = fake_github.seed_small_org()
    teams_config(env)
    env.update(GITHUB_WEBHOOK_ENDPT=HOOK, SLACK_API_URL="http://127.0.0.1:9/")
    env.update(DATABASE_URL=database_url, WEB_CONCURRENCY="2")
    server = gunicorn_server(env)
    yield fake_github, ids, Hook(server, env)
    server.assert_no_secrets(secrets_of(env))


def test_concurrent_deliveries_about_one_unknown_team(busy_setup, store):
    # On PostgreSQL the racing inserts of the unknown team conflict, and the losers retry once
    # (the server logs "retrying once"); on SQLite, BEGIN IMMEDIATE serialises them.
    fake, ids, hook = busy_setup
    backend = team_obj(fake, "backend")
    logins = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    jobs = [(guid(100 + i), login) for i, login in enumerate(logins)]
    jobs += [(guid(100), "alice")] * 3
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        answers = list(
            pool.map(
                lambda job: hook.send(
                    "membership",
                    membership_event("added", backend, job[1], ids[job[1]]),
                    delivery=job[0],
                ),
                jobs,
            )
        )
    assert [a.status_code for a in answers] == [200] * len(jobs), [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["duplicate"] * 3 + ["processed"] * len(logins)
    assert snapshot(store)["backend"][2] == frozenset(ids[x] for x in logins)
