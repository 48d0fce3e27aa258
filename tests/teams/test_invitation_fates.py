"""What the invitation job does with a queued invitation GitHub refuses, on both databases and
against the GitHub stand-in: a refused one does not block the rest, one refused for days is
parked (and told once), a gone account or team is dropped, a renamed account is followed by id,
and two refusals in a row stop the run (docs/decisions/0035-…)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.store import QueuedInvitation
from app.store.models import utcnow
from app.teams.invitations import expected_in, queue, send_queued
from tests.support import db
from tests.support import fake_github as fake_support
from tests.support.teams import client, teams_config

store = db.store
database_url = db.database_url
fake_github = fake_support.fake_github
PUT_ORG = r"/orgs/rocket-club/memberships/"


def _queued(store, fake, *logins: str, team: str = "") -> None:  # type: ignore[no-untyped-def]
    for login in logins:
        queue(store, fake.add_user(login), login, team)


def _rows(store) -> dict[str, QueuedInvitation]:  # type: ignore[no-untyped-def]
    with store.unit_of_work() as uow:
        return {q.login: q for q in uow.invitation_queue.every()}


def test_a_refused_head_does_not_block_and_is_parked_after_days_told_once(fake_github, env, store):
    github = client(teams_config(env))
    _queued(store, fake_github, "blocked1", "newbie1", "newbie2")
    fake_github.blocked.add("blocked1")

    run, left = send_queued(store, github)
    assert (run.sent, left, run.notices) == (2, 1, [])
    assert {"newbie1", "newbie2"} <= set(fake_github.invitations)
    row = _rows(store)["blocked1"]
    assert (row.attempts, row.parked_at) == (1, None) and row.first_refused_at is not None

    with store.unit_of_work() as uow:  # a week of refusals has passed
        uow.session.execute(
            update(QueuedInvitation).values(first_refused_at=utcnow() - timedelta(days=8))
        )
    run, left = send_queued(store, github)
    assert (run.sent, left) == (0, 0)
    assert len(run.notices) == 1 and "parked the invitation of `blocked1`" in run.notices[0]
    assert "rocket2 invitations retry blocked1" in run.notices[0]
    assert _rows(store)["blocked1"].parked_at is not None
    puts = fake_github.count("PUT", PUT_ORG)
    assert send_queued(store, github)[0].notices == []  # told once; a parked row is not sent
    assert fake_github.count("PUT", PUT_ORG) == puts

    with store.unit_of_work() as uow:
        assert uow.invitation_queue.retry("BLOCKED1") == 1
    fake_github.blocked.clear()
    assert send_queued(store, github)[0].sent == 1
    assert "blocked1" in fake_github.invitations


def test_two_refusals_in_a_row_are_the_cap_and_stop_the_run(fake_github, env, store):
    github = client(teams_config(env))
    _queued(store, fake_github, "newbie1", "newbie2", "newbie3")
    fake_github.invitation_cap = 0
    run, left = send_queued(store, github)
    assert (run.sent, left, run.notices) == (0, 3, [])
    assert fake_github.count("PUT", PUT_ORG + "newbie3") == 0  # never tried
    assert [q.attempts for q in _rows(store).values()] == [1, 1, 0]


def test_a_gone_account_or_team_is_dropped_and_a_renamed_one_followed(fake_github, env, store):
    fake_github.seed_small_org()
    github = client(teams_config(env))
    _queued(store, fake_github, "deleted1", "renamed1")
    _queued(store, fake_github, "newbie1", team="backend")
    with fake_github.lock:
        del fake_github.users["deleted1"]
        account = fake_github.users.pop("renamed1")
        fake_github.users["renamed2"] = {"id": account["id"], "login": "renamed2"}
        del fake_github.teams[fake_github.team("backend").id]

    run, left = send_queued(store, github)
    assert (run.sent, left) == (1, 0)
    assert "renamed2" in fake_github.invitations
    notices = " ".join(run.notices)
    assert "dropped the invitation of `deleted1` to the organisation: the GitHub account" in notices
    assert "dropped the invitation of `newbie1` to team `backend`: team backend no" in notices


def test_expected_by_counts_the_windows_ahead():
    day = timedelta(hours=24)
    assert [expected_in(n) for n in (0, 49, 50, 120)] == [day, day, 2 * day, 3 * day]
    assert expected_in(10, cap=5) == 3 * day
