"""Invitations over GitHub's cap (50, or 500, within 24 hours): queued in the store, told to the
member, and sent by the ``invitation-queue`` job when GitHub takes them again
(docs/decisions/0024-invitation-queue.md).

The job runs every INVITATION_INTERVAL; the scheduler runs it once per slot across instances.
It sends the oldest first and stops at the first one the cap still refuses. A queued invitation
leaves the queue only in the unit of work after GitHub took it, so a restart or a crash in
between sends it (again: the PUT is idempotent) on the next run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from app.feature import ScheduledJob
from app.github import GitHubClient, GitHubError, GitHubInvitationCapped
from app.services import Services
from app.store import QueuedInvitation, Store

log = logging.getLogger("rocket2.teams.invitations")

INVITATION_JOB = "invitation-queue"
INVITATION_INTERVAL = timedelta(minutes=15)
GITHUB_WINDOW = timedelta(hours=24)  # GitHub counts invitations within 24 hours


def queue(
    store: Store, github_id: int, login: str, team_slug: str = "", role: str = "member"
) -> str:
    """Queue the refused invitation; the sentence that tells the member when to expect it."""
    with store.unit_of_work() as uow:
        ahead = uow.invitation_queue.put(github_id, login, team_slug, role)
    log.info("GitHub's invitation cap: %s queued (%d ahead)", login, ahead)
    expected = datetime.now(UTC) + GITHUB_WINDOW
    return (
        "GitHub's limit on organisation invitations is reached for now, so Rocket 2 has queued "
        f"the invitation ({ahead} ahead of it) and sends it when GitHub allows: expected by "
        f"{expected:%Y-%m-%d %H:%M} UTC."
    )


def send_queued(store: Store, github: GitHubClient) -> tuple[int, int]:
    """Send the queued invitations, oldest first, until the cap refuses one: (sent, left)."""
    with store.unit_of_work() as uow:
        rows = uow.invitation_queue.waiting()
        waiting = [(q.github_id, q.team_slug, q.login, q.role) for q in rows]
    sent = 0
    for github_id, team_slug, login, role in waiting:
        try:
            if team_slug:
                github.add_team_member(team_slug, login, role=role)
            else:
                github.add_org_member(login)
        except GitHubInvitationCapped:
            break
        except GitHubError as exc:  # refused for good (account gone, team deleted): dropped
            log.warning("queued invitation of %s dropped: %s", login, exc)
        else:
            sent += 1
        with store.unit_of_work() as uow:
            uow.invitation_queue.drop(github_id, team_slug)
    return sent, len(waiting) - sent


def run_queue(services: Services, now: datetime) -> tuple[int, int]:
    """One run of the job (the scheduler runs it once per slot): (sent, left)."""
    sent, left = send_queued(services.store, services.github)
    log.info("invitation queue done: %d sent, %d waiting", sent, left)
    return sent, left


def waiting(store: Store) -> list[QueuedInvitation]:
    """The queued invitations, oldest first."""
    with store.unit_of_work() as uow:
        return uow.invitation_queue.waiting()


JOB = ScheduledJob(
    INVITATION_JOB,
    "invitation queue",
    lambda config: IntervalTrigger(seconds=INVITATION_INTERVAL.total_seconds()),
    run_queue,
)
