"""Issue 22, L1, through a real Gunicorn with the fake Slack and GitHub: the admin and leads
teams are changed only by admins. A verified maintainer of the leads team may not remove a
member, change a lead, edit, rename or delete it; an admin may."""

from __future__ import annotations

import pytest

from app.store import Permission
from tests.support import rocket as rocket_support
from tests.support.rocket import Rocket, assert_refused

rocket_module = rocket_support.rocket_module_with(
    GITHUB_ADMIN_TEAM_NAME="core", GITHUB_LEADS_TEAM_NAME="leads"
)
rocket = rocket_support.rocket

ADMIN = "U0ADMIN001"  # an admin by hand, no GitHub account
CAROL = "U0CAROL001"  # maintainer of `leads` on GitHub, linked with proof
DAVE = "U0DAVE0001"  # in `leads`


@pytest.fixture
def org(rocket: Rocket) -> Rocket:
    ids = rocket.github.seed_small_org()
    rocket.github.add_team("core", members=["alice"])
    team = rocket.github.team("leads")
    assert team is not None
    team.members["carol"] = "maintainer"
    rocket.add_user(ADMIN, Permission.admin)
    for slack_id, login in ((CAROL, "carol"), (DAVE, "dave")):
        rocket.add_user(slack_id, github_username=login, github_id=ids[login], github_verified=True)
    reply = rocket.command("team refresh", ADMIN)
    assert reply["text"].startswith("Mirrored"), reply
    return rocket


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        (f"team remove leads <@{DAVE}>", "Only admins can remove members from `leads`"),
        (f"team lead leads <@{DAVE}>", "Only admins can change the leads of `leads`"),
        (f"team lead leads <@{CAROL}> --remove", "Only admins can change the leads of `leads`"),
        ("team edit leads --displayname Mine", "Only admins can edit `leads`"),
        ("team edit leads --github crew", "Only admins can edit `leads`"),
        ("team delete leads", "Only admins can delete `leads`"),
        (f"team remove core <@{DAVE}>", "Only admins"),  # not even a lead of core
    ],
)
def test_a_maintainer_of_the_leads_team_cannot_change_it(
    org: Rocket, command: str, refusal: str
) -> None:
    before = dict(org.github.team("leads").members)  # type: ignore[union-attr]
    assert_refused(org.command(command, CAROL), refusal)
    leads = org.github.team("leads")
    assert leads is not None and leads.members == before and leads.name == "leads"
    assert org.user(DAVE).permission is Permission.team_lead


def test_an_admin_still_can(org: Rocket) -> None:
    reply = org.command("team edit leads --displayname Leads", ADMIN)
    assert "displayname set to `Leads`" in reply["text"], reply
    reply = org.command(f"team remove leads <@{DAVE}>", ADMIN)
    assert reply["text"].startswith("Removed"), reply
    assert "dave" not in org.github.team_logins("leads")
