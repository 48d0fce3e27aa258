"""The second factor for a link that gives power (docs/decisions/0018-a-link-cannot-be-phished.md).

GitHub's web flow proves who holds the account, not that they meant to give it to this Slack
member: a phished click proves the same. So when the account would give its member power (it
is in a pinned special team, GitHub says now, or maintains a team) or would be taken off another
member's record, one more thing is needed:

- automatic: one of the account's e-mails that GitHub verified is the Slack member's e-mail; or
- an admin approves it in Slack: ``request_approval`` tells the notification channel and stores
  the request; ``approve_link`` (`/rocket user approve @member LOGIN`) completes it.
A link that gives nothing needs neither.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from app.github import GitHubError, GitHubUser
from app.members.linking.links import (
    InviteFailed,
    Linked,
    LinkUsed,
    NoticeFailed,
    Proven,
    check_free,
    check_link,
    complete_link,
    holders,
    powers,
)
from app.outside import report_failure
from app.slack.blocks import code
from app.teams.mirror import SPECIAL_ROLES, pinned_team_id

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.linking")

APPROVAL_TTL = timedelta(days=1)


class NoRequest(Exception):
    """No link of that account waits for approval for that member (or it is too old)."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """The link waits for an admin: what the account would give (``reasons``)."""

    reasons: list[str]


def special_now(ctx: Services, account: GitHubUser) -> dict[int, bool]:
    """GitHub's answer now: pinned special team id → whether ``account`` is an active member.
    InviteFailed (GitHub unavailable) when GitHub cannot say."""
    teams = []
    with ctx.store.unit_of_work() as uow:
        for role, _permission in SPECIAL_ROLES:
            team_id = pinned_team_id(uow, ctx.config, role)
            team = uow.teams.get(team_id) if team_id is not None else None
            if team is not None and team.slug:
                teams.append((team.github_team_id, team.slug))
    answer = {}
    try:
        for team_id, slug in teams:
            membership = ctx.github.get_team_membership(slug, account.login)
            answer[team_id] = membership is not None and not membership.pending
    except GitHubError as exc:
        raise InviteFailed(account.login, exc) from None
    return answer


def reasons_for_factor(
    ctx: Services, slack_id: str, account: GitHubUser, now: dict[int, bool]
) -> list[str]:
    """Why this link needs a second factor ([] when it does not)."""
    reasons = powers(ctx, account.id, now)
    with ctx.store.unit_of_work() as uow:
        taken = [f"is linked to <@{u.slack_id}> now" for u in holders(uow, account, slack_id)]
    return reasons + taken


def confirm_link(
    ctx: Services, slack_id: str, nonce: str, account: GitHubUser, *, email_match: bool
) -> Linked | Waiting:
    """The account holder confirmed: link at once when no factor is needed or the e-mails
    match; otherwise ask the admins (the link then waits, and this state is used up)."""
    check_link(ctx, nonce, slack_id, account)
    now = special_now(ctx, account)
    reasons = reasons_for_factor(ctx, slack_id, account, now)
    if not reasons or email_match:
        how = "the Slack and GitHub e-mails match" if reasons else ""
        return complete_link(ctx, Proven(slack_id, account, how, now), nonce=nonce)
    request_approval(ctx, slack_id, nonce, account, reasons)
    return Waiting(reasons)


def request_approval(
    ctx: Services, slack_id: str, nonce: str, account: GitHubUser, reasons: list[str]
) -> None:
    """Tell the notification channel, then store the request and use up the state.
    NoticeFailed (nothing stored) if Slack did not take the message."""
    text = (
        f":warning: <@{slack_id}> asks to link the GitHub account {code(account.login)}, "
        f"which {' and '.join(reasons)}. GitHub confirmed its holder approved, but none of its "
        "verified e-mails is this member's Slack e-mail, so *nothing is linked or granted "
        "yet*. If the account really is theirs, an admin approves within a day with "
        f"`/rocket user approve @them {account.login}`, naming <@{slack_id}> as @them."
    )
    try:
        ctx.slack.chat_postMessage(channel=ctx.config.slack_notification_channel, text=text)
    except Exception as exc:
        report_failure("link approval request to the notification channel", exc)
        raise NoticeFailed("the notification channel could not be told") from None
    with ctx.store.unit_of_work() as uow:
        if not uow.events.claim("link", nonce):
            raise LinkUsed("this link was used already")
        uow.link_requests.put(slack_id, account.id, account.login)
    log.info("%s asked to link %s; waiting for an admin", slack_id, account.login)


def approve_link(ctx: Services, admin: str, slack_id: str, login: str) -> Linked:
    """An admin approves ``slack_id``'s waiting link of ``login``: complete it (GitHub is
    asked again about the special teams). NoRequest, AccountTaken or LinkRefused."""
    with ctx.store.unit_of_work() as uow:
        request = uow.link_requests.get(slack_id, max_age=APPROVAL_TTL)
        if request is None or request.github_login.lower() != login.lower():
            raise NoRequest(f"no link of {login} waits for {slack_id}")
        account = GitHubUser(request.github_id, request.github_login)
        check_free(uow, account, slack_id, proof=True)
    now = special_now(ctx, account)
    how = f"approved by the admin <@{admin}>"
    return complete_link(ctx, Proven(slack_id, account, how, now), nonce=None)
