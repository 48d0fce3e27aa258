"""Invitations over GitHub's cap (50, or 500, within 24 hours): queued in the store, told to the
member, and sent by the ``invitation-queue`` job when GitHub takes them again
(docs/decisions/0024-invitation-queue.md, 0035-a-refused-invitation-does-not-block-the-queue.md).

The job runs every INVITATION_INTERVAL; the scheduler runs it once per slot across instances
(and reports its failure). It sends the oldest first and stops when two in a row are refused
(the cap; one refusal alone may be that account's). A refused row is counted, and parked once
refused for PARK_AFTER; one GitHub refuses for good is parked or dropped at once. Either is
told to the notification channel, once. A row leaves the queue only in the unit of work after
GitHub took it, so a crash in between sends it again (the PUT is idempotent) on the next run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from app.feature import ScheduledJob
from app.github import GitHubClient
from app.outside import report_failure
from app.services import Services
from app.slack.blocks import code
from app.store import QueuedInvitation, Store
from app.teams.invitation_attempts import Attempt, Fate, attempt

log = logging.getLogger("rocket2.teams.invitations")

INVITATION_JOB = "invitation-queue"
INVITATION_INTERVAL = timedelta(minutes=15)
GITHUB_WINDOW = timedelta(hours=24)  # GitHub counts invitations within 24 hours
GITHUB_CAP = 50  # GitHub's documented cap per window (500 for older or paid organisations)
PARK_AFTER = timedelta(days=7)  # refused this long while others went through: parked
REFUSALS_IN_A_ROW = 2  # this many refused one after another: the cap, the run stops


def expected_in(ahead: int, cap: int = GITHUB_CAP) -> timedelta:
    """When an invitation with ``ahead`` before it goes out, at most: the window with room
    for it, counting ``cap`` invitations a window (the first window is the current one)."""
    return GITHUB_WINDOW * math.ceil((ahead + 1) / cap)


def queue(
    store: Store, github_id: int, login: str, team_slug: str = "", role: str = "member"
) -> str:
    """Queue the refused invitation; the sentence that tells the member when to expect it."""
    with store.unit_of_work() as uow:
        ahead = uow.invitation_queue.put(github_id, login, team_slug, role)
    log.info("GitHub's invitation cap: %s queued (%d ahead)", login, ahead)
    expected = datetime.now(UTC) + expected_in(ahead)
    return (
        "GitHub's limit on organisation invitations is reached for now, so Rocket 2 has queued "
        f"the invitation ({ahead} ahead of it) and sends it when GitHub allows: expected by "
        f"about {expected:%Y-%m-%d %H:%M} UTC (GitHub takes at least {GITHUB_CAP} a day)."
    )


@dataclass
class Run:
    """One run's outcome: how many sent, and a notice per invitation dropped or parked."""

    sent: int = 0
    notices: list[str] = field(default_factory=list)


def _where(team_slug: str) -> str:
    return f"team {code(team_slug)}" if team_slug else "the organisation"


def _settle(store: Store, row: QueuedInvitation, tried: Attempt, run: Run) -> bool:
    """Record what became of one try; True if it counts as a refusal (maybe the cap)."""
    key, who = (row.github_id, row.team_slug), code(tried.login)
    with store.unit_of_work() as uow:
        queued = uow.invitation_queue
        if tried.login != row.login:
            queued.relogin(*key, tried.login)
        if tried.fate is Fate.SENT:
            queued.drop(*key)
            run.sent += 1
            return False
        if tried.fate is Fate.GONE:
            queued.drop(*key)
            run.notices.append(
                f"dropped the invitation of {who} to {_where(row.team_slug)}: {tried.reason}."
            )
            return False
        first = queued.refused(*key, tried.reason)
        if tried.fate is Fate.REFUSED and (first is None or first > datetime.now(UTC) - PARK_AFTER):
            return True
        queued.park(*key, tried.reason)
    run.notices.append(
        f"parked the invitation of {who} to {_where(row.team_slug)}: {tried.reason}. "
        f"`rocket2 invitations retry {tried.login}` sends it again, "
        f"`rocket2 invitations drop {tried.login}` forgets it."
    )
    return tried.fate is Fate.REFUSED


def send_queued(store: Store, github: GitHubClient, run: Run | None = None) -> tuple[Run, int]:
    """Send the queued invitations, oldest first, until REFUSALS_IN_A_ROW are refused; the
    run (``run``, filled as it goes), and how many still wait."""
    run = run if run is not None else Run()
    with store.unit_of_work() as uow:
        rows = uow.invitation_queue.waiting()
    in_a_row = 0
    for row in rows:
        tried = attempt(github, row.github_id, row.login, row.team_slug, row.role)
        in_a_row = in_a_row + 1 if _settle(store, row, tried, run) else 0
        if in_a_row >= REFUSALS_IN_A_ROW:
            break
    with store.unit_of_work() as uow:
        return run, len(uow.invitation_queue.waiting())


def _tell(slack: WebClient, channel: str, notices: list[str]) -> None:
    """Each notice to the notification channel, once (a failure is logged, not retried)."""
    for notice in notices:
        log.warning("invitation queue: %s", notice)
        try:
            slack.chat_postMessage(channel=channel, text=f"Invitation queue: Rocket 2 {notice}")
        except Exception as exc:  # the row is settled already; the log keeps the notice
            report_failure("invitation queue notice", exc)


def run_queue(services: Services, now: datetime) -> tuple[int, int]:
    """One run of the job (the scheduler runs it once per slot): (sent, left). Invitations
    dropped or parked are told to the notification channel, also after a failure."""
    run = Run()
    try:
        _, left = send_queued(services.store, services.github, run)
    finally:
        _tell(services.slack, services.config.slack_notification_channel, run.notices)
    log.info("invitation queue done: %d sent, %d waiting", run.sent, left)
    return run.sent, left


def waiting(store: Store) -> list[QueuedInvitation]:
    """The queued invitations the job sends, oldest first (not the parked ones)."""
    with store.unit_of_work() as uow:
        return uow.invitation_queue.waiting()


JOB = ScheduledJob(
    INVITATION_JOB,
    "invitation queue",
    lambda config: IntervalTrigger(seconds=INVITATION_INTERVAL.total_seconds()),
    run_queue,
)
