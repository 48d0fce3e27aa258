"""`/rocket user …` in-process on SQLite and PostgreSQL, against the fake GitHub: every command's
happy path, each permission refusal, bad values, and GitHub first (GitHub fails → nothing
stored, and the user is told)."""

from __future__ import annotations

import json
import re
import threading

import pytest

from app.store import Permission
from tests.support.gunicorn import wait_until
from tests.support.rocket import ADMIN, LEAD, ME, OTHER, run
from tests.support.rocket import add_user as add
from tests.support.rocket import assert_refused as refused


def get(ctx, slack_id):
    with ctx.store.unit_of_work() as uow:
        return uow.users.get(slack_id)


# ---- add -------------------------------------------------------------------------------


def test_add_creates_a_blank_record_once(context):
    reply = run(context, "user add", ME)
    assert "Your member record is created" in reply["text"]
    user = get(context, ME)
    assert (user.permission, user.karma, user.name) == (Permission.member, 1, "")
    refused(run(context, "user add", ME), "You already have a member record")


def test_add_force_replaces_but_keeps_the_permission(context):
    add(context, ME, Permission.admin, name="Ada", karma=0, github_id=5, github_username="ada")
    reply = run(context, "user add -f", ME)
    assert "replaced with a blank one (permission admin, karma back to 1)." in reply["text"]
    user = get(context, ME)
    assert (user.name, user.github_id, user.karma, user.permission) == (
        "",
        None,
        1,
        Permission.admin,
    )


# ---- view ------------------------------------------------------------------------------


def test_view_yourself_and_others_by_each_key(context):
    refused(run(context, "user view", ME), "You have no member record yet")
    add(context, ME, name="Ada <Lovelace>", email="Ada@Example.org", karma=0)
    add(context, OTHER, github_username="Octo-Cat", github_id=77, biography="<!channel> hi")
    mine = run(context, "user view", ME)
    body = json.dumps(mine["blocks"])
    assert "Ada &lt;Lovelace&gt;" in body  # escaped: no markup from user text
    assert "*Karma*\\n0" in body  # 0 stays 0
    for text in (
        f"user view --username <@{OTHER}|o>",
        "user view --github octo-cat",
        "user view --email ada@example.org",
    ):
        reply = run(context, text, ME)
        assert reply["blocks"][0]["type"] == "section", reply["text"]
    other = json.dumps(run(context, "user view --github OCTO-CAT", ME)["blocks"])
    assert "<https://github.com/Octo-Cat|Octo-Cat>" in other
    assert "&lt;!channel&gt; hi" in other and "<!channel>" not in other
    refused(run(context, "user view --email nobody@example.org", ME), "No member record for")
    refused(run(context, "user view --username <@U0NOBODY01>", ME), "No member record for")


def test_view_inspect_lists_teams(context):
    add(context, ME, github_id=42, github_username="ada")
    add(context, OTHER)
    with context.store.unit_of_work() as uow:
        uow.teams.create(1, "backend")
        uow.teams.create(2, "design")
        uow.teams.add_member(1, 42)
        uow.teams.add_member(2, 42)
        uow.teams.add_lead(2, 42)
    reply = run(context, "user view --inspect", ME)
    assert "*Teams*: backend, design\\n*Leads*: design" in json.dumps(reply["blocks"])
    reply = run(context, f"user view --username {OTHER} --inspect", ME)
    assert "No GitHub account linked" in json.dumps(reply["blocks"])


# ---- edit ------------------------------------------------------------------------------


def test_edit_your_own_fields_creating_the_record_if_needed(context):
    text = (
        "user edit --name “Ada Lovelace” —major Maths --pos Captain "
        "--email <mailto:ada@example.org|ada@example.org> --bio 'I like rockets'"
    )
    reply = run(context, text, ME)
    assert "Your record is updated: name, e-mail, position, major, biography." in reply["text"]
    user = get(context, ME)
    assert (user.name, user.major, user.position, user.email, user.biography) == (
        "Ada Lovelace",
        "Maths",
        "Captain",
        "ada@example.org",
        "I like rockets",
    )


def test_a_member_cannot_link_by_typing_a_login(context, fake_github):
    fake_github.add_user("octo-cat")
    add(context, ME, name="Before")
    before = fake_github.count()
    reply = run(context, "user edit --github octo-cat --name After", ME)
    refused(reply, "`/rocket user link`")
    user = get(context, ME)
    assert (user.github_id, user.github_username, user.name) == (None, "", "Before")
    assert fake_github.count() == before  # GitHub was not asked
    assert fake_github.invitations == {}


def test_an_admin_link_invites_then_stores_the_id_unverified(context, fake_github):
    gh_id = fake_github.add_user("Octo-Cat")
    add(context, ADMIN, Permission.admin)
    add(context, ME)
    reply = run(context, f"user edit --username <@{ME}> --github octo-cat --major CS", ADMIN)
    assert "GitHub, GitHub id" in reply["text"]
    assert "GitHub sent an invitation" in reply["text"]
    assert "not verified by GitHub" in reply["text"]
    assert "octo-cat" in fake_github.invitations
    user = get(context, ME)
    assert (user.github_id, user.github_username, user.major, user.github_verified) == (
        gh_id,
        "Octo-Cat",
        "CS",
        False,
    )

    # Already a member of the organisation: no new invitation, still linked. An admin may
    # link their own account too.
    member_id = fake_github.add_org_member("alice")
    reply = run(context, "user edit --github alice", ADMIN)
    assert "invitation" not in reply["text"]
    assert fake_github.count("PUT", r"/orgs/[^/]+/memberships/alice") == 0
    assert get(context, ADMIN).github_id == member_id


@pytest.mark.parametrize(
    ("status", "told"),
    [
        (502, "GitHub could not add `octo-cat` to the organisation (HTTP 502"),
        (403, "GitHub could not add `octo-cat` to the organisation (HTTP 403"),
    ],
)
def test_github_failure_stores_nothing(context, fake_github, status, told):
    fake_github.add_user("octo-cat")
    add(context, ADMIN, Permission.admin, name="Before")
    fake_github.fail("PUT", r"/orgs/[^/]+/memberships/octo-cat", status, times=5)
    reply = run(context, "user edit --github octo-cat --name After", ADMIN)
    refused(reply, told)
    assert "Nothing was changed" in reply["text"]
    user = get(context, ADMIN)
    assert (user.github_id, user.github_username, user.name) == (None, "", "Before")


def test_unknown_github_user_stores_nothing(context, fake_github):
    add(context, ADMIN, Permission.admin)
    add(context, ME)
    reply = run(context, f"user edit --username <@{ME}> --github nobody-here --name X", ADMIN)
    refused(reply, "GitHub has no user `nobody-here`")
    user = get(context, ME)
    assert (user.github_id, user.name) == (None, "")


def test_github_account_of_another_member_is_refused_before_github(context, fake_github):
    fake_github.add_user("octo-cat")
    add(context, ADMIN, Permission.admin)
    add(context, OTHER, github_username="octo-cat", github_id=1)
    before = fake_github.count()
    refused(run(context, "user edit --github Octo-Cat", ADMIN), f"already linked to <@{OTHER}>")
    assert fake_github.count() == before  # GitHub was not asked


def test_edit_needs_something_to_change(context):
    refused(run(context, "user edit", ME), "Nothing to change")


def test_editing_others_and_permissions_is_for_admins(context):
    add(context, ME)
    add(context, LEAD, Permission.team_lead)
    add(context, ADMIN, Permission.admin)
    add(context, OTHER, name="Other")
    refused(
        run(context, f"user edit --username <@{OTHER}> --name X", ME),
        "Only admins can edit someone else's record; you are a member.",
    )
    refused(
        run(context, f"user edit --username <@{OTHER}> --name X", LEAD),
        "Only admins can edit someone else's record; you are a team_lead.",
    )
    refused(run(context, "user edit --permission admin", ME), "Only admins can change permissions")
    refused(run(context, "user edit --permission admin", LEAD), "Only admins can change")
    assert get(context, OTHER).name == "Other"
    assert get(context, ME).permission is Permission.member

    reply = run(context, f"user edit --username <@{OTHER}|o> --name New --permission lead", ADMIN)
    assert f"<@{OTHER}>'s record is updated: name, permission." in reply["text"]
    other = get(context, OTHER)
    assert (other.name, other.permission) == ("New", Permission.team_lead)
    refused(
        run(context, "user edit --username <@U0NOBODY01> --name X", ADMIN), "has no member record"
    )


def test_the_last_admin_cannot_demote_themselves(context):
    add(context, ADMIN, Permission.admin)
    refused(run(context, "user edit --permission member", ADMIN), "without an admin")
    add(context, OTHER, Permission.admin)
    assert "updated" in run(context, "user edit --permission member", ADMIN)["text"]
    assert get(context, ADMIN).permission is Permission.member


# ---- delete ----------------------------------------------------------------------------


def test_delete_is_for_admins(context):
    add(context, ME)
    add(context, LEAD, Permission.team_lead)
    add(context, ADMIN, Permission.admin)
    add(context, OTHER)
    refused(run(context, f"user delete <@{OTHER}>", ME), "Only admins can delete member records")
    refused(run(context, f"user delete <@{OTHER}>", LEAD), "Only admins can delete")
    assert get(context, OTHER) is not None
    reply = run(context, f"user delete <@{OTHER}|other>", ADMIN)
    assert f"<@{OTHER}>'s member record is deleted." in reply["text"]
    assert get(context, OTHER) is None
    refused(run(context, f"user delete <@{OTHER}>", ADMIN), "has no member record")
    refused(run(context, f"user delete <@{ADMIN}>", ADMIN), "without an admin")


# ---- checks again in the unit of work that writes -------------------------------------------


def _meanwhile(context, fake_github, login, change):
    """While GitHub is asked to invite ``login``, ``change`` (a function of a unit of work) is
    committed in another transaction, as a concurrent command would."""

    def handler(request):
        with context.store.unit_of_work() as uow:
            change(uow)
        return fake_github._handle(request)

    fake_github.add_user(login)
    fake_github.server.expect_oneshot_request(
        re.compile(rf"^/orgs/[^/]+/memberships/{login}$"), method="PUT"
    ).respond_with_handler(handler)


def test_a_caller_demoted_during_the_github_call_cannot_write(context, fake_github):
    add(context, ADMIN, Permission.admin)
    add(context, OTHER, Permission.admin)
    add(context, ME, name="Before")
    _meanwhile(
        context,
        fake_github,
        "octo-cat",
        lambda uow: uow.users.set_permission(ADMIN, Permission.member),
    )
    reply = run(context, f"user edit --username <@{ME}> --github octo-cat --name After", ADMIN)
    refused(reply, "Only admins can edit someone else's record; you are a member.")
    user = get(context, ME)
    assert (user.name, user.github_id) == ("Before", None)


def test_the_last_admin_is_kept_when_another_is_demoted_during_the_github_call(
    context, fake_github
):
    add(context, ADMIN, Permission.admin)
    add(context, OTHER, Permission.admin)
    _meanwhile(
        context,
        fake_github,
        "octo-cat",
        lambda uow: uow.users.set_permission(OTHER, Permission.member),
    )
    reply = run(context, "user edit --github octo-cat --permission member", ADMIN)
    refused(reply, "without an admin")
    assert get(context, ADMIN).permission is Permission.admin
    with context.store.unit_of_work() as uow:
        assert [u.slack_id for u in uow.users.admins()] == [ADMIN]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(context, database_url):
    """On PostgreSQL the second demotion waits for the first's row locks, then sees it."""
    add(context, ADMIN, Permission.admin)
    add(context, OTHER, Permission.admin)
    replies: dict[str, dict] = {}

    def demote(caller, target):
        replies[caller] = run(
            context, f"user edit --username <@{target}> --permission member", caller
        )

    # Hold the admin rows so both commands reach their write before either can commit.
    with context.store.unit_of_work() as holder:
        holder.users.lock_admins()
        threads = [
            threading.Thread(target=demote, args=(ADMIN, OTHER)),
            threading.Thread(target=demote, args=(OTHER, ADMIN)),
        ]
        for thread in threads:
            thread.start()
        if context.store.dialect == "postgresql":
            _wait_for_lock_waiters(context, 2)
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    with context.store.unit_of_work() as uow:
        assert len(uow.users.admins()) == 1
    texts = sorted(reply["text"] for reply in replies.values())
    assert sum("is updated" in text for text in texts) == 1, texts


def _wait_for_lock_waiters(context, count):
    """Poll pg_locks until ``count`` sessions wait for a row lock (bounded)."""
    from sqlalchemy import text

    def waiting():
        with context.store.engine.connect() as connection:
            query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return connection.execute(query).scalar_one() >= count

    wait_until(waiting, timeout=15, what=f"{count} sessions waiting for a lock")
