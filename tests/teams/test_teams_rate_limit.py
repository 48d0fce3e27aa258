"""A secondary rate limit during a command, through a real Gunicorn: the work after the ack
waits as GitHub asks (retry-after, a few seconds here), says so, then finishes; it is never
"credentials refused" and never holds Slack's ack (rocket.command proves the ack came first)."""

from __future__ import annotations

from app.store import Permission
from tests.support import rocket as rocket_support

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

SECONDARY = "You have exceeded a secondary rate limit"


def test_a_secondary_limit_on_team_add_waits_says_so_and_adds(rocket):
    ids = rocket.github.seed_small_org()
    rocket.add_user("U0ADMIN001", Permission.admin, github_username="alice", github_id=ids["alice"])
    rocket.add_user("U0BOB00001", github_username="bob", github_id=ids["bob"])
    assert rocket.command("team refresh", "U0ADMIN001")["text"].startswith("Mirrored")
    put = "/orgs/rocket-club/teams/design/memberships/bob"
    rocket.github.fail("PUT", put, 403, message=SECONDARY, headers={"retry-after": "2"})

    first = rocket.command("team add design <@U0BOB00001|bob>", "U0ADMIN001")
    assert first["text"] == "GitHub asked Rocket 2 to slow down; the rest follows in 2 s."
    path = [req.path for req, _ in rocket.slack.server.log if req.path.startswith("/respond/")][-1]
    final = rocket.slack.wait_for(path, 2, timeout=30)[1]
    assert "Added <@U0BOB00001> in team *design*" in final["text"]
    assert "credentials" not in final["text"].lower()
    assert "bob" in rocket.github.team_logins("design")
    assert rocket.github.count("PUT", put) == 2
