"""GitHub webhook handlers for ``organization``, ``team`` and ``membership`` (checked shapes).

Each takes ``(payload, X-GitHub-Delivery)`` and returns an ``DeliveryOutcome``. Exactly once: the
delivery id is claimed in the same unit of work as the change. A delivery is a hint: before it
grants or removes a role or deletes a record, GitHub is asked again, within ``BUDGET_SECONDS``
(else WebhookBudgetExceeded → 503); no unit of work is open during a GitHub call. Two
deliveries inserting the same new row race on PostgreSQL: the loser runs once more. Reasons:
docs/decisions/0013-webhooks-are-hints.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.github import GitHubClient, GitHubDeadlineExceeded, GitHubTeam
from app.github.webhooks import DeliveryOutcome, WebhookHandler
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
WEBHOOK_TIMEOUT_SECONDS = 2.0


class WebhookBudgetExceeded(GitHubDeadlineExceeded):
    """GitHub is too slow to finish the delivery within GitHub's 10 seconds; answer 503."""

    def __init__(self, operation: str = "this delivery") -> None:
        super().__init__(operation, None, "GitHub is too slow to finish this delivery in time")


def webhook_client(config: Config) -> GitHubClient:
    """A GitHub client for the webhook path: 2 s timeout and a single attempt per call."""
    return GitHubClient.from_config(config, timeout=WEBHOOK_TIMEOUT_SECONDS, max_attempts=1)


def _user(obj: Any) -> tuple[int, str]:
    """(id, login) of a webhook user object; TypeError/KeyError/ValueError if malformed."""
    if not isinstance(obj, dict):
        raise TypeError("user object expected")
    return int(obj["id"]), str(obj["login"])


def _team(obj: Any) -> tuple[int, str, str]:
    """(id, name, slug) of a webhook team object."""
    if not isinstance(obj, dict):
        raise TypeError("team object expected")
    name = str(obj["name"])
    return int(obj["id"]), name, str(obj.get("slug") or github_slug(name))


def _require_delivery(delivery: str) -> None:
    if not delivery:
        raise ValueError("X-GitHub-Delivery is missing")


class TeamWebhooks:
    """The three handlers, bound to a store, a GitHub client and the config."""

    def __init__(
        self,
        store: Store,
        github: GitHubClient,
        config: Config,
        budget_seconds: float = BUDGET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.github = github
        self.config = config
        self.budget_seconds = budget_seconds
        self.clock = clock

    def handlers(self) -> dict[str, WebhookHandler]:
        """X-GitHub-Event → handler."""
        return {
            "organization": self.organization,
            "team": self.team,
            "membership": self.membership,
        }

    def _our_org(self, payload: dict[str, Any]) -> bool:
        org = payload.get("organization")
        login = org.get("login") if isinstance(org, dict) else None
        return login is None or str(login).lower() == self.config.github_org_name.lower()

    # ---- organization ---------------------------------------------------------------------

    def organization(self, payload: dict[str, Any], delivery: str) -> DeliveryOutcome:
        """member_added → into the default team (GitHub, then here); member_removed → delete
        the member's record, drop them from every team and recompute every role the special
        teams give; member_invited → log only."""
        _require_delivery(delivery)
        action = payload.get("action")
        if not self._our_org(payload) or action not in (
            "member_added",
            "member_removed",
            "member_invited",
        ):
            return IGNORED
        if action == "member_invited":
            invited = payload.get("user") or (payload.get("invitation") or {})
            login = invited.get("login") if isinstance(invited, dict) else None
            if not self._once(delivery, lambda uow: None)[0]:
                return DUPLICATE
            log.info("GitHub: %s invited to %s", login or "someone", self.config.github_org_name)
            return PROCESSED
        github_id, login = _user(payload["membership"]["user"])
        if action == "member_removed":
            return self._member_removed(delivery, github_id, login)
        return self._member_added(delivery, github_id, login)

    def _member_removed(self, delivery: str, github_id: int, login: str) -> DeliveryOutcome:
        with self.store.unit_of_work() as uow:
            if uow.events.seen(SOURCE, delivery):
                return DUPLICATE
            login = self._current_login(uow, github_id, login)
        with self._asking_github():
            membership = self.github.get_org_membership(login)
        still_member = (
            membership is not None
            and not membership.pending
            and (membership.user is None or membership.user.id == github_id)
        )

        def remove(uow: UnitOfWork) -> int | None:
            if still_member:
                return None
            deleted = uow.users.delete_by_github_id(github_id)
            for team in uow.teams.teams_of(github_id):
                uow.teams.remove_member(team.github_team_id, github_id)
            for team in uow.teams.teams_led_by(github_id):
                uow.teams.remove_lead(team.github_team_id, github_id)
            uow.invitations.forget(github_id)
            # A record that linked another account since keeps no role the account gave.
            for change in reconcile_all(uow, self.config):
                log.info("GitHub: %s left; %s %s", login, change.slack_id, change.describe())
            return len(deleted)

        claimed, deleted = self._once(delivery, remove)
        if not claimed:
            return DUPLICATE
        if deleted is None:
            log.info("GitHub: %s is still in the organisation; nothing deleted", login)
        else:
            log.info("GitHub: %s left the organisation; records deleted: %d", login, deleted)
        return PROCESSED

    @staticmethod
    def _current_login(uow: UnitOfWork, github_id: int, login: str) -> str:
        """The login we know for this GitHub id (kept current by refresh), else the payload's."""
        user = uow.users.by_github_id(github_id)
        return user.github_username if user is not None and user.github_username else login

    @contextmanager
    def _asking_github(self) -> Iterator[None]:
        """Bound the GitHub calls inside to BUDGET_SECONDS; too slow → WebhookBudgetExceeded.
        Any other GitHubError propagates (→ 503: GitHub is asked again on redelivery)."""
        deadline = self.clock() + self.budget_seconds
        try:
            with self.github.deadline(deadline, self.clock):
                yield
        except GitHubDeadlineExceeded as exc:
            raise WebhookBudgetExceeded(exc.operation) from None

    def _member_added(self, delivery: str, github_id: int, login: str) -> DeliveryOutcome:
        with self.store.unit_of_work() as uow:
            if uow.events.seen(SOURCE, delivery):
                return DUPLICATE
        deadline = self.clock() + self.budget_seconds
        try:
            # Every request below (installation lookup, token POST and 401 retry included) gets
            # at most the time left, so the budget holds even when each call is slow.
            with self.github.deadline(deadline, self.clock):
                # GitHub first: a replayed old body (or a login that changed hands since) must
                # not add anyone to a team, which would invite them back to the organisation.
                now = self.github.get_org_membership(login)
                if (
                    now is None
                    or now.pending
                    or (now.user is not None and now.user.id != github_id)
                ):
                    return self._not_a_member(delivery, login)
                self._within(deadline)
                team = self._default_team(deadline)
                self._within(deadline)
                existing = self.github.get_team_membership(team.slug, login)
                active = existing is not None and not existing.pending
                if existing is None:
                    self._within(deadline)
                    active = not self.github.add_team_member(team.slug, login).pending
                led = pending_leads.confirm(self.github, self.store, github_id, login)
        except GitHubDeadlineExceeded as exc:
            raise WebhookBudgetExceeded(exc.operation) from None

        def add(uow: UnitOfWork) -> None:
            local, _ = mirror_team(uow, team.id, team.name, team.slug)
            if active:
                uow.teams.add_member(team.id, github_id)
                on_join(uow, self.config, local, github_id)
            pending_leads.mirror(uow, self.config, led, github_id)

        if not self._once(delivery, add)[0]:
            return DUPLICATE
        log.info("GitHub: %s joined the organisation; added to team %s", login, team.name)
        return PROCESSED

    def _not_a_member(self, delivery: str, login: str) -> DeliveryOutcome:
        if not self._once(delivery, lambda uow: None)[0]:
            return DUPLICATE
        log.info("GitHub: %s is not an active member (GitHub says so now); nothing added", login)
        return PROCESSED

    def _once[T](self, delivery: str, change: Callable[[UnitOfWork], T]) -> tuple[bool, T | None]:
        """Claim ``delivery`` and make ``change`` in one unit of work, once more if a concurrent
        delivery inserted the same row first: (True, its result), or (False, None) when the
        delivery was processed before."""

        def work() -> tuple[bool, T | None]:
            with self.store.unit_of_work() as uow:
                if not uow.events.claim(SOURCE, delivery):
                    return False, None
                return True, change(uow)

        return once_more_on_conflict(work)

    def _within(self, deadline: float) -> None:
        if self.clock() > deadline:
            raise WebhookBudgetExceeded()

    def _default_team(self, deadline: float) -> GitHubTeam:
        """The default team: known locally, else found on GitHub, else created there."""
        name = self.config.github_default_team_name
        with self.store.unit_of_work() as uow:
            local = uow.teams.by_name(name)
            if local is not None and local.slug:
                return GitHubTeam(local.github_team_id, local.github_team_name, local.slug)
        self._within(deadline)
        found = self.github.find_team(github_slug(name))
        if found is not None:
            return found
        self._within(deadline)
        log.info("GitHub: default team %s missing; creating it", name)
        return create_default_team(self.github, self.config)

    # ---- team -----------------------------------------------------------------------------

    def team(self, payload: dict[str, Any], delivery: str) -> DeliveryOutcome:
        """created/edited → store or rename the team; deleted → delete it."""
        _require_delivery(delivery)
        action = payload.get("action")
        if not self._our_org(payload) or action not in ("created", "edited", "deleted"):
            return IGNORED
        team_id, name, slug = _team(payload["team"])

        def change(uow: UnitOfWork) -> None:
            if action == "deleted":
                uow.teams.delete(team_id)
            else:
                mirror_team(uow, team_id, name, slug)

        if not self._once(delivery, change)[0]:
            return DUPLICATE
        log.info("GitHub: team %s %s", name, action)
        return PROCESSED

    # ---- membership -----------------------------------------------------------------------

    def membership(self, payload: dict[str, Any], delivery: str) -> DeliveryOutcome:
        """added/removed → update the team's members (its leads are untouched), creating the
        team from the payload if we did not know it. For a pinned special team, GitHub's
        answer now (not the action) says whether they are in it; joining promotes a verified
        member, leaving demotes."""
        _require_delivery(delivery)
        action = payload.get("action")
        if (
            not self._our_org(payload)
            or payload.get("scope", "team") != "team"
            or action not in ("added", "removed")
            or payload.get("member") is None
        ):
            return IGNORED
        github_id, login = _user(payload["member"])
        team_obj = payload["team"]
        if not isinstance(team_obj, dict):
            raise TypeError("team object expected")
        if team_obj.get("deleted"):
            team_id, name, slug = int(team_obj["id"]), str(team_obj.get("name", "")), ""
        else:
            team_id, name, slug = _team(team_obj)

        is_member = action == "added"
        if not team_obj.get("deleted"):
            with self.store.unit_of_work() as uow:
                if uow.events.seen(SOURCE, delivery):
                    return DUPLICATE
                special = special_role(uow, self.config, team_id) is not None
                local = uow.teams.get(team_id)
                ask_slug = local.slug if local is not None and local.slug else slug
                ask_login = self._current_login(uow, github_id, login)
            if special:  # a role depends on it: GitHub decides, not the payload
                with self._asking_github():
                    membership = self.github.get_team_membership(ask_slug, ask_login)
                    # Only the team's own members hold its role, not a child team's (0022).
                    is_member = (
                        membership is not None
                        and not membership.pending
                        and self.github.is_direct_team_member(ask_slug, ask_login)
                    )

        def change(uow: UnitOfWork) -> RoleChange | None:
            team, _ = mirror_team(uow, team_id, name, slug)
            if is_member:
                uow.teams.add_member(team_id, github_id)
                return on_join(uow, self.config, team, github_id)
            uow.teams.remove_member(team_id, github_id)
            return on_leave(uow, self.config, team, github_id)

        if team_obj.get("deleted"):
            claimed = self._once(delivery, lambda uow: uow.teams.delete(team_id))[0]
            return PROCESSED if claimed else DUPLICATE
        claimed, role = self._once(delivery, change)
        if not claimed:
            return DUPLICATE
        log.info(
            "GitHub: %s %s team %s%s",
            login,
            "is in" if is_member else "is not in",
            name,
            f"; {role.slack_id} {role.describe()}" if role else "",
        )
        return PROCESSED


def event_handlers(store: Store, github: GitHubClient, config: Config) -> dict[str, WebhookHandler]:
    """X-GitHub-Event → handler for the team mirroring events."""
    return TeamWebhooks(store, github, config).handlers()
