"""`/rocket user add|view|edit|link|delete`: member records.

Permissions: anyone may add and view records and edit their own; only admins
may edit someone else (``--username``), change a permission (``--permission``) or delete.
A member links their GitHub account with ``link`` (GitHub's web flow: GitHub proves the account
is theirs). Only an admin may link an account with ``edit --github`` (anyone's, their own too):
that link is not verified by GitHub (``github_verified`` False) and is logged. Either way GitHub
is asked first (invite to the organisation) and the database is written only when it said yes.
"""

from __future__ import annotations

import logging
from typing import Any

from app import sizes
from app.github import GitHubError, GitHubUser
from app.members.linking import factor, links
from app.members.linking.oauth import link_url
from app.members.linking.state import TTL_SECONDS, StateSigner
from app.services import Services
from app.slack import blocks
from app.slack.commands import converters as fields
from app.slack.commands.errors import CommandError
from app.slack.commands.parsing import CommandParser, slack_user
from app.slack.commands.permissions import permission_of, require
from app.slack.commands.registry import Call, CommandGroup
from app.store import Permission, Team, UnitOfWork, User
from app.teams.mirror import RoleChange, reconcile

log = logging.getLogger("rocket2.linking")
group = CommandGroup("user", "member records")

EDITABLE = (
    # (option, model field, label, converter)
    ("--name", "name", "name", fields.text(sizes.NAME)),
    ("--email", "email", "e-mail", fields.email),
    ("--pos", "position", "position", fields.text(sizes.NAME)),
    ("--major", "major", "major", fields.text(sizes.NAME)),
    ("--bio", "biography", "biography", fields.text(sizes.BIO)),
)


# ---- add ---------------------------------------------------------------------------------


def _add_args(parser: CommandParser) -> None:
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="replace your existing record with a blank one (an admin's grant is kept)",
    )


@group.command("add", "create your member record", _add_args)
def add(services: Services, call: Call) -> blocks.Message:
    """Create the caller's blank record; with -f, replace an existing one."""
    with services.store.unit_of_work() as uow:
        existing = uow.users.get(call.caller)
        if existing is not None and not call.args.force:
            raise CommandError(
                "You already have a member record. `/rocket user view` shows it, "
                "`/rocket user edit` changes it, and `/rocket user add -f` replaces it "
                "with a blank one."
            )
        if existing is None:
            uow.users.create_if_absent(call.caller)
            return blocks.ok(
                "Your member record is created. Next: `/rocket user link` to link your GitHub "
                "account and join the GitHub organisation."
            )
        uow.users.replace(
            call.caller,
            permission=existing.permission,
            granted_permission=existing.granted_permission,
        )
        user = uow.users.require(call.caller)
        change = reconcile(uow, services.config, user)
        now = user.permission.value
    ended = f" Your GitHub link is cleared, so {change.describe()}." if change else ""
    return blocks.ok(
        f"Your member record was replaced with a blank one (permission {now}, karma back "
        f"to 1).{ended}"
    )


# ---- view --------------------------------------------------------------------------------


def _view_args(parser: CommandParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--username", type=slack_user, metavar="@USER", help="a Slack member")
    who.add_argument("--github", type=fields.github_login, metavar="LOGIN", help="GitHub login")
    who.add_argument("--email", type=fields.email, metavar="EMAIL", help="e-mail address")
    parser.add_argument(
        "--inspect", action="store_true", help="also list the teams they are in and lead"
    )


@group.command("view", "show a member (you, unless you name someone)", _view_args)
def view(services: Services, call: Call) -> blocks.Message:
    """Show one member's record, optionally with their teams. The e-mail is shown only to the
    member themself, team leads and admins (docs/decisions/0004-who-sees-an-email.md)."""
    args = call.args
    with services.store.unit_of_work() as uow:
        sees_emails = permission_of(uow, call.caller) >= Permission.team_lead
        if args.github:
            user, wanted = uow.users.by_github_username(args.github), f"GitHub user {args.github}"
        elif args.email:
            user, wanted = uow.users.by_email(args.email), f"e-mail {args.email}"
            if user is not None and not (sees_emails or user.slack_id == call.caller):
                user = None  # the same answer whether or not that address is on file
        else:
            slack_id = args.username or call.caller
            user, wanted = uow.users.get(slack_id), f"<@{slack_id}>"
        if user is None:
            if not (args.username or args.github or args.email):
                raise CommandError("You have no member record yet: `/rocket user add` makes one.")
            if args.email and not sees_emails:
                raise CommandError(
                    f"No member record for {_wanted(wanted)} that you may look up: only team "
                    "leads and admins can find members by someone else's e-mail."
                )
            raise CommandError(f"No member record for {_wanted(wanted)}.")
        member_of: list[Team] = []
        leads: list[Team] = []
        if args.inspect and user.github_id is not None:
            member_of = uow.teams.teams_of(user.github_id)
            leads = uow.teams.teams_led_by(user.github_id)
        show_email = sees_emails or user.slack_id == call.caller
    return user_card(user, args.inspect, member_of, leads, show_email=show_email)


def _permission(user: User) -> str:
    """E.g. 'team_lead (from the leads team)'."""
    source = user.role_source
    return f"{user.permission.value} ({source})" if source else user.permission.value


def _wanted(wanted: str) -> str:
    return wanted if wanted.startswith("<@") else blocks.escape(wanted)


def user_card(
    user: User,
    inspect: bool = False,
    member_of: list[Team] | None = None,
    leads: list[Team] | None = None,
    *,
    show_email: bool = True,
) -> blocks.Message:
    """A member's record as Block Kit; without ``show_email`` the e-mail says "hidden"."""
    e = blocks.escape
    github = (
        f"<https://github.com/{e(user.github_username)}|{e(user.github_username)}>"
        if user.github_username
        else "_not linked_"
    )
    card = [
        ("Slack", f"<@{user.slack_id}>"),
        ("Name", e(user.name) or "–"),
        ("E-mail", (e(user.email) or "–") if show_email else "_hidden_"),
        ("GitHub", github),
        ("Major", e(user.major) or "–"),
        ("Position", e(user.position) or "–"),
        ("Permission", _permission(user)),
        ("Karma", str(user.karma)),
    ]
    photo = user.image_url if user.image_url.startswith("https://") else None
    parts = [blocks.fields_section(card, image_url=photo)]
    if user.biography:
        parts.append(blocks.section(f"*Biography*\n{e(user.biography)}"))
    if inspect:
        if user.github_id is None:
            parts.append(blocks.context("No GitHub account linked, so no teams."))
        else:
            names = ", ".join(e(t.github_team_name) for t in member_of or []) or "none"
            led = ", ".join(e(t.github_team_name) for t in leads or []) or "none"
            parts.append(blocks.section(f"*Teams*: {names}\n*Leads*: {led}"))
    text = f"Member <@{user.slack_id}>: {e(user.name) or 'no name'}, karma {user.karma}"
    return blocks.message(text, parts)


# ---- edit --------------------------------------------------------------------------------


def _edit_args(parser: CommandParser) -> None:
    for option, _field, label, convert in EDITABLE:
        parser.add_argument(option, type=convert, metavar=label.upper(), help=f"your {label}")
    parser.add_argument(
        "--github",
        type=fields.github_login,
        metavar="LOGIN",
        help="link a GitHub account (admins; members use /rocket user link)",
    )
    parser.add_argument(
        "--username", type=slack_user, metavar="@USER", help="edit someone else (admins)"
    )
    parser.add_argument(
        "--permission",
        type=fields.permission,
        metavar="member|team_lead|admin",
        help="set the role (admins)",
    )


@group.command("edit", "update a member record (yours, or anyone's for admins)", _edit_args)
def edit(services: Services, call: Call) -> blocks.Message:
    """Update fields; an admin's --github asks GitHub first, then stores the account."""
    args = call.args
    target = args.username or call.caller
    changes = _requested_changes(args)

    # 1. Read and check (short unit of work, nothing written): refuse early, before GitHub.
    with services.store.unit_of_work() as uow:
        _check_edit(uow, call.caller, target, args.permission)
        if args.github is not None:
            _check_admin_link(uow, call.caller)
            _github_not_taken(uow, args.github, target)

    # 2. GitHub first: nothing is stored unless GitHub accepted.
    account: GitHubUser | None = None
    pending, later = False, ""
    if args.github is not None:
        account, pending, later = _invite(services, call, args.github)

    # 3. Store.
    previous, change = _store_edit(services, call, target, changes, account, pending)

    names = [_label(name) for name in changes if name != "granted_permission"]
    note = ""
    if account is not None:
        linked = links.Linked(account, pending, previous, change, later)
        note = _admin_linked(services, call.caller, target, linked)
        names = ["GitHub", "GitHub id", *names]
    if change is not None:
        note += f" <@{target}> {change.describe()} (roles follow GitHub's special teams)."
    whose = "Your record" if target == call.caller else f"<@{target}>'s record"
    return blocks.ok(f"{whose} is updated: {', '.join(names)}.{note}")


def _requested_changes(args: Any) -> dict[str, Any]:
    """The fields ``user edit`` was asked to change; CommandError when there is none."""
    changes: dict[str, Any] = {
        model_field: getattr(args, _dest(option))
        for option, model_field, _label, _convert in EDITABLE
        if getattr(args, _dest(option)) is not None
    }
    if args.permission is not None:
        changes["permission"] = changes["granted_permission"] = args.permission
    if not changes and args.github is None:
        raise CommandError(
            "Nothing to change: give at least one of --name, --email, --pos, --github, "
            "--major, --bio or --permission."
        )
    return changes


def _store_edit(
    services: Services,
    call: Call,
    target: str,
    changes: dict[str, Any],
    account: GitHubUser | None,
    pending: bool,
) -> tuple[GitHubUser | None, RoleChange | None]:
    """Store an edit: (the account ``target`` was linked to before, the role change). The
    checks run again in this unit of work: an admin may have been demoted (or the last other
    admin removed) while GitHub was being asked."""
    previous: GitHubUser | None = None
    change: RoleChange | None = None
    with services.store.unit_of_work() as uow:
        _check_edit(uow, call.caller, target, call.args.permission)
        if target == call.caller:
            uow.users.create_if_absent(target)
        if account is not None:
            _check_admin_link(uow, call.caller)
            try:
                previous = links.record(uow, target, account, verified=False)
            except links.AccountTaken:
                raise CommandError(
                    f"The GitHub account {blocks.code(account.login)} is already linked to "
                    "another member; nothing was changed here."
                ) from None
        if changes:
            uow.users.update(target, **changes)
        if account is not None or call.args.permission is not None:
            if pending and account is not None:
                uow.invitations.record(account.id, account.login)
            change = reconcile(uow, services.config, uow.users.require(target))
    return previous, change


def _admin_linked(services: Services, admin: str, target: str, linked: links.Linked) -> str:
    """After an admin's --github: log it, tell whom it concerns; the reply's note."""
    account = linked.account
    log.info(
        "admin %s linked %s to GitHub account %s (id %d), not verified by GitHub",
        admin,
        target,
        account.login,
        account.id,
    )
    links.after_link(services, target, linked, by=admin)
    note = (
        " The link is not verified by GitHub: roles from GitHub wait until the member "
        "links the account themself with `/rocket user link`."
    )
    if linked.later:
        note += f" {linked.later}"
    elif linked.pending:
        note += " GitHub sent an invitation to the organisation: it must be accepted."
    return note


def _dest(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


def _label(model_field: str) -> str:
    for _option, name, label, _convert in EDITABLE:
        if name == model_field:
            return label
    return {"github_username": "GitHub", "github_id": "GitHub id"}.get(model_field, model_field)


def _check_edit(uow: UnitOfWork, caller: str, target: str, permission: Permission | None) -> None:
    """Refuse an edit the caller may not make, or one that would leave no admin.

    Runs in the unit of work that writes (and once before GitHub is asked, to refuse early).
    When admins are involved the admin rows are locked first, so two admins demoting each
    other at once are serialised and the second sees the first's change.
    """
    if target != caller or permission is not None:
        uow.users.lock_admins()
    if target != caller:
        require(uow, caller, Permission.admin, "edit someone else's record")
    if permission is not None:
        require(uow, caller, Permission.admin, "change permissions")
        _keep_an_admin(uow, target, permission)
    if target != caller and uow.users.get(target) is None:
        raise CommandError(f"<@{target}> has no member record yet.")


def _keep_an_admin(uow: UnitOfWork, target: str, permission: Permission) -> None:
    """Refuse to take the admin role from ``target`` if they are the last admin.

    Call after ``uow.users.lock_admins()`` so the count cannot change before the commit.
    """
    user = uow.users.get(target)
    if user is None or user.permission is not Permission.admin or permission is Permission.admin:
        return
    if len(uow.users.admins()) <= 1:
        raise CommandError(
            "That would leave Rocket 2 without an admin: make someone else an admin first."
        )


def _github_not_taken(uow: UnitOfWork, login: str, target: str) -> None:
    owner = uow.users.by_github_username(login)
    if owner is not None and owner.slack_id != target:
        raise CommandError(
            f"The GitHub account {blocks.code(login)} is already linked to <@{owner.slack_id}>."
        )


def _check_admin_link(uow: UnitOfWork, caller: str) -> None:
    """Only an admin may link an account by typing its login; a member uses the web flow."""
    user = uow.users.get(caller)
    if user is None or user.permission is not Permission.admin:
        raise CommandError(
            "Link your GitHub account with `/rocket user link`: GitHub then confirms the "
            "account is yours. Typing a login (`--github`) is for admins. Nothing was changed."
        )


def _invite(services: Services, call: Call, login: str) -> tuple[GitHubUser, bool, str]:
    """Invite ``login`` to the organisation through the App; (account, invitation pending,
    when a queued one is expected)."""
    try:
        return links.invite(services.github, services.store, login)
    except links.InviteFailed as failed:
        if failed.missing:
            raise CommandError(
                f"GitHub has no user {blocks.code(login)}: check the spelling. Nothing was changed."
            ) from None
        raise CommandError(
            f"GitHub could not add {blocks.code(login)} to the organisation "
            f"({_reason(failed.error)}). Nothing was changed; please try again later."
        ) from None


def _reason(exc: GitHubError) -> str:
    status = f"HTTP {exc.status}" if exc.status is not None else "no answer"
    return f"{status}: {blocks.escape(exc.detail[:120])}" if exc.detail else status


# ---- link --------------------------------------------------------------------------------


@group.command("link", "link your GitHub account: GitHub confirms it is yours")
def link(services: Services, call: Call) -> blocks.Message:
    """An ephemeral, one-time link to GitHub's authorization page, bound to the caller."""
    config = services.config
    if not config.linking_enabled:
        return blocks.message(
            "GitHub account linking is off in this workspace. An admin can link your account "
            "for you (`/rocket user edit --username @you --github LOGIN`)."
        )
    state = StateSigner(config.github_client_secret.reveal()).sign(
        call.caller, config.slack_team_id
    )
    url = link_url(config, state)
    minutes = TTL_SECONDS // 60
    text = (
        f"Link your GitHub account: <{blocks.escape(url)}|open GitHub and approve Rocket 2>. "
        f"GitHub then tells Rocket 2 which account is yours. The link is yours alone, works "
        f"once and expires in {minutes} minutes."
    )
    return blocks.message(text, [blocks.section(f":link: {text}")])


# ---- approve -----------------------------------------------------------------------------


def _approve_args(parser: CommandParser) -> None:
    parser.add_argument("user", type=slack_user, metavar="@USER", help="the member asking")
    parser.add_argument(
        "login", type=fields.github_login, metavar="LOGIN", help="the GitHub account they linked"
    )


@group.command("approve", "approve a member's GitHub link that waits for an admin", _approve_args)
def approve(services: Services, call: Call) -> blocks.Message:
    """Complete a proven link that gives power and waits for an admin (admins only)."""
    target, login = call.args.user, call.args.login
    with services.store.unit_of_work() as uow:
        require(uow, call.caller, Permission.admin, "approve GitHub links")
    try:
        linked = factor.approve_link(services, call.caller, target, login)
    except factor.NoRequest:
        raise CommandError(
            f"No link of {blocks.code(login)} waits for <@{target}> (requests last a day). "
            "Nothing was changed."
        ) from None
    except links.AccountTaken:
        raise CommandError(
            f"The GitHub account {blocks.code(login)} is linked to another member with "
            "GitHub's proof; nothing was changed."
        ) from None
    except links.InviteFailed as failed:
        raise CommandError(
            f"GitHub could not be asked about {blocks.code(login)} ({_reason(failed.error)}). "
            "Nothing was changed; please try again later."
        ) from None
    except links.NoticeFailed:
        raise CommandError(
            "The notification channel could not be told, so nothing was linked; try again."
        ) from None
    change = linked.role_change
    said = f" They are {change.describe()}." if change is not None else ""
    return blocks.ok(
        f"<@{target}> is linked to the GitHub account {blocks.code(login)}, approved by you.{said}"
    )


# ---- delete ------------------------------------------------------------------------------


def _delete_args(parser: CommandParser) -> None:
    parser.add_argument("user", type=slack_user, metavar="@USER", help="the member to remove")


@group.command("delete", "remove a member record (admins)", _delete_args)
def delete(services: Services, call: Call) -> blocks.Message:
    """Delete someone's record."""
    target = call.args.user
    with services.store.unit_of_work() as uow:
        uow.users.lock_admins()
        require(uow, call.caller, Permission.admin, "delete member records")
        user = uow.users.get(target)
        if user is None:
            raise CommandError(f"<@{target}> has no member record.")
        _keep_an_admin(uow, target, Permission.member)
        uow.users.delete(target)
    return blocks.ok(f"<@{target}>'s member record is deleted.")
