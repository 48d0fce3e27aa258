"""Through a real Gunicorn and the GitHub stand-in: `team create --lead` with a lead outside
the organisation over the invitation cap (queued as maintainer, told, sent by the job, made
maintainer and mirrored on the org's member_added webhook); a queued invitation GitHub keeps
refusing does not block the next, is parked and told to the notification channel, and
`rocket2 invitations` lists, retries and drops it (docs/decisions/0035-…)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.store import Permission, QueuedInvitation
from app.store.models import utcnow
from config import load_config
from tests.support import rocket as rocket_support
from tests.support.cli import rocket2
from tests.support.gunicorn import wait_until
from tests.support.webhooks import json_body, post_signed
from tests.teams.test_invitation_cap import WindowClock, _listing, _run_jobs_now

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

DAY = 24 * 3600


def _club(rocket) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Alice (admin); Otto, with a GitHub account outside the organisation."""
    ids = rocket.github.seed_small_org()
    rocket.add_user("U0ADMIN001", Permission.admin, github_username="alice", github_id=ids["alice"])
    rocket.add_user("U0OUT00001", github_username="outsider", github_id=ids["outsider"])
    assert rocket.command("team refresh", "U0ADMIN001")["text"].startswith("Mirrored")
    return ids


def _deliver(rocket, event: str, payload: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    url = rocket.server.url + rocket.env.get("GITHUB_WEBHOOK_ENDPT", "/webhook")
    secret = rocket.env["GITHUB_WEBHOOK_SECRET"]
    assert post_signed(url, secret, event, json_body(payload), timeout=10).status_code == 200


def test_a_lead_outside_the_org_over_the_cap_is_queued_then_made_maintainer(rocket, tmp_path):
    ids = _club(rocket)
    clock = WindowClock()
    rocket.github.invitation_cap, rocket.github.invitation_clock = 0, clock
    reply = rocket.command("team create newteam --lead <@U0OUT00001|outsider>", "U0ADMIN001")
    assert "Created team *newteam* on GitHub with 1 member(s); lead <@U0OUT00001>" in reply["text"]
    assert "become the team's maintainer on GitHub once invited and they accept" in reply["text"]
    assert "expected by about" in reply["text"]
    assert "outsider (id" in _listing(rocket, tmp_path)
    assert "team newteam as maintainer" in _listing(rocket, tmp_path)

    rocket.github.invitation_cap, clock.now = 1, clock.now + DAY + 1
    _run_jobs_now(rocket.server)
    wait_until(lambda: "outsider" in rocket.github.invitations, what="the queued invitation")
    events: list[tuple[str, dict[str, Any]]] = []
    before, rocket.github.events = rocket.github.events, lambda e, p: events.append((e, p))
    try:
        rocket.github.accept_invitation("outsider")  # GitHub then sends member_added
    finally:
        rocket.github.events = before
    for event, payload in events:
        _deliver(rocket, event, payload)
    assert rocket.github.team_logins("newteam", "maintainer") == {"outsider"}
    with rocket.store.unit_of_work() as uow:
        team = uow.teams.by_name("newteam")
        assert team is not None
        assert ids["outsider"] in team.members and ids["outsider"] in team.team_leads


def test_a_refused_invitation_is_parked_told_listed_retried_and_dropped(rocket, tmp_path):
    _club(rocket)
    rocket.github.blocked.add("outsider")  # its PUT answers 422, as the cap does
    told = rocket.command("team add design <@U0OUT00001|outsider>", "U0ADMIN001")
    assert "joins team *design* later" in told["text"]
    with rocket.store.unit_of_work() as uow:  # it has been refused for more than a week
        uow.session.execute(
            update(QueuedInvitation).values(first_refused_at=utcnow() - timedelta(days=8))
        )
    _run_jobs_now(rocket.server)
    channel = load_config(environ=rocket.env).slack_notification_channel

    def notices() -> list[str]:
        bodies = rocket.slack.bodies("/api/chat.postMessage")
        return [b["text"] for b in bodies if b["channel"] == channel and "Invitation" in b["text"]]

    wait_until(lambda: notices(), what="the notice of the parked invitation")
    assert "parked the invitation of `outsider` to team `design`" in notices()[0]
    listing = _listing(rocket, tmp_path)
    assert "outsider" in listing and "PARKED" in listing and "1 parked" in listing

    retried = rocket2("invitations", "retry", "outsider", env=rocket.env, cwd=tmp_path)
    assert retried.returncode == 0 and "back in the queue" in retried.stdout
    assert "PARKED" not in _listing(rocket, tmp_path)
    dropped = rocket2("invitations", "drop", "outsider", env=rocket.env, cwd=tmp_path)
    assert dropped.returncode == 0 and "dropped" in dropped.stdout
    assert "0 invitation(s) queued" in _listing(rocket, tmp_path)
    again = rocket2("invitations", "drop", "outsider", env=rocket.env, cwd=tmp_path)
    assert again.returncode == 1 and "no queued invitation of outsider" in again.stderr
