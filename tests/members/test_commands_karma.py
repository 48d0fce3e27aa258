"""`/rocket karma …` and `/rocket @user ++`, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from app.store import Permission
from tests.support.rocket import ADMIN, LEAD, ME, OTHER, run
from tests.support.rocket import add_user as add
from tests.support.rocket import assert_refused as refused


def karma(ctx, slack_id):
    with ctx.store.unit_of_work() as uow:
        return uow.users.get_karma(slack_id)


def test_view_yours_or_someones(context):
    add(context, ME, karma=0)
    add(context, OTHER, karma=7)
    assert run(context, "karma view", ME)["text"] == f"<@{ME}> has 0 karma"
    assert run(context, f"karma view <@{OTHER}|o>", ME)["text"] == f"<@{OTHER}> has 7 karma"
    refused(run(context, "karma view <@U0NOBODY01>", ME), "has no member record")


def test_set_is_for_admins_and_zero_stays_zero(context):
    add(context, ME)
    add(context, LEAD, Permission.team_lead)
    add(context, ADMIN, Permission.admin)
    refused(run(context, f"karma set <@{ME}> 99", ME), "Only admins can set karma")
    refused(run(context, f"karma set <@{ME}> 99", LEAD), "Only admins can set karma")
    assert karma(context, ME) == 1
    assert "now has 0 karma" in run(context, f"karma set <@{ME}> 0", ADMIN)["text"]
    assert karma(context, ME) == 0
    assert "now has -3 karma" in run(context, f"karma set <@{ME}> -3", ADMIN)["text"]
    assert karma(context, ME) == -3
    refused(run(context, "karma set <@U0NOBODY01> 3", ADMIN), "has no member record")


def test_reset_all_is_for_admins(context):
    add(context, ME, karma=5)
    add(context, LEAD, Permission.team_lead, karma=0)
    add(context, ADMIN, Permission.admin, karma=1)
    refused(run(context, "karma reset --all", ME), "Only admins can reset karma")
    refused(run(context, "karma reset --all", LEAD), "Only admins can reset karma")
    assert karma(context, ME) == 5
    reply = run(context, "karma reset --all", ADMIN)
    assert "Karma reset to 1 for everyone (2 changed)." in reply["text"]
    assert [karma(context, s) for s in (ME, LEAD, ADMIN)] == [1, 1, 1]


@pytest.mark.parametrize(
    "target",
    ["U0ABCDEF1", "U0ABCDEFGH12", "W0123456789ABCDE"],  # 9, 12 and 16 characters
)
def test_plus_plus_for_any_id_length(context, target):
    add(context, target, karma=0)
    reply = run(context, f"<@{target}|someone> ++", ME)
    assert f"You gave <@{target}> a karma point: they have 1 now." in reply["text"]
    run(context, f"<@{target}> ++", OTHER)
    assert karma(context, target) == 2


def test_plus_plus_not_for_yourself_nor_for_strangers(context):
    add(context, ME, karma=3)
    refused(run(context, f"<@{ME}|me> ++", ME), "cannot give karma to yourself")
    assert karma(context, ME) == 3
    refused(run(context, "<@U0NOBODY01> ++", ME), "has no member record yet")
