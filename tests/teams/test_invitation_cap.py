"""GitHub's cap on organisation invitations, through a real Gunicorn and the GitHub stand-in
with a cap of 1: the invitation over it is queued, the member told when to expect it,
`rocket2 invitations` lists it, and the scheduled job sends it once the stand-in's window
clock has moved on a day, also after a restart (docs/decisions/0024-invitation-queue.md).
A lead outside the organisation over the cap is queued as maintainer and made maintainer on
member_added; an invitation GitHub keeps refusing is parked, told to the notification channel,
listed, retried and dropped with `rocket2 invitations` (0035)."""

from __future__ import annotations

import os
import re
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from app.store import Permission, QueuedInvitation
from app.store.models import utcnow
from config import load_config
from tests.support import rocket as rocket_support
from tests.support.cli import rocket2
from tests.support.gunicorn import wait_until
from tests.support.webhooks import json_body, post_signed

rocket_module = rocket_support.rocket_module
rocket = rocket_support.rocket

DAY = 24 * 3600


class WindowClock:
    """The stand-in's invitation clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _club(rocket):  # type: ignore[no-untyped-def]
    """Alice (admin) and two GitHub accounts outside the organisation with Slack records;
    the stand-in takes one invitation per window."""
    ids = rocket.github.seed_small_org()
    rocket.add_user("U0ADMIN001", Permission.admin, github_username="alice", github_id=ids["alice"])
    for n in (1, 2):
        login = f"newbie{n}"
        rocket.add_user(
            f"U0NEW0000{n}", github_username=login, github_id=rocket.github.add_user(login)
        )
    assert rocket.command("team refresh", "U0ADMIN001")["text"].startswith("Mirrored")
    clock = WindowClock()
    rocket.github.invitation_cap, rocket.github.invitation_clock = 1, clock
    return clock


def _queue_newbie2(rocket) -> str:  # type: ignore[no-untyped-def]
    first = rocket.command("team add design <@U0NEW00001|newbie1>", "U0ADMIN001")
    assert "invited to the GitHub organisation" in first["text"]
    second = rocket.command("team add design <@U0NEW00002|newbie2>", "U0ADMIN001")
    assert "newbie2" not in rocket.github.invitations
    return str(second["text"])


def _run_jobs_now(server) -> None:  # type: ignore[no-untyped-def]
    started = server.wait_for_output("scheduler started")[-1]
    pid = re.search(r"pid=(\d+)", started)
    assert pid
    os.kill(int(pid.group(1)), signal.SIGUSR2)  # every scheduled job is due now


def _listing(rocket, cwd: Path) -> str:  # type: ignore[no-untyped-def]
    listed = rocket2("invitations", env=rocket.env, cwd=cwd)
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_over_the_cap_is_queued_told_listed_then_sent_when_the_window_opens(rocket, tmp_path):
    clock = _club(rocket)
    told = _queue_newbie2(rocket)
    assert "<@U0NEW00002> joins team *design* later" in told
    assert "limit on organisation invitations" in told and "expected by" in told
    listing = _listing(rocket, tmp_path)
    assert "newbie2" in listing and "team design as member" in listing
    assert "1 invitation(s) queued" in listing

    clock.now += DAY + 1  # GitHub's 24 hours have passed
    _run_jobs_now(rocket.server)
    wait_until(lambda: "newbie2" in rocket.github.invitations, what="the queued invitation")
    assert "newbie2" in rocket.github.team_logins("design")
    wait_until(lambda: "0 invitation(s) queued" in _listing(rocket, tmp_path), what="the queue")


def test_the_queue_survives_a_restart(rocket, tmp_path):
    clock = _club(rocket)
    _queue_newbie2(rocket)
    rocket.server.stop()
    rocket.server.start()
    assert "newbie2" in _listing(rocket, tmp_path)
    clock.now += DAY + 1
    _run_jobs_now(rocket.server)
    wait_until(lambda: "newbie2" in rocket.github.invitations, what="the queued invitation")
    assert "0 invitation(s) queued" in _listing(rocket, tmp_path)


def test_an_admin_link_over_the_cap_is_queued_and_said(rocket, tmp_path):
    _club(rocket)
    rocket.github.add_user("newbie3")
    rocket.add_user("U0NEW00003")
    rocket.command("team add design <@U0NEW00001|newbie1>", "U0ADMIN001")  # the window is full
    reply = rocket.command("user edit --username <@U0NEW00003|n3> --github newbie3", "U0ADMIN001")
    assert "limit on organisation invitations" in reply["text"], reply["text"]
    assert "expected by" in reply["text"]
    assert "newbie3" not in rocket.github.invitations
    listing = _listing(rocket, tmp_path)
    assert "newbie3" in listing and "the organisation" in listing


def _club_with_outsider(rocket) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Alice (admin); U0OUT00001, whose GitHub account (outsider) is outside the organisation."""
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
    ids = _club_with_outsider(rocket)
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
    _club_with_outsider(rocket)
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
    with rocket.store.unit_of_work() as uow:
        assert [q.parked_at for q in uow.invitation_queue.waiting()] == [None]
    dropped = rocket2("invitations", "drop", "outsider", env=rocket.env, cwd=tmp_path)
    assert dropped.returncode == 0 and "1 invitation(s) of outsider dropped" in dropped.stdout
    with rocket.store.unit_of_work() as uow:
        assert uow.invitation_queue.every() == []
