"""Invitations over GitHub's cap (50, or 500, within 24 hours): queued in the store, told to the
member, and sent by the ``invitation-queue`` job when GitHub takes them again
(docs/decisions/0024-invitation-queue.md).

The job runs every INVITATION_INTERVAL in each instance's scheduler; ``once_per_slot`` makes
one instance send per slot. It sends the oldest first and stops at the first one the cap still
refuses. A queued invitation leaves the queue only in the unit of work after GitHub took it, so
a restart or a crash in between sends it (again: the PUT is idempotent) on the next run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from app.github import GitHubClient, GitHubError, GitHubInvitationCapped
from app.outside import report_failure
from app.services import ScheduledJob
from app.store import QueuedInvitation, Store
from app.store.locks import once_per_slot
from config import Config

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


def scheduled_send(config: Config, now: datetime | None = None) -> tuple[int, int] | None:
    """One run of the job: (sent, left), or None if skipped (another instance) or failed."""
    store = Store.from_config(config)
    github = GitHubClient.from_config(config)
    slot = f"{INVITATION_JOB}:{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M}"
    try:
        with once_per_slot(store, INVITATION_JOB, slot) as skip:
            if skip:
                log.info("invitation queue: %s %s; skipped", slot, skip)
                return None
            sent, left = send_queued(store, github)
    except Exception as exc:  # a failure must not kill the scheduler
        report_failure("invitation queue", exc)
        return None
    finally:
        github.close()
        store.dispose()
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
    lambda config, slack, store: scheduled_send(config),
)
