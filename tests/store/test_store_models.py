"""Models and repositories on SQLite and PostgreSQL: users, karma, permissions, teams, events."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from app.store import AlreadyExists, NotFound, Permission, ProcessedEvent, Store
from tests.support import db

database_url = db.database_url
store = db.store


def test_karma_zero_stays_zero(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0ZERO01", karma=0)
    with store.unit_of_work() as uow:
        assert uow.users.get_karma("U0ZERO01") == 0
    with store.unit_of_work() as uow:
        uow.users.set_karma("U0ZERO01", 7)
        uow.users.set_karma("U0ZERO01", 0)
    with store.unit_of_work() as uow:
        assert uow.users.require("U0ZERO01").karma == 0


def test_new_user_defaults(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0NEW0001")
    with store.unit_of_work() as uow:
        user = uow.users.require("U0NEW0001")
        assert user.karma == 1
        assert user.permission is Permission.member
        assert user.github_id is None
        assert (user.name, user.email, user.github_username, user.biography) == ("", "", "", "")
        assert user.created_at is not None


def test_server_defaults_apply_to_raw_inserts(store: Store) -> None:
    """A row inserted without karma or permission (e.g. by SQL) still gets 1 and member."""
    with store.session() as session:
        session.execute(text("INSERT INTO users (slack_id) VALUES ('U0RAW0001')"))
    with store.unit_of_work() as uow:
        user = uow.users.require("U0RAW0001")
        assert (user.karma, user.permission) == (1, Permission.member)


def test_permission_is_ordered_and_parsed() -> None:
    assert Permission.member < Permission.team_lead < Permission.admin
    assert Permission.admin >= Permission.team_lead
    assert not Permission.member >= Permission.team_lead
    assert sorted([Permission.admin, Permission.member, Permission.team_lead]) == [
        Permission.member,
        Permission.team_lead,
        Permission.admin,
    ]
    assert Permission.parse("Team-Lead") is Permission.team_lead
    assert Permission.parse("lead") is Permission.team_lead
    assert Permission.parse(" ADMIN ") is Permission.admin
    with pytest.raises(ValueError, match="member, team_lead, admin"):
        Permission.parse("owner")


def test_permission_column_rejects_unknown_values(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)constraint|check"), store.session() as session:
        session.execute(text("INSERT INTO users (slack_id, permission) VALUES ('U0BAD', 'boss')"))


def test_create_if_absent_never_overwrites(store: Store) -> None:
    with store.unit_of_work() as uow:
        user, created = uow.users.create_if_absent("U0JOIN001", name="First")
        assert created and user.name == "First"
    with store.unit_of_work() as uow:
        uow.users.set_karma("U0JOIN001", 9)
        uow.users.set_permission("U0JOIN001", Permission.admin)
    with store.unit_of_work() as uow:
        user, created = uow.users.create_if_absent("U0JOIN001", name="Second")
        assert not created
    with store.unit_of_work() as uow:
        user = uow.users.require("U0JOIN001")
        assert (user.name, user.karma, user.permission) == ("First", 9, Permission.admin)


def test_create_twice_is_already_exists_and_the_transaction_survives(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0DUP0001")
    with store.unit_of_work() as uow:
        with pytest.raises(AlreadyExists, match="U0DUP0001"):
            uow.users.create("U0DUP0001")
        uow.users.create("U0DUP0002")  # the same unit of work is still usable
    with store.unit_of_work() as uow:
        assert uow.users.count() == 2


def test_replace_overwrites_with_a_blank_record(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0REP0001", name="Old", karma=5, permission=Permission.admin)
    with store.unit_of_work() as uow:
        uow.users.replace("U0REP0001")
    with store.unit_of_work() as uow:
        user = uow.users.require("U0REP0001")
        assert (user.name, user.karma, user.permission) == ("", 1, Permission.member)


def test_lookups_by_github_and_email(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create(
            "U0AAA0001", github_username="Octo-Cat", github_id=583231, email="O@Ex.org"
        )
        uow.users.create("U0BBB0002", github_username="hubot", github_id=42)
    with store.unit_of_work() as uow:
        assert uow.users.by_github_id(583231).slack_id == "U0AAA0001"  # type: ignore[union-attr]
        assert uow.users.by_github_username("octo-cat").slack_id == "U0AAA0001"  # type: ignore[union-attr]
        assert uow.users.by_email(" o@ex.ORG ").slack_id == "U0AAA0001"  # type: ignore[union-attr]
        assert uow.users.by_github_id(7) is None
        assert uow.users.by_github_username("nobody") is None
        assert uow.users.by_email("nobody@ex.org") is None
        assert [u.slack_id for u in uow.users.by_github_ids([42, 583231, 9])] == [
            "U0AAA0001",
            "U0BBB0002",
        ]
        assert [u.slack_id for u in uow.users.with_github()] == ["U0AAA0001", "U0BBB0002"]


def test_github_id_is_unique(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0AAA0001", github_id=1)
        uow.users.create("U0BBB0002")
    with store.unit_of_work() as uow:
        with pytest.raises(AlreadyExists):
            uow.users.update("U0BBB0002", github_id=1, name="kept?")
        assert uow.users.require("U0BBB0002").github_id is None


def test_update_and_delete(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0UPD0001")
    with store.unit_of_work() as uow:
        uow.users.update("U0UPD0001", name="Ada", major="CS", github_id=99, github_username="ada")
    with store.unit_of_work() as uow:
        user = uow.users.require("U0UPD0001")
        assert (user.name, user.major, user.github_id) == ("Ada", "CS", 99)
        with pytest.raises(TypeError, match="slack_id"):
            uow.users.update("U0UPD0001", slack_id="U0OTHER")
        with pytest.raises(NotFound, match="U0MISSING"):
            uow.users.update("U0MISSING", name="x")
    with store.unit_of_work() as uow:
        assert uow.users.delete("U0UPD0001") is True
        assert uow.users.delete("U0UPD0001") is False
    with store.unit_of_work() as uow:
        assert uow.users.get("U0UPD0001") is None
        uow.users.create("U0GH00001", github_id=5)
        uow.users.create("U0GH00002", github_id=6)
    with store.unit_of_work() as uow:
        assert uow.users.delete_by_github_id(5) == ["U0GH00001"]
        assert uow.users.count() == 1


def test_unit_of_work_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.users.create("U0ROLL001")
        uow.flush()
        raise RuntimeError("command failed")
    with store.unit_of_work() as uow:
        assert uow.users.get("U0ROLL001") is None


def test_promote_creates_then_updates(store: Store) -> None:
    with store.unit_of_work() as uow:
        user, created = uow.users.promote("U0ADMIN01", Permission.admin)
        assert created and user.permission is Permission.admin
    with store.unit_of_work() as uow:
        user, created = uow.users.promote("U0ADMIN01", Permission.team_lead)
        assert not created
    with store.unit_of_work() as uow:
        assert uow.users.require("U0ADMIN01").permission is Permission.team_lead
        assert uow.users.admins() == []


def test_karma_increment_and_reset_all(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0K000001")
        uow.users.create("U0K000002", karma=0)
        uow.users.create("U0K000003", karma=1)
    with store.unit_of_work() as uow:
        assert uow.users.add_karma("U0K000001") == 2
        assert uow.users.add_karma("U0K000001", 3) == 5
        assert uow.users.require("U0K000001").karma == 5  # the session sees the new value
        with pytest.raises(NotFound):
            uow.users.add_karma("U0NOBODY")
    with store.unit_of_work() as uow:
        assert uow.users.reset_all_karma() == 2
    with store.unit_of_work() as uow:
        assert [u.karma for u in uow.users.list_all()] == [1, 1, 1]


def test_concurrent_karma_increments_are_not_lost(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.users.create("U0RACE001")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(15):
                with store.unit_of_work() as uow:
                    uow.users.add_karma("U0RACE001")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with store.unit_of_work() as uow:
        assert uow.users.get_karma("U0RACE001") == 1 + 45


def test_teams_members_and_leads(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.teams.create(101, "Backend", slug="backend", displayname="Back end")
        uow.teams.create(102, "Design", slug="design")
        assert uow.teams.add_member(101, 1) is True
        assert uow.teams.add_member(101, 1) is False
        uow.teams.add_member(101, 2)
        uow.teams.add_member(102, 2)
        assert uow.teams.add_lead(101, 2) is True
        assert uow.teams.add_lead(101, 2) is False
    with store.unit_of_work() as uow:
        assert uow.teams.members(101) == {1, 2}
        assert uow.teams.leads(101) == {2}
        assert uow.teams.by_name("backend").github_team_id == 101  # type: ignore[union-attr]
        assert uow.teams.by_name("DESIGN").github_team_id == 102  # type: ignore[union-attr]
        assert uow.teams.by_slug("design").github_team_id == 102  # type: ignore[union-attr]
        assert uow.teams.by_name("nope") is None
        assert [t.github_team_id for t in uow.teams.teams_of(2)] == [101, 102]
        assert [t.github_team_id for t in uow.teams.teams_led_by(2)] == [101]
        assert [t.github_team_name for t in uow.teams.list_all()] == ["Backend", "Design"]
        assert uow.teams.membership_count() == (3, 1)
    with store.unit_of_work() as uow:
        assert uow.teams.remove_member(101, 2) is True
        assert uow.teams.remove_member(101, 2) is False
        assert uow.teams.leads(101) == {2}  # leads untouched by membership removal
        assert uow.teams.remove_lead(101, 2) is True
        assert uow.teams.remove_lead(101, 2) is False
    with store.unit_of_work() as uow:
        assert uow.teams.members(101) == {1}
        assert uow.teams.leads(101) == frozenset()


def test_set_members_reports_the_difference(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.teams.create(7, "all")
        assert uow.teams.set_members(7, [1, 2, 3]) == ({1, 2, 3}, frozenset())
    with store.unit_of_work() as uow:
        assert uow.teams.set_members(7, [2, 3, 4]) == ({4}, {1})
        assert uow.teams.set_members(7, [2, 3, 4]) == (frozenset(), frozenset())
        assert uow.teams.set_leads(7, [3]) == ({3}, frozenset())
        assert uow.teams.set_leads(7, []) == (frozenset(), {3})
    with store.unit_of_work() as uow:
        assert uow.teams.members(7) == {2, 3, 4}


def test_team_upsert_rename_and_conflicts(store: Store) -> None:
    with store.unit_of_work() as uow:
        _, created = uow.teams.upsert(5, "old-name", slug="old-name")
        assert created
        uow.teams.create(6, "taken")
    with store.unit_of_work() as uow:
        team, created = uow.teams.upsert(5, "new-name", slug="new-name")
        assert not created and team.github_team_name == "new-name"
        with pytest.raises(AlreadyExists, match="taken"):
            uow.teams.update(5, github_team_name="taken")
        with pytest.raises(AlreadyExists):
            uow.teams.create(6, "other")
        assert uow.teams.require(5).github_team_name == "new-name"
        with pytest.raises(NotFound, match="nope"):
            uow.teams.require_by_name("nope")


def test_deleting_a_team_deletes_its_rows_in_the_database(store: Store) -> None:
    """ON DELETE CASCADE holds even for raw SQL (SQLite's foreign_keys pragma is on)."""
    with store.unit_of_work() as uow:
        uow.teams.create(9, "doomed")
        uow.teams.set_members(9, [1, 2])
        uow.teams.set_leads(9, [1])
    with store.session() as session:
        session.execute(text("DELETE FROM teams WHERE github_team_id = 9"))
    with store.unit_of_work() as uow:
        assert uow.teams.membership_count() == (0, 0)
        uow.teams.create(10, "also-doomed")
        uow.teams.add_member(10, 1)
        assert uow.teams.delete(10) is True
        assert uow.teams.delete(10) is False
    with store.unit_of_work() as uow:
        assert uow.teams.count() == 0 and uow.teams.membership_count() == (0, 0)


def test_member_rows_need_an_existing_team(store: Store) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), store.session() as session:
        session.execute(text("INSERT INTO team_members (team_id, github_id) VALUES (404, 1)"))


def test_event_claimed_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.events.claim("slack", "Ev01") is True
        assert uow.events.claim("slack", "Ev01") is False
        assert uow.events.claim("github", "Ev01") is True  # a different source
    with store.unit_of_work() as uow:
        assert uow.events.claim("slack", "Ev01") is False
        assert uow.events.seen("slack", "Ev01")
        assert not uow.events.seen("slack", "Ev02")
        with pytest.raises(ValueError, match="source"):
            uow.events.claim("email", "x")
        with pytest.raises(ValueError, match="event_id"):
            uow.events.claim("slack", "")


def test_a_failed_handler_releases_its_claim(store: Store) -> None:
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        assert uow.events.claim("github", "delivery-1")
        raise RuntimeError("handler failed")
    with store.unit_of_work() as uow:
        assert uow.events.claim("github", "delivery-1") is True


def test_concurrent_claims_let_exactly_one_through(store: Store) -> None:
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait(timeout=30)
        with store.unit_of_work() as uow:
            got = uow.events.claim("slack", "Ev-race")
        with lock:
            results.append(got)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False, False, False, True]


def test_prune_forgets_old_deliveries(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.events.claim("slack", "old")
        uow.events.claim("slack", "new")
    with store.session() as session:
        ten_days_ago = datetime.now(UTC) - timedelta(days=10)
        session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == "old")
            .values(processed_at=ten_days_ago)
        )
    with store.unit_of_work() as uow:
        assert uow.events.prune(timedelta(days=7)) == 1
        assert uow.events.count() == 1
        assert uow.events.seen("slack", "new")
