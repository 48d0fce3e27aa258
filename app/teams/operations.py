"""The logic of ``/rocket team …``: list, view, create, add, remove, lead, edit, delete, refresh.

Each function takes the services (``deps``: config, store, github, slack), the caller's Slack id
and the parsed arguments, and returns a TeamReply or raises CommandError. Rules:

- permissions: anyone may list and view; ``create`` and ``refresh`` need a
  lead (team_lead or admin), ``create`` also a GitHub account on record; the others need a
  "lead of T" (an admin, or one of T's leads);
- GitHub first, the database only with what GitHub confirmed, and never a unit of work open
  across a GitHub call; a GitHub failure is told to the caller and nothing changes locally;
- team leads are the GitHub team's maintainers (``team lead`` makes someone a maintainer,
  ``--remove`` makes them a plain member again), so ``team refresh`` keeps them in step;
- joining or leaving the admin or leads team promotes or demotes (app.teams.mirror);
- the special teams are admins' business: only an admin creates or renames a team into a
  configured special name, or adds, removes or changes the members or leads of a special
  (pinned, or so named) team, edits it or deletes it; its GitHub maintainers may not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from slack_sdk.errors import SlackClientError

from app.github import (
    GitHubError,
    GitHubInvitationCapped,
    GitHubRateLimited,
    GitHubTeam,
    GitHubTeamSynchronized,
    GitHubUnexpectedStatus,
    GitHubValidationError,
    Membership,
)
from app.services import Services
from app.slack.blocks import code, escape
from app.slack.commands import permissions
from app.slack.commands.errors import CommandError, PermissionDenied
from app.slack.pages import every_page
from app.store import Permission, Team, UnitOfWork, User
from app.teams.invitations import queue
from app.teams.messages import TeamReply, mention
from app.teams.mirror import (
    RoleChange,
    is_special_name,
    is_special_team,
    mirror_team,
    on_join,
    on_leave,
    once_more_on_conflict,
)
from app.teams.refresh import refresh

log = logging.getLogger("rocket2.teams")

CHANNEL_PAGE_SIZE = 200
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")  # the parser turns <#C123|name> into C123
MAX_CHANNEL_PAGES = 50


# ---- lookups and permissions ---------------------------------------------------------------


def find_team(uow: UnitOfWork, name: str) -> Team:
    """The team with this name or slug; CommandError (saying what to do) otherwise."""
    team = uow.teams.by_name(name)
    if team is None:
        raise CommandError(
            f"There is no team {code(name)}. `/rocket team list` shows the teams; if it is new "
            "on GitHub, a lead can run `/rocket team refresh`."
        )
    return team


def require_lead(uow: UnitOfWork, caller: str, doing: str) -> User:
    """The caller's record if they are a team lead or an admin; PermissionDenied else."""
    permissions.require(uow, caller, Permission.team_lead, doing)
    user = uow.users.get(caller)
    assert user is not None  # a caller without a record is a member
    return user


def require_lead_of(uow: UnitOfWork, caller: str, team: Team, doing: str) -> User:
    """The caller's record if they are an admin or one of ``team``'s leads."""
    return permissions.require_lead_of(uow, caller, team, doing)


def require_admin_for_special(
    uow: UnitOfWork, deps: Services, caller: User, team: Team | None, name: str, doing: str
) -> None:
    """PermissionDenied unless ``caller`` is an admin, when ``team`` is a special team or
    ``name`` is a configured special team's name (as GitHub compares names and slugs)."""
    special = is_special_name(deps.config, name) or (
        team is not None and is_special_team(uow, deps.config, team)
    )
    if special and caller.permission is not Permission.admin:
        raise PermissionDenied(
            f"Only admins can {doing} {code(name)}: it is one of the teams that give Rocket 2 "
            "roles (GITHUB_ADMIN_TEAM_NAME, GITHUB_LEADS_TEAM_NAME)."
        )


def _with_github(uow: UnitOfWork, slack_id: str) -> User:
    user = uow.users.get(slack_id)
    if user is None:
        raise CommandError(
            f"{mention(slack_id)} has no member record yet: they can run `/rocket user add`."
        )
    if user.github_id is None or not user.github_username:
        raise CommandError(
            f"{mention(slack_id)} has no GitHub account on record: they can add it with "
            "`/rocket user link`."
        )
    return user


def _login_now(deps: Services, user: User) -> str:
    """The login GitHub gives ``user``'s account (by id) now: a stored login may be stale, and
    once renamed it can belong to someone else, who must not be added or removed instead."""
    assert user.github_id is not None
    try:
        return deps.github.get_user_by_id(user.github_id).login
    except GitHubError as exc:
        raise _github_failed(f"find the GitHub account of {mention(user.slack_id)}", exc) from None


def _as_github(team: Team) -> GitHubTeam:
    return GitHubTeam(
        team.github_team_id, team.github_team_name, team.slug or team.github_team_name
    )


def _github_failed(what: str, exc: GitHubError) -> CommandError:
    log.warning("team command: %s failed: %s", what, exc)
    if isinstance(exc, GitHubTeamSynchronized):
        return CommandError(
            f"GitHub did not {what}: the team's members come from your identity provider "
            "(team synchronisation); change them there. Nothing was changed here."
        )
    if isinstance(exc, GitHubRateLimited):
        return CommandError(
            f"GitHub did not {what}: GitHub asked Rocket 2 to slow down; try again in "
            f"{max(1, round(exc.retry_in or 60))} s. Nothing was changed here."
        )
    return CommandError(
        f"GitHub did not {what}: {escape(exc.detail or str(exc))}. Nothing was changed here."
    )


def _changes(changes: Iterable[RoleChange | None]) -> str:
    said = [f"{mention(c.slack_id)} {c.describe()}" for c in changes if c is not None]
    return f" ({'; '.join(said)})" if said else ""


# ---- list and view --------------------------------------------------------------------------


def team_list(deps: Services) -> TeamReply:
    """Every team with its display name and sizes (anyone)."""
    with deps.store.unit_of_work() as uow:
        teams = uow.teams.list_all()
        lines = tuple(
            f"*{escape(t.github_team_name)}*"
            + (f" — {escape(t.displayname)}" if t.displayname else "")
            + f" · {len(t.members)} member(s), {len(t.team_leads)} lead(s)"
            for t in teams
        )
    if not lines:
        return TeamReply(
            "No teams yet. A lead can mirror them from GitHub: `/rocket team refresh`."
        )
    return TeamReply(f"{len(lines)} team(s):", lines)


def _people(uow: UnitOfWork, github_ids: frozenset[int]) -> str:
    users = uow.users.by_github_ids(github_ids)
    known = {u.github_id for u in users}
    shown = [mention(u.slack_id) for u in users]
    unknown = len(github_ids - known)
    if unknown:
        shown.append(f"{unknown} GitHub account(s) without a Rocket 2 record")
    return ", ".join(shown) if shown else "nobody"


def team_view(deps: Services, name: str) -> TeamReply:
    """One team with its members and leads (anyone)."""
    with deps.store.unit_of_work() as uow:
        team = find_team(uow, name)
        lines = (
            f"*Display name:* {escape(team.displayname) or '—'}",
            f"*Platform:* {escape(team.platform) or '—'}",
            f"*GitHub:* {code(team.slug or team.github_team_name)}",
            f"*Leads:* {_people(uow, team.team_leads)}",
            f"*Members ({len(team.members)}):* {_people(uow, team.members)}",
        )
        title = f"Team *{escape(team.github_team_name)}*"
    return TeamReply(title, lines)


# ---- create ----------------------------------------------------------------------------------


def _channel_members(deps: Services, channel: str) -> list[str]:
    """Slack ids of everyone in ``channel`` (every page of conversations.members);
    CommandError when it is not a channel link or Slack will not say."""
    if not CHANNEL_ID.match(channel):
        raise CommandError(
            f"{code(channel)} is not a channel link: pick the channel from Slack's # list "
            "so it becomes one. Nothing was created."
        )
    try:
        members = every_page(
            lambda cursor: deps.slack.conversations_members(
                channel=channel, limit=CHANNEL_PAGE_SIZE, cursor=cursor
            ),
            "members",
            MAX_CHANNEL_PAGES,
            f"team create: conversations.members of {channel}",
        )
    except (SlackClientError, OSError) as exc:  # not in the channel, unknown channel, …
        raise CommandError(
            f"I could not read the members of <#{channel}> (is Rocket 2 in it?). "
            "Nothing was created."
        ) from exc
    return [str(m) for m in members]


def team_create(
    deps: Services,
    caller: str,
    name: str,
    *,
    displayname: str | None = None,
    platform: str | None = None,
    channel: str | None = None,
    lead: str | None = None,
) -> TeamReply:
    """Create a closed GitHub team, then store it. Members: the channel's registered members
    with a GitHub account (``--channel``), or the caller; lead: ``--lead`` or the caller."""
    leader = _may_create(deps, caller, name, lead)
    people = _github_accounts(deps, _channel_members(deps, channel) if channel else [caller])
    lead_login = _login_now(deps, leader)  # stored logins may be stale: GitHub's, by id
    in_org = _active_member(deps, lead_login)  # GitHub: maintainers must be org members
    try:
        gh_team = deps.github.create_team(
            name, description=displayname or "", maintainers=(lead_login,) if in_org else ()
        )
    except GitHubValidationError as exc:
        raise _github_failed(f"create team {code(name)} (is the name taken?)", exc) from None
    except GitHubError as exc:
        raise _github_failed(f"create team {code(name)}", exc) from None
    lead_note = "" if in_org else _invite_lead(deps, gh_team, leader, lead_login)
    people = [(login, gid) for login, gid in people if in_org or gid != leader.github_id]
    added, failures = _add_on_github(deps, gh_team, people, leader.github_id if in_org else None)

    def store() -> list[RoleChange | None]:
        with deps.store.unit_of_work() as uow:
            team, _ = mirror_team(uow, gh_team.id, gh_team.name, gh_team.slug)
            uow.teams.update(gh_team.id, displayname=displayname or "", platform=platform or "")
            changes = []
            for github_id in added:
                uow.teams.add_member(gh_team.id, github_id)
                changes.append(on_join(uow, deps.config, team, github_id))
            if leader.github_id is not None:
                uow.teams.add_lead(gh_team.id, leader.github_id)
            return changes

    changes = once_more_on_conflict(store)
    text = (
        f"Created team *{escape(gh_team.name)}* on GitHub with {len(added)} member(s); lead "
        f"{mention(leader.slack_id)}.{lead_note}{_changes(changes)}"
    )
    return TeamReply(text, tuple(failures))


def _active_member(deps: Services, login: str) -> bool:
    """Whether ``login`` is an active member of the organisation (not merely invited)."""
    try:
        membership = deps.github.get_org_membership(login)
    except GitHubError as exc:
        raise _github_failed(f"read {code(login)}'s membership of the organisation", exc) from None
    return membership is not None and not membership.pending


def _invite_lead(deps: Services, gh_team: GitHubTeam, leader: User, login: str) -> str:
    """Make the lead outside the organisation the new team's maintainer on GitHub, which
    invites them (or queues the invitation over the cap); what the reply adds."""
    assert leader.github_id is not None
    try:
        membership = deps.github.add_team_member(gh_team.slug, login, role="maintainer")
    except GitHubInvitationCapped:
        later = queue(deps.store, leader.github_id, login, gh_team.slug, role="maintainer")
        return (
            " They are not yet in the GitHub organisation, so they become the team's "
            f"maintainer on GitHub once invited and they accept. {later}"
        )
    except GitHubError as exc:
        return f" GitHub did not make {code(login)} its maintainer: {escape(exc.detail)}"
    if not membership.pending:
        return ""
    return (
        " They are invited to the GitHub organisation and become the team's maintainer on "
        "GitHub when they accept the invitation."
    )


def _may_create(deps: Services, caller: str, name: str, lead: str | None) -> User:
    """The new team's lead, once the caller may create ``name`` (PermissionDenied else)."""
    with deps.store.unit_of_work() as uow:
        me = require_lead(uow, caller, "create teams")
        if me.github_id is None or not me.github_username:
            raise PermissionDenied(
                "You need a GitHub account on record to create teams: `/rocket user link`."
            )
        require_admin_for_special(uow, deps, me, None, name, "create the team")
        if uow.teams.by_name(name) is not None:
            raise CommandError(
                f"Team {code(name)} exists already: {code(f'/rocket team view {name}')}."
            )
        return _with_github(uow, lead) if lead else me


def _github_accounts(deps: Services, slack_ids: list[str]) -> list[tuple[str, int]]:
    """(login, GitHub id) of each of these members who has a GitHub account on record."""
    with deps.store.unit_of_work() as uow:
        return [
            (u.github_username, u.github_id)
            for u in (uow.users.get(s) for s in dict.fromkeys(slack_ids))
            if u is not None and u.github_id is not None and u.github_username
        ]


def _add_on_github(
    deps: Services, gh_team: GitHubTeam, people: list[tuple[str, int]], lead_id: int | None
) -> tuple[list[int], list[str]]:
    """Add ``people`` to the new GitHub team (the lead is in it already): the ids now active
    members, and a line for each GitHub refused."""
    added: list[int] = [lead_id] if lead_id is not None else []
    failures: list[str] = []
    for login, github_id in people:
        if github_id in added:
            continue
        try:
            login = deps.github.get_user_by_id(github_id).login  # by id: the login may be stale
            membership = deps.github.add_team_member(gh_team.slug, login)
        except GitHubInvitationCapped:
            failures.append(f"{code(login)}: {queue(deps.store, github_id, login, gh_team.slug)}")
            continue
        except GitHubError as exc:
            failures.append(f"GitHub did not add {code(login)}: {escape(exc.detail)}")
            continue
        if not membership.pending:
            added.append(github_id)
    return added, failures


# ---- add, remove, lead -----------------------------------------------------------------------


def _target(
    deps: Services, caller: str, name: str, slack_id: str, doing: str, *, special: str = ""
) -> tuple[Team, User]:
    """The team and the member with a GitHub account; the caller must lead the team, and be an
    admin for what ``special`` names (e.g. "add members to") when the team is special."""
    with deps.store.unit_of_work() as uow:
        team = find_team(uow, name)
        me = require_lead_of(uow, caller, team, doing)
        if special:
            require_admin_for_special(uow, deps, me, team, team.github_team_name, special)
        return team, _with_github(uow, slack_id)


def team_add(deps: Services, caller: str, name: str, slack_id: str) -> TeamReply:
    """Add a member to the team on GitHub, then here (lead of the team)."""
    team, user = _target(deps, caller, name, slack_id, "add members", special="add members to")
    gh, login = _as_github(team), _login_now(deps, user)
    try:
        membership = deps.github.get_team_membership(gh.slug, login)
        # Never turn a maintainer into a plain member; one in a child team only is not in (0022).
        if membership is None or not deps.github.is_direct_team_member(gh.slug, login):
            membership = deps.github.add_team_member(gh.slug, login)
    except GitHubInvitationCapped:
        assert user.github_id is not None
        later = queue(deps.store, user.github_id, login, gh.slug)
        return TeamReply(f"{mention(user.slack_id)} joins team *{escape(gh.name)}* later: {later}")
    except GitHubError as exc:
        raise _github_failed(f"add {code(login)} to {code(gh.name)}", exc) from None
    if membership.pending:
        return TeamReply(
            f"{mention(user.slack_id)} is invited to the GitHub organisation; they join team "
            f"*{escape(gh.name)}* when they accept the invitation."
        )
    github_id = user.github_id
    assert github_id is not None

    def store() -> tuple[bool, RoleChange | None]:
        with deps.store.unit_of_work() as uow:
            local, _ = mirror_team(uow, gh.id, gh.name, gh.slug)
            new = uow.teams.add_member(gh.id, github_id)
            return new, on_join(uow, deps.config, local, github_id)

    new, change = once_more_on_conflict(store)
    verb = "Added" if new else "Kept"
    return TeamReply(
        f"{verb} {mention(user.slack_id)} in team *{escape(gh.name)}*.{_changes([change])}"
    )


def team_remove(deps: Services, caller: str, name: str, slack_id: str) -> TeamReply:
    """Remove a member from the team on GitHub, then here (lead of the team)."""
    team, user = _target(
        deps, caller, name, slack_id, "remove members", special="remove members from"
    )
    gh, login = _as_github(team), _login_now(deps, user)
    try:
        if deps.github.get_team_membership(gh.slug, login) is not None:
            deps.github.remove_team_member(gh.slug, login)
    except GitHubError as exc:
        raise _github_failed(f"remove {code(login)} from {code(gh.name)}", exc) from None
    assert user.github_id is not None
    with deps.store.unit_of_work() as uow:
        local, _ = mirror_team(uow, gh.id, gh.name, gh.slug)
        was = uow.teams.remove_member(gh.id, user.github_id)
        uow.teams.remove_lead(gh.id, user.github_id)  # GitHub dropped the maintainer role too
        change = on_leave(uow, deps.config, local, user.github_id)
    if not was:
        return TeamReply(f"{mention(user.slack_id)} was not in team *{escape(gh.name)}*.")
    return TeamReply(
        f"Removed {mention(user.slack_id)} from team *{escape(gh.name)}*.{_changes([change])}"
    )


def team_lead(
    deps: Services, caller: str, name: str, slack_id: str, *, remove: bool = False
) -> TeamReply:
    """Make someone a lead (a maintainer of the GitHub team, added if needed), or with
    ``remove`` a plain member again (lead of the team)."""
    team, user = _target(
        deps, caller, name, slack_id, "change its leads", special="change the leads of"
    )
    gh, login = _as_github(team), _login_now(deps, user)
    assert user.github_id is not None
    if remove:
        return _remove_lead(deps, gh, login, user)
    later = ""
    try:
        membership = deps.github.add_team_member(gh.slug, login, role="maintainer")
    except GitHubInvitationCapped:
        later = queue(deps.store, user.github_id, login, gh.slug, role="maintainer")
        membership = Membership(state="pending", role="maintainer")
    except GitHubError as exc:
        raise _github_failed(f"make {code(login)} a maintainer of {code(gh.name)}", exc) from None
    github_id = user.github_id

    def store() -> RoleChange | None:
        with deps.store.unit_of_work() as uow:
            local, _ = mirror_team(uow, gh.id, gh.name, gh.slug)
            change = None
            if not membership.pending:
                uow.teams.add_member(gh.id, github_id)
                change = on_join(uow, deps.config, local, github_id)
            uow.teams.add_lead(gh.id, github_id)
            return change

    change = once_more_on_conflict(store)
    if later:
        return TeamReply(
            f"{mention(user.slack_id)} now leads team *{escape(gh.name)}* here, and becomes "
            f"its maintainer on GitHub once invited and accepted. {later}"
        )
    if membership.pending:  # GitHub: the role applies once the invitation is accepted
        return TeamReply(
            f"{mention(user.slack_id)} now leads team *{escape(gh.name)}* here; they are "
            "invited to the GitHub organisation and become the team's maintainer on GitHub "
            "when they accept the invitation."
        )
    return TeamReply(
        f"{mention(user.slack_id)} now leads team *{escape(gh.name)}*.{_changes([change])}"
    )


def _remove_lead(deps: Services, gh: GitHubTeam, login: str, user: User) -> TeamReply:
    """``team lead --remove``: a maintainer becomes a member on GitHub, then here."""
    assert user.github_id is not None
    try:
        membership = deps.github.get_team_membership(gh.slug, login)
        if membership is not None and membership.role == "maintainer":
            deps.github.add_team_member(gh.slug, login, role="member")
    except GitHubError as exc:
        raise _github_failed(f"change {code(login)}'s role in {code(gh.name)}", exc) from None
    with deps.store.unit_of_work() as uow:
        mirror_team(uow, gh.id, gh.name, gh.slug)
        was = uow.teams.remove_lead(gh.id, user.github_id)
    owner = _owner_note(deps, login, user.slack_id)
    if not was:
        return TeamReply(f"{mention(user.slack_id)} was not a lead of *{escape(gh.name)}*.{owner}")
    return TeamReply(
        f"{mention(user.slack_id)} is no longer a lead of *{escape(gh.name)}* "
        f"(still a member).{owner}"
    )


def _owner_note(deps: Services, login: str, slack_id: str) -> str:
    """For an organisation owner: GitHub keeps their maintainer rights (it reads owners back
    as maintainers of every team); else nothing."""
    try:
        membership = deps.github.get_org_membership(login)
    except GitHubError:
        return ""
    if membership is None or membership.role != "admin":
        return ""
    return (
        f" {mention(slack_id)} owns the GitHub organisation, so they keep maintainer rights "
        "on GitHub."
    )


# ---- edit, delete, refresh -------------------------------------------------------------------


def team_edit(
    deps: Services,
    caller: str,
    name: str,
    *,
    displayname: str | None = None,
    platform: str | None = None,
    github_name: str | None = None,
) -> TeamReply:
    """Change the display name or platform here, and with ``github_name`` rename the GitHub
    team first (lead of the team)."""
    if displayname is None and platform is None and github_name is None:
        raise CommandError("Say what to change: `--displayname`, `--platform` or `--github`.")
    with deps.store.unit_of_work() as uow:
        team = find_team(uow, name)
        me = require_lead_of(uow, caller, team, "edit it")
        require_admin_for_special(uow, deps, me, team, team.github_team_name, "edit")
        if github_name is not None:
            require_admin_for_special(uow, deps, me, None, github_name, "rename a team to")
            other = uow.teams.by_name(github_name)
            if other is not None and other.github_team_id != team.github_team_id:
                raise CommandError(f"Team {code(github_name)} exists already.")
    gh = _as_github(team)
    if github_name is not None and github_name != gh.name:
        try:
            gh = deps.github.rename_team(gh.slug, github_name)
        except GitHubError as exc:
            raise _github_failed(f"rename {code(gh.name)} to {code(github_name)}", exc) from None
    fields = {
        k: v for k, v in (("displayname", displayname), ("platform", platform)) if v is not None
    }
    with deps.store.unit_of_work() as uow:
        mirror_team(uow, gh.id, gh.name, gh.slug)
        if fields:
            uow.teams.update(gh.id, **fields)
    said = [f"renamed on GitHub to *{escape(gh.name)}*"] if gh.name != team.github_team_name else []
    said += [f"{k} set to {code(v) if v else 'nothing'}" for k, v in fields.items()]
    return TeamReply(f"Team *{escape(gh.name)}*: {', '.join(said) or 'nothing changed'}.")


def team_delete(deps: Services, caller: str, name: str) -> TeamReply:
    """Delete the team on GitHub, then here (lead of the team)."""
    with deps.store.unit_of_work() as uow:
        team = find_team(uow, name)
        me = require_lead_of(uow, caller, team, "delete it")
        require_admin_for_special(uow, deps, me, team, team.github_team_name, "delete")
    gh = _as_github(team)
    try:
        deps.github.delete_team(gh.slug)
    except GitHubUnexpectedStatus as exc:
        # GitHub documents 204 and 422 only: ask with a call that documents "absent" (404).
        if _still_on_github(deps, gh.slug):
            raise _github_failed(f"delete team {code(gh.name)}", exc) from None
        log.info("team delete: %s was already gone on GitHub", gh.slug)
    except GitHubError as exc:
        raise _github_failed(f"delete team {code(gh.name)}", exc) from None
    with deps.store.unit_of_work() as uow:
        uow.teams.delete(gh.id)
    return TeamReply(f"Deleted team *{escape(gh.name)}* on GitHub and here.")


def _still_on_github(deps: Services, slug: str) -> bool:
    """Whether the team is on GitHub (True when GitHub cannot say)."""
    try:
        return deps.github.find_team(slug) is not None
    except GitHubError:
        return True


def team_refresh(deps: Services, caller: str) -> TeamReply:
    """Mirror every GitHub team and member (a lead); the same as the scheduled refresh."""
    with deps.store.unit_of_work() as uow:
        require_lead(uow, caller, "refresh the teams")
    try:
        report = refresh(deps.store, deps.github, deps.config)
    except GitHubError as exc:
        raise _github_failed("list the teams and members", exc) from None
    first, *rest = report.summary().splitlines()
    return TeamReply(first, tuple(escape(line) for line in rest))
