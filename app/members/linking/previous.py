"""The account a member linked before (L5): it leaves the organisation when Rocket 2 put it
there and it holds nothing else; otherwise the admins are told it stays.

- a *pending* invitation is cancelled (``DELETE`` membership);
- an *active* membership is removed when Rocket 2 invited the account (table ``invitations``),
  it is a plain organisation member, in no team but the default team and maintains none;
- anything else is left alone and the notification channel says so.
The login is GitHub's for the account's id now (a stored login may have changed hands), and a
membership of another account is never touched. Never raises.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.github import GitHubError, GitHubUser, Membership
from app.outside import report_failure
from app.slack.blocks import code, escape
from app.teams.mirror import is_default_team

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.linking")


def retire_previous(ctx: Services, slack_id: str, account: GitHubUser) -> str:
    """Cancel, remove or report ``account`` (see the module docstring): 'cancelled',
    'removed', 'reported', or 'none' (not in the organisation, or GitHub failed)."""
    github = ctx.github
    login = account.login
    try:
        login = github.get_user_by_id(account.id).login
        membership = github.get_org_membership(login)
        if membership is None or (membership.user is not None and membership.user.id != account.id):
            return "none"
        if membership.pending:
            github.remove_org_member(login)  # DELETE membership cancels a pending invitation
            log.info("cancelled the pending invitation of %s (the member linked another)", login)
            return "cancelled"
        kept = _what_keeps_it(ctx, account.id, membership)
        if not kept:
            github.remove_org_member(login)
            _forget(ctx, account.id)
            log.info("removed %s from the organisation (invited by Rocket 2, held nothing)", login)
            return "removed"
    except GitHubError as exc:
        log.warning("could not retire the earlier account %s: %s", login, exc)
        return "none"
    _tell_admins(ctx, slack_id, login, kept)
    return "reported"


def _what_keeps_it(ctx: Services, github_id: int, membership: Membership) -> list[str]:
    """Why the account stays in the organisation ([] when nothing keeps it)."""
    reasons = []
    with ctx.store.unit_of_work() as uow:
        if not uow.invitations.made(github_id):
            reasons.append("was not invited by Rocket 2")
        teams = [
            t.github_team_name
            for t in uow.teams.teams_of(github_id)
            if not is_default_team(ctx.config, t.github_team_name, t.slug)
        ]
        led = [t.github_team_name for t in uow.teams.teams_led_by(github_id)]
    if membership.role != "member":
        reasons.append(f"is an organisation {escape(membership.role)}")
    if teams:
        reasons.append(f"is in {escape(', '.join(teams))}")
    if led:
        reasons.append(f"maintains {escape(', '.join(led))}")
    return reasons


def _forget(ctx: Services, github_id: int) -> None:
    with ctx.store.unit_of_work() as uow:
        uow.invitations.forget(github_id)


def _tell_admins(ctx: Services, slack_id: str, login: str, kept: list[str]) -> None:
    text = (
        f":information_source: <@{slack_id}> linked another GitHub account. Their earlier "
        f"account {code(login)} stays in the organisation: it {' and '.join(kept)}. "
        "Remove it on GitHub if it is no longer needed."
    )
    try:
        ctx.slack.chat_postMessage(channel=ctx.config.slack_notification_channel, text=text)
    except Exception as exc:
        report_failure("earlier-account notice to the notification channel", exc)
