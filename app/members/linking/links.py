"""The link itself: a Slack member's record gets a GitHub login and id.

Rules, for a member's own link (``complete_link``, GitHub's word plus a second factor when the
account gives power: app.members.linking.factor) and an admin's (``invite`` + ``record`` +
``after_link`` inside the edit command's own units of work):

- an account (by GitHub id, or by login) linked to another member is refused, unless GitHub
  proved it and the holder's link was typed (then it moves, and the holder's role is recomputed);
- the account is invited to the organisation through the App before anything is stored;
- ``github_verified`` is True only for the member's own link through GitHub;
- every link recomputes the member's role from GitHub's special teams (app.teams.mirror);
- the notification channel hears of a proven link that gives power *before* it is stored; if
  Slack cannot be told, nothing is linked;
- the earlier account is retired (app.members.linking.previous), and the member gets a DM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.github import (
    GitHubClient,
    GitHubError,
    GitHubInvitationCapped,
    GitHubNotFound,
    GitHubUser,
)
from app.members.linking.previous import retire_previous
from app.outside import report_failure
from app.slack.blocks import code, escape
from app.store import AlreadyExists, Permission, Store, UnitOfWork, User
from app.teams.invitations import queue
from app.teams.mirror import RoleChange, pinned_team_id, reconcile
from config import Config

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


class NoticeFailed(LinkRefused):
    """The notification channel could not be told before a role was given."""


@dataclass(frozen=True, slots=True)
class Linked:
    """A stored link: the account, whether an invitation waits, the login it replaced, and
    the role change the link made."""

    account: GitHubUser
    pending: bool
    previous: GitHubUser | None
    role_change: RoleChange | None = None
    later: str = ""  # when the invitation GitHub's cap refused is expected (queued)


def check_free(uow: UnitOfWork, account: GitHubUser, slack_id: str, *, proof: bool) -> None:
    """AccountTaken if another member holds this GitHub id or login. With GitHub's ``proof``,
    a holder whose link was not verified (typed by an admin) does not count: proof wins."""
    for owner in holders(uow, account, slack_id):
        if not (proof and not owner.github_verified):
            raise AccountTaken(account.login, owner.slack_id)


def holders(uow: UnitOfWork, account: GitHubUser, slack_id: str) -> list[User]:
    """The other members holding this account (by GitHub id or login)."""
    found = (uow.users.by_github_id(account.id), uow.users.by_github_username(account.login))
    held = {u.slack_id: u for u in found if u is not None and u.slack_id != slack_id}
    return list(held.values())


def _release_unverified(uow: UnitOfWork, account: GitHubUser, slack_id: str) -> list[str]:
    """Take ``account`` off every other member holding it without proof (logged); their ids."""
    released = []
    for owner in holders(uow, account, slack_id):
        uow.users.update(owner.slack_id, github_username="", github_id=None, github_verified=False)
        released.append(owner.slack_id)
        log.warning(
            "GitHub account %s moved from %s (typed, unverified) to %s (GitHub's proof)",
            account.login,
            owner.slack_id,
            slack_id,
        )
    uow.flush()
    return released


def invite(github: GitHubClient, store: Store, login: str) -> tuple[GitHubUser, bool, str]:
    """Invite ``login`` to the organisation through the App: (account, invitation pending,
    when a queued one is expected: "" unless GitHub's cap refused it and it was queued).

    InviteFailed when GitHub says no (or has no such account).
    """
    try:
        account = github.get_user(login)  # GitHub documents "no such account" here (404)
        membership = github.add_org_member(login)
    except GitHubInvitationCapped:
        return account, True, queue(store, account.id, account.login)
    except GitHubError as exc:
        raise InviteFailed(login, exc) from None
    return membership.user or account, membership.pending, ""


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


def check_link(ctx: Services, nonce: str, slack_id: str, account: GitHubUser) -> None:
    """LinkUsed or AccountTaken if linking ``account`` to ``slack_id`` would be refused now."""
    with ctx.store.unit_of_work() as uow:
        if uow.events.seen("link", nonce):
            raise LinkUsed("this link was used already")
        check_free(uow, account, slack_id, proof=True)


@dataclass(frozen=True, slots=True)
class Proven:
    """A link GitHub proved, ready to store: who, which account, how the second factor was
    met ("" when none was needed), and GitHub's answer now for each special team id."""

    slack_id: str
    account: GitHubUser
    how: str
    special_now: dict[int, bool]


def complete_link(ctx: Services, proven: Proven, *, nonce: str | None) -> Linked:
    """Invite, tell the channel (when the account gives power), then store the proven link,
    the special teams' membership GitHub gave now, and the member's recomputed role.

    ``nonce`` (the state's) is claimed in that unit of work, so a link works once.
    """
    account_now, pending, later = invite(ctx.github, ctx.store, proven.account.login)
    if account_now.id != proven.account.id:  # the login changed hands between the two calls
        error = GitHubError("invite", None, "the account changed")
        raise InviteFailed(proven.account.login, error)
    _announce(ctx, proven)
    with ctx.store.unit_of_work() as uow:
        if nonce is not None and not uow.events.claim("link", nonce):
            raise LinkUsed("this link was used already")
        released = [u.slack_id for u in holders(uow, proven.account, proven.slack_id)]
        previous = record(uow, proven.slack_id, proven.account, verified=True)
        _mirror_special(uow, proven.account.id, proven.special_now)
        for other in released:
            reconcile(uow, ctx.config, uow.users.require(other))
        change = reconcile(uow, ctx.config, uow.users.require(proven.slack_id))
        if pending:
            uow.invitations.record(proven.account.id, proven.account.login)
        uow.link_requests.drop(proven.slack_id)
    log.info(
        "%s linked GitHub account %s (id %d) with GitHub's proof%s",
        proven.slack_id,
        proven.account.login,
        proven.account.id,
        f" ({proven.how})" if proven.how else "",
    )
    linked = Linked(proven.account, pending, previous, change, later)
    after_link(ctx, proven.slack_id, linked, by=None)
    return linked


def _mirror_special(uow: UnitOfWork, github_id: int, special_now: dict[int, bool]) -> None:
    """Store GitHub's answer now about the account in each special team."""
    for team_id, member in special_now.items():
        if uow.teams.get(team_id) is None:
            continue
        if member:
            uow.teams.add_member(team_id, github_id)
        else:
            uow.teams.remove_member(team_id, github_id)


def _announce(ctx: Services, proven: Proven) -> None:
    """Tell the notification channel, before anything is stored, that an account holding
    power is being linked and what it gives; NoticeFailed if Slack did not take it."""
    held = powers(ctx, proven.account.id, proven.special_now)
    if not held:
        return
    role = _role_given(ctx, proven)
    how = f"verified by GitHub, {proven.how}" if proven.how else "verified by GitHub"
    text = (
        f":key: <@{proven.slack_id}> is being linked to the GitHub account "
        f"{code(proven.account.login)} ({how}), which {' and '.join(held)}."
    )
    if role is not None:
        text += f" They become {role.value} in Rocket 2."
    if not _notify(ctx, text):
        raise NoticeFailed("the notification channel could not be told")


def _role_given(ctx: Services, proven: Proven) -> Permission | None:
    """The role the link would raise the member to, or None."""
    with ctx.store.unit_of_work() as uow:
        user = uow.users.get(proven.slack_id)
        now = user.permission if user is not None else Permission.member
        granted = user.granted_permission if user is not None else Permission.member
        from_github = account_role(uow, ctx.config, proven.account.id, proven.special_now)
    wanted = max(granted, from_github, key=lambda p: p.rank)
    return wanted if wanted > now else None


def account_role(
    uow: UnitOfWork, config: Config, github_id: int, special_now: dict[int, bool] | None = None
) -> Permission:
    """The role the special teams give this account once proven: GitHub's answer now where
    given, else the mirror; admin before team_lead."""
    for role, _label in SPECIAL_ROLES:
        team_id = pinned_team_id(uow, config, role)
        if team_id is None:
            continue
        if special_now is not None and team_id in special_now:
            inside = special_now[team_id]
        else:
            team = uow.teams.get(team_id)
            inside = team is not None and github_id in team.members
        if inside:
            return Permission(role)
    return Permission.member


def after_link(ctx: Services, slack_id: str, linked: Linked, *, by: str | None) -> None:
    """After the link is committed: retire the earlier account, tell the admins of an admin's
    link to an account holding power, and DM the member. Never raises."""
    if linked.previous is not None:
        retire_previous(ctx, slack_id, linked.previous)
    if by is not None:
        notify_admins(ctx, slack_id, linked.account, by=by, change=linked.role_change)
    tell_member(ctx, slack_id, linked, by=by)


def powers(ctx: Services, github_id: int, special_now: dict[int, bool] | None = None) -> list[str]:
    """What the account holds: teams it maintains (the mirror), special teams it is in
    (GitHub's answer now when given, else the mirror)."""
    with ctx.store.unit_of_work() as uow:
        led = [escape(team.github_team_name) for team in uow.teams.teams_led_by(github_id)]
        member_of = {team.github_team_id for team in uow.teams.teams_of(github_id)}
        special = []
        for role, label in SPECIAL_ROLES:
            team_id = pinned_team_id(uow, ctx.config, role)
            if team_id is None:
                continue
            known = special_now is not None and team_id in special_now
            inside = special_now[team_id] if known and special_now else team_id in member_of
            if inside:
                special.append(f"is in the {label}")
    held = [f"maintains {', '.join(led)}"] if led else []
    return held + special


def notify_admins(
    ctx: Services,
    slack_id: str,
    account: GitHubUser,
    *,
    by: str,
    change: RoleChange | None = None,
) -> bool:
    """Post to the notification channel when an admin linked an account that maintains a team
    or sits in a special team; True if posted."""
    held = powers(ctx, account.id)
    if not held:
        return False
    text = (
        f":key: <@{slack_id}> is now linked to the GitHub account {code(account.login)} "
        f"(linked by the admin <@{by}>, not verified by GitHub), which {' and '.join(held)}."
    )
    if change is not None:
        text += f" They are {change.describe()}."
    return _notify(ctx, text)


def _notify(ctx: Services, text: str) -> bool:
    """Post ``text`` to the notification channel; False (the failure logged once) if Slack
    did not take it."""
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
        change = linked.role_change
        if change is not None and change.promoted and not change.kept:
            text += f" Its GitHub teams make you {change.after.value} here."
    if linked.later:
        text += f" {linked.later}"
    elif linked.pending:
        org = escape(ctx.config.github_org_name)
        text += f" GitHub sent an invitation to the {org} organisation: accept it."
    try:
        ctx.slack.chat_postMessage(channel=slack_id, text=text)
    except Exception as exc:
        report_failure(f"link DM to {slack_id}", exc)
        return False
    return True
