"""The link itself: a Slack member's record gets a GitHub login and id.

Rules, for a member's own link (``link_with_proof``, GitHub's word) and an admin's
(``invite`` + ``record`` + ``after_link`` inside the edit command's own units of work):

- an account (by GitHub id, or by login) linked to another member is refused;
- the account is invited to the organisation through the App before anything is stored;
- ``github_verified`` is True only for the member's own link through GitHub;
- at most one pending invitation per member: when the previous linked login is still a
  *pending* organisation membership, that invitation is cancelled;
- the member gets a DM, and the notification channel a line when the account maintains a team
  or is in a special (admin or leads) team.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.github import GitHubClient, GitHubError, GitHubNotFound, GitHubUser
from app.members.linking.state import LinkState
from app.outside import report_failure
from app.slack.blocks import code, escape
from app.store import AlreadyExists, UnitOfWork, User
from app.teams.mirror import RoleChange, apply_roles, pinned_team_id

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.linking")

SPECIAL_ROLES = (("admin", "admin team"), ("team_lead", "leads team"))


class LinkRefused(Exception):
    """The link was not made; nothing was stored."""


class AccountTaken(LinkRefused):
    """The GitHub account is linked to another member (``owner``)."""

    def __init__(self, login: str, owner: str) -> None:
        self.login = login
        self.owner = owner
        super().__init__(f"GitHub account {login} is linked to another member")


class LinkUsed(LinkRefused):
    """The one-time link was used already."""


class InviteFailed(LinkRefused):
    """GitHub did not invite the account (``missing``: there is no such account)."""

    def __init__(self, login: str, error: GitHubError) -> None:
        self.login = login
        self.error = error
        self.missing = isinstance(error, GitHubNotFound)
        super().__init__(f"GitHub could not invite {login}")


@dataclass(frozen=True, slots=True)
class Linked:
    """A stored link: the account, whether an invitation waits, the login it replaced, and
    the role the account's special teams gave (verified links only)."""

    account: GitHubUser
    pending: bool
    previous: GitHubUser | None
    role_change: RoleChange | None = None


def check_free(uow: UnitOfWork, account: GitHubUser, slack_id: str, *, proof: bool) -> None:
    """AccountTaken if another member holds this GitHub id or login. With GitHub's ``proof``,
    a holder whose link was not verified (typed by an admin) does not count: proof wins."""
    for owner in _holders(uow, account, slack_id):
        if not (proof and not owner.github_verified):
            raise AccountTaken(account.login, owner.slack_id)


def _holders(uow: UnitOfWork, account: GitHubUser, slack_id: str) -> list[User]:
    found = (uow.users.by_github_id(account.id), uow.users.by_github_username(account.login))
    holders = {u.slack_id: u for u in found if u is not None and u.slack_id != slack_id}
    return list(holders.values())


def _release_unverified(uow: UnitOfWork, account: GitHubUser, slack_id: str) -> None:
    """Take ``account`` off every other member holding it without proof (logged)."""
    for owner in _holders(uow, account, slack_id):
        uow.users.update(owner.slack_id, github_username="", github_id=None, github_verified=False)
        log.warning(
            "GitHub account %s moved from %s (typed, unverified) to %s (GitHub's proof)",
            account.login,
            owner.slack_id,
            slack_id,
        )
    uow.flush()


def invite(github: GitHubClient, login: str) -> tuple[GitHubUser, bool]:
    """Invite ``login`` to the organisation through the App: (account, invitation pending).

    InviteFailed when GitHub says no (or has no such account).
    """
    try:
        account = github.get_user(login)  # GitHub documents "no such account" here (404)
        membership = github.add_org_member(login)
    except GitHubError as exc:
        raise InviteFailed(login, exc) from None
    return membership.user or account, membership.pending


def record(
    uow: UnitOfWork, slack_id: str, account: GitHubUser, *, verified: bool
) -> GitHubUser | None:
    """Store the link on ``slack_id``'s record (created if absent); the account it replaced
    (None when none, or when it was the same account)."""
    check_free(uow, account, slack_id, proof=verified)
    if verified:
        _release_unverified(uow, account, slack_id)
    user, _created = uow.users.create_if_absent(slack_id)
    previous = None
    if user.github_id is not None and user.github_id != account.id:
        previous = GitHubUser(user.github_id, user.github_username)
    try:
        uow.users.update(
            slack_id,
            github_username=account.login,
            github_id=account.id,
            github_verified=verified,
        )
    except AlreadyExists:
        raise AccountTaken(account.login, "") from None
    return previous


def check_link(ctx: Services, state: LinkState, account: GitHubUser) -> None:
    """LinkUsed or AccountTaken if linking ``account`` for ``state`` would be refused now."""
    with ctx.store.unit_of_work() as uow:
        if uow.events.seen("link", state.nonce):
            raise LinkUsed("this link was used already")
        check_free(uow, account, state.slack_user, proof=True)


def link_with_proof(ctx: Services, state: LinkState, account: GitHubUser) -> Linked:
    """Link the member named by ``state`` to ``account``, which GitHub itself vouched for.

    The state's nonce is claimed in the unit of work that stores the link, so a link works
    once; a used one is refused before GitHub is asked to invite anyone.
    """
    check_link(ctx, state, account)
    account_now, pending = invite(ctx.github, account.login)
    if account_now.id != account.id:  # the login changed hands between the two calls
        raise InviteFailed(account.login, GitHubError("invite", None, "the account changed"))
    with ctx.store.unit_of_work() as uow:
        if not uow.events.claim("link", state.nonce):
            raise LinkUsed("this link was used already")
        previous = record(uow, state.slack_user, account, verified=True)
        change = apply_roles(uow, ctx.config, uow.users.require(state.slack_user))
    log.info(
        "%s linked GitHub account %s (id %d) with GitHub's proof",
        state.slack_user,
        account.login,
        account.id,
    )
    linked = Linked(account, pending, previous, change)
    after_link(ctx, state.slack_user, linked, by=None)
    return linked


def after_link(ctx: Services, slack_id: str, linked: Linked, *, by: str | None) -> None:
    """After the link is committed: cancel the previous pending invitation, tell the admins
    (when the account holds power on GitHub) and the member. Never raises."""
    if linked.previous is not None:
        cancel_pending_invitation(ctx.github, linked.previous)
    notify_admins(ctx, slack_id, linked.account, by=by, change=linked.role_change)
    tell_member(ctx, slack_id, linked, by=by)


def cancel_pending_invitation(github: GitHubClient, account: GitHubUser) -> bool:
    """Cancel ``account``'s invitation to the organisation if it is still pending; True if
    cancelled. An active membership is left alone, and so is anyone else's: the login is
    GitHub's for the account's id now (a stored login may have changed hands). Logs (never
    raises) on failure."""
    login = account.login
    try:
        login = github.get_user_by_id(account.id).login
        membership = github.get_org_membership(login)
        if membership is None or not membership.pending:
            return False
        if membership.user is not None and membership.user.id != account.id:
            return False
        github.remove_org_member(login)  # DELETE membership cancels a pending invitation
    except GitHubError as exc:
        log.warning("could not cancel the pending invitation of %s: %s", login, exc)
        return False
    log.info("cancelled the pending invitation of %s (the member linked another account)", login)
    return True


def powers(ctx: Services, github_id: int) -> list[str]:
    """What the account holds, from the store: teams it maintains, special teams it is in."""
    with ctx.store.unit_of_work() as uow:
        led = [escape(team.github_team_name) for team in uow.teams.teams_led_by(github_id)]
        member_of = {team.github_team_id for team in uow.teams.teams_of(github_id)}
        special = []
        for role, label in SPECIAL_ROLES:
            if pinned_team_id(uow, ctx.config, role) in member_of:
                special.append(f"is in the {label}")
    held = [f"maintains {', '.join(led)}"] if led else []
    return held + special


def notify_admins(
    ctx: Services,
    slack_id: str,
    account: GitHubUser,
    *,
    by: str | None,
    change: RoleChange | None = None,
) -> bool:
    """Post to the notification channel when ``account`` maintains a team or sits in a
    special team; True if posted."""
    held = powers(ctx, account.id)
    if not held:
        return False
    how = f"linked by the admin <@{by}>, not verified by GitHub" if by else "verified by GitHub"
    text = (
        f":key: <@{slack_id}> is now linked to the GitHub account {code(account.login)} "
        f"({how}), which {' and '.join(held)}."
    )
    if change is not None:
        text += f" They are {change.describe()}."
    try:
        ctx.slack.chat_postMessage(channel=ctx.config.slack_notification_channel, text=text)
    except Exception as exc:
        report_failure("link notice to the notification channel", exc)
        return False
    return True


def tell_member(ctx: Services, slack_id: str, linked: Linked, *, by: str | None) -> bool:
    """DM the member that the account is linked; True if Slack accepted it."""
    login = code(linked.account.login)
    if by:
        text = (
            f"<@{by}> linked the GitHub account {login} to your Rocket 2 record. Roles from "
            "GitHub wait until you link it yourself with `/rocket user link`."
        )
    else:
        text = f"Your GitHub account {login} is linked to Rocket 2: GitHub confirmed it is yours."
        if linked.role_change is not None:
            text += f" Its GitHub teams make you {linked.role_change.after.value} here."
    if linked.pending:
        org = escape(ctx.config.github_org_name)
        text += f" GitHub sent an invitation to the {org} organisation: accept it."
    try:
        ctx.slack.chat_postMessage(channel=slack_id, text=text)
    except Exception as exc:
        report_failure(f"link DM to {slack_id}", exc)
        return False
    return True
