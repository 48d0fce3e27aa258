"""GitHub webhook handlers for ``organization``, ``team`` and ``membership``, on ``router``.

Each takes ``(services, event, X-GitHub-Delivery)`` (``event`` as app.github.payloads decoded
it; ``services.github`` is the webhook client) and returns a DeliveryOutcome. Exactly once:
the delivery id is claimed in the same unit of work as the change. A delivery is a hint:
before it grants or removes a role or deletes a record, GitHub is asked again within the
``Budget`` (else WebhookBudgetExceeded → 503); no unit of work is open during a GitHub call.
Two deliveries inserting the same new row race on PostgreSQL: the loser runs once more.
Reasons: docs/decisions/0013-webhooks-are-hints.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from app.github import GitHubClient, GitHubDeadlineExceeded, GitHubTeam
from app.github.payloads import (
    Account,
    DeletedTeam,
    Envelope,
    MemberChange,
    MemberInvited,
    MembershipChange,
    Team,
    TeamChange,
)
from app.github.webhooks import DeliveryOutcome, Router
from app.services import Services
from app.store import Store, UnitOfWork
from app.teams import pending_leads
from app.teams.mirror import (
    RoleChange,
    create_default_team,
    github_slug,
    mirror_team,
    on_join,
    on_leave,
    once_more_on_conflict,
    reconcile_all,
    special_role,
)
from config import Config

log = logging.getLogger("rocket2.teams.webhooks")

PROCESSED, DUPLICATE, IGNORED = (
    DeliveryOutcome.PROCESSED,
    DeliveryOutcome.DUPLICATE,
    DeliveryOutcome.IGNORED,
)
SOURCE = "github"
BUDGET_SECONDS = 4.0

router: Router[Services] = Router()


@dataclass(frozen=True)
class Budget:
    """How long one delivery may spend asking GitHub, measured on ``clock``."""

    seconds: float = BUDGET_SECONDS
    clock: Callable[[], float] = time.monotonic

    def deadline(self) -> float:
        """When a delivery starting now must be done asking GitHub."""
        return self.clock() + self.seconds

    def check(self, deadline: float) -> None:
        """WebhookBudgetExceeded if ``deadline`` has passed."""
        if self.clock() > deadline:
            raise WebhookBudgetExceeded()


BUDGET = Budget()


class WebhookBudgetExceeded(GitHubDeadlineExceeded):
    """GitHub is too slow to finish the delivery within GitHub's 10 seconds; answer 503."""

    def __init__(self, operation: str = "this delivery") -> None:
        super().__init__(operation, None, "GitHub is too slow to finish this delivery in time")


@contextmanager
def _asking_github(github: GitHubClient, budget: Budget) -> Iterator[float]:
    """Bound every GitHub request inside (installation lookup, token POST and 401 retry
    included) to the time left of ``budget``; too slow → WebhookBudgetExceeded. Any other
    GitHubError propagates (→ 503: GitHub is asked again on redelivery). Yields the deadline."""
    deadline = budget.deadline()
    try:
        with github.deadline(deadline, budget.clock):
            yield deadline
    except GitHubDeadlineExceeded as exc:
        raise WebhookBudgetExceeded(exc.operation) from None


def _ours(services: Services, event: Envelope) -> bool:
    login = event.org_login()
    return login is None or login.lower() == services.config.github_org_name.lower()


def _once[T](
    store: Store, delivery: str, change: Callable[[UnitOfWork], T]
) -> tuple[bool, T | None]:
    """Claim ``delivery`` and make ``change`` in one unit of work, once more if a concurrent
    delivery inserted the same row first: (True, its result), or (False, None) when the
    delivery was processed before."""

    def work() -> tuple[bool, T | None]:
        with store.unit_of_work() as uow:
            if not uow.events.claim(SOURCE, delivery):
                return False, None
            return True, change(uow)

    return once_more_on_conflict(work)


def _seen(store: Store, delivery: str) -> bool:
    with store.unit_of_work() as uow:
        return uow.events.seen(SOURCE, delivery)


def _nothing(uow: UnitOfWork) -> None:
    return None


def _current_login(uow: UnitOfWork, member: Account) -> str:
    """The login we know for this GitHub id (kept current by refresh), else the payload's."""
    user = uow.users.by_github_id(member.id)
    return user.github_username if user is not None and user.github_username else member.login


# ---- organization -------------------------------------------------------------------------


@router.register("organization", action="member_invited")
def member_invited(services: Services, event: MemberInvited, delivery: str) -> DeliveryOutcome:
    """Log only."""
    if not _ours(services, event):
        return IGNORED
    if not _once(services.store, delivery, _nothing)[0]:
        return DUPLICATE
    org = services.config.github_org_name
    log.info("GitHub: %s invited to %s", event.invitee() or "someone", org)
    return PROCESSED


@router.register("organization", action="member_removed")
def member_removed(
    services: Services, event: MemberChange, delivery: str, *, budget: Budget = BUDGET
) -> DeliveryOutcome:
    """Unless GitHub says they are still a member: delete the member's record, drop them from
    every team and recompute every role the special teams give."""
    if not _ours(services, event):
        return IGNORED
    with services.store.unit_of_work() as uow:
        if uow.events.seen(SOURCE, delivery):
            return DUPLICATE
        login = _current_login(uow, event.user)
    with _asking_github(services.github, budget):
        membership = services.github.get_org_membership(login)
    still_member = (
        membership is not None
        and not membership.pending
        and (membership.user is None or membership.user.id == event.user.id)
    )
    forget = partial(_forget_member, services.config, event.user.id, login)
    claimed, deleted = _once(services.store, delivery, _nothing if still_member else forget)
    if not claimed:
        return DUPLICATE
    if deleted is None:
        log.info("GitHub: %s is still in the organisation; nothing deleted", login)
    else:
        log.info("GitHub: %s left the organisation; records deleted: %d", login, deleted)
    return PROCESSED


def _forget_member(config: Config, github_id: int, login: str, uow: UnitOfWork) -> int:
    """Delete the member's record and memberships; the number of records deleted."""
    deleted = uow.users.delete_by_github_id(github_id)
    for team in uow.teams.teams_of(github_id):
        uow.teams.remove_member(team.github_team_id, github_id)
    for team in uow.teams.teams_led_by(github_id):
        uow.teams.remove_lead(team.github_team_id, github_id)
    uow.invitations.forget(github_id)
    # A record that linked another account since keeps no role the account gave.
    for change in reconcile_all(uow, config):
        log.info("GitHub: %s left; %s %s", login, change.slack_id, change.describe())
    return len(deleted)


@router.register("organization", action="member_added")
def member_added(
    services: Services, event: MemberChange, delivery: str, *, budget: Budget = BUDGET
) -> DeliveryOutcome:
    """Into the default team: GitHub first, then here."""
    if not _ours(services, event):
        return IGNORED
    if _seen(services.store, delivery):
        return DUPLICATE
    login = event.user.login
    joined = _join_default_team(services, event.user, budget)
    if joined is None:
        if not _once(services.store, delivery, _nothing)[0]:
            return DUPLICATE
        log.info("GitHub: %s is not an active member (GitHub says so now); nothing added", login)
        return PROCESSED
    team, active, led = joined

    def add(uow: UnitOfWork) -> None:
        local, _ = mirror_team(uow, team.id, team.name, team.slug)
        if active:
            uow.teams.add_member(team.id, event.user.id)
            on_join(uow, services.config, local, event.user.id)
        pending_leads.mirror(uow, services.config, led, event.user.id)

    if not _once(services.store, delivery, add)[0]:
        return DUPLICATE
    log.info("GitHub: %s joined the organisation; added to team %s", login, team.name)
    return PROCESSED


def _join_default_team(
    services: Services, user: Account, budget: Budget
) -> tuple[GitHubTeam, bool, list[GitHubTeam]] | None:
    """On GitHub: the default team, whether ``user`` is an active member of it now (added if
    not in it yet) and the teams they were recorded leading (app.teams.pending_leads) where
    they are now; None when GitHub says ``user`` is not an active organisation member."""
    github = services.github
    with _asking_github(github, budget) as deadline:
        # GitHub first: a replayed old body (or a login that changed hands since) must not add
        # anyone to a team, which would invite them back to the organisation.
        now = github.get_org_membership(user.login)
        if now is None or now.pending or (now.user is not None and now.user.id != user.id):
            return None
        budget.check(deadline)
        team = _default_team(services, budget, deadline)
        budget.check(deadline)
        existing = github.get_team_membership(team.slug, user.login)
        active = existing is not None and not existing.pending
        if existing is None:
            budget.check(deadline)
            active = not github.add_team_member(team.slug, user.login).pending
        led = pending_leads.confirm(github, services.store, user.id, user.login)
    return team, active, led


def _default_team(services: Services, budget: Budget, deadline: float) -> GitHubTeam:
    """The default team: known locally, else found on GitHub, else created there."""
    name = services.config.github_default_team_name
    with services.store.unit_of_work() as uow:
        local = uow.teams.by_name(name)
        if local is not None and local.slug:
            return GitHubTeam(local.github_team_id, local.github_team_name, local.slug)
    budget.check(deadline)
    found = services.github.find_team(github_slug(name))
    if found is not None:
        return found
    budget.check(deadline)
    log.info("GitHub: default team %s missing; creating it", name)
    return create_default_team(services.github, services.config)


# ---- team ---------------------------------------------------------------------------------


@router.register("team", action="created")
@router.register("team", action="edited")
def team_mirrored(services: Services, event: TeamChange, delivery: str) -> DeliveryOutcome:
    """Store or rename the team."""
    team = event.team
    slug = team.slug or github_slug(team.name)
    return _team_changed(services, event, delivery, partial(_mirror, team, slug))


@router.register("team", action="deleted")
def team_deleted(services: Services, event: TeamChange, delivery: str) -> DeliveryOutcome:
    """Delete the team."""
    team_id = event.team.id
    return _team_changed(services, event, delivery, lambda uow: uow.teams.delete(team_id))


def _mirror(team: Team, slug: str, uow: UnitOfWork) -> None:
    mirror_team(uow, team.id, team.name, slug)


def _team_changed(
    services: Services, event: TeamChange, delivery: str, change: Callable[[UnitOfWork], object]
) -> DeliveryOutcome:
    if not _ours(services, event):
        return IGNORED
    if not _once(services.store, delivery, change)[0]:
        return DUPLICATE
    log.info("GitHub: team %s %s", event.team.name, event.action)
    return PROCESSED


# ---- membership ---------------------------------------------------------------------------


@router.register("membership", action="added")
@router.register("membership", action="removed")
def membership_changed(
    services: Services, event: MembershipChange, delivery: str, *, budget: Budget = BUDGET
) -> DeliveryOutcome:
    """Update the team's members (its leads are untouched), creating the team from the payload
    if we did not know it; a deleted team is deleted. For a pinned special team, GitHub's
    answer now (not the action) says whether they are in it; joining promotes a verified
    member, leaving demotes."""
    member, team = event.member, event.team
    if not _ours(services, event) or event.scope != "team" or member is None:
        return IGNORED
    if isinstance(team, DeletedTeam):
        claimed = _once(services.store, delivery, lambda uow: uow.teams.delete(team.id))[0]
        return PROCESSED if claimed else DUPLICATE
    slug = team.slug or github_slug(team.name)
    is_member = event.action == "added"
    with services.store.unit_of_work() as uow:
        if uow.events.seen(SOURCE, delivery):
            return DUPLICATE
        ask = _whom_to_ask(uow, services.config, team.id, slug, member)
    if ask is not None:  # a role depends on it: GitHub decides, not the payload
        is_member = _direct_member_now(services.github, *ask, budget)
    record = partial(_record_membership, services.config, team, slug, member.id, is_member)
    claimed, role = _once(services.store, delivery, record)
    if not claimed:
        return DUPLICATE
    log.info(
        "GitHub: %s %s team %s%s",
        member.login,
        "is in" if is_member else "is not in",
        team.name,
        f"; {role.slack_id} {role.describe()}" if role else "",
    )
    return PROCESSED


def _whom_to_ask(
    uow: UnitOfWork, config: Config, team_id: int, slug: str, member: Account
) -> tuple[str, str] | None:
    """(team slug, login) to ask GitHub about when the team is a pinned special one, else None."""
    if special_role(uow, config, team_id) is None:
        return None
    local = uow.teams.get(team_id)
    ask_slug = local.slug if local is not None and local.slug else slug
    return ask_slug, _current_login(uow, member)


def _direct_member_now(github: GitHubClient, slug: str, login: str, budget: Budget) -> bool:
    """Whether GitHub says ``login`` is an active, direct member of the team now."""
    with _asking_github(github, budget):
        membership = github.get_team_membership(slug, login)
        # Only the team's own members hold its role, not a child team's (0022).
        return (
            membership is not None
            and not membership.pending
            and github.is_direct_team_member(slug, login)
        )


def _record_membership(
    config: Config, team: Team, slug: str, github_id: int, is_member: bool, uow: UnitOfWork
) -> RoleChange | None:
    local, _ = mirror_team(uow, team.id, team.name, slug)
    if is_member:
        uow.teams.add_member(team.id, github_id)
        return on_join(uow, config, local, github_id)
    uow.teams.remove_member(team.id, github_id)
    return on_leave(uow, config, local, github_id)
