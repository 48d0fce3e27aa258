"""``team refresh``: make the database mirror GitHub's teams, reading every page of every list.

Order (GitHub first, the database only with what GitHub confirmed):

1. read GitHub: the organisation's teams, its members, and each team's members and
   maintainers (every page, following ``Link: rel="next"``);
2. make sure GITHUB_DEFAULT_TEAM_NAME exists on GitHub (create it if missing) and add every
   organisation member who is not in it yet — "everyone with a GitHub id in the organisation
   is in the default team". A member GitHub refuses to add is reported and left out;
3. one short unit of work: create, rename and delete local teams so they match; set each
   team's members (GitHub's members) and leads (GitHub's maintainers); pin a special team that
   has no pin for its configured name (app.teams.mirror.resolve_pins); reconcile every role
   with the pinned admin and leads teams, both ways (app.teams.mirror.reconcile_all): a proven
   member in them is promoted, one no longer in them is demoted, an admin's grant is kept and
   listed; update GitHub logins that changed.

If a read fails, nothing local changes. Running it twice in a row, the second run writes
nothing, on GitHub or locally (``RefreshReport.changed`` is False).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.github import GitHubClient, GitHubError, GitHubTeam, GitHubUser
from app.store import Store, UnitOfWork
from app.teams.mirror import (
    create_default_team,
    is_default_team,
    mirror_team,
    reconcile_all,
    resolve_pins,
)
from config import Config

log = logging.getLogger("rocket2.teams")


@dataclass(frozen=True)
class TeamSnapshot:
    """One GitHub team as read: its members (all roles) and maintainers, by GitHub id."""

    team: GitHubTeam
    members: frozenset[int]
    maintainers: frozenset[int]


@dataclass
class RefreshReport:
    """What one refresh changed. ``changed`` is False when the database already matched."""

    teams_seen: int = 0
    teams_created: list[str] = field(default_factory=list)
    teams_renamed: list[str] = field(default_factory=list)
    teams_deleted: list[str] = field(default_factory=list)
    members_added: int = 0
    members_removed: int = 0
    leads_added: int = 0
    leads_removed: int = 0
    promoted: list[str] = field(default_factory=list)  # "U123 → admin"
    demoted: list[str] = field(default_factory=list)  # "U123 admin → member"
    kept_last_admin: list[str] = field(default_factory=list)  # "U123"
    granted: list[str] = field(default_factory=list)  # "U123 (admin)": an admin's grant, kept
    pinned: list[str] = field(default_factory=list)  # "admin → admins" / "admin → not found"
    logins_updated: int = 0
    github_default_created: bool = False
    github_default_added: list[str] = field(default_factory=list)  # logins added on GitHub
    failures: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written, on GitHub or locally."""
        return bool(
            self.teams_created
            or self.teams_renamed
            or self.teams_deleted
            or self.members_added
            or self.members_removed
            or self.leads_added
            or self.leads_removed
            or self.promoted
            or self.demoted
            or self.pinned
            or self.logins_updated
            or self.github_default_created
            or self.github_default_added
        )

    def summary(self) -> str:
        """A few lines for a Slack reply or a log line."""
        lines = [f"Mirrored {self.teams_seen} GitHub team(s)."]
        if not self.changed:
            lines.append("Everything already matched GitHub; nothing changed.")
        for label, names in (
            ("created", self.teams_created),
            ("renamed", self.teams_renamed),
            ("deleted", self.teams_deleted),
        ):
            if names:
                lines.append(f"Teams {label}: {', '.join(names)}.")
        if self.members_added or self.members_removed:
            lines.append(f"Members: +{self.members_added} / -{self.members_removed}.")
        if self.leads_added or self.leads_removed:
            lines.append(f"Leads: +{self.leads_added} / -{self.leads_removed}.")
        if self.github_default_created:
            lines.append("Created the default team on GitHub.")
        if self.github_default_added:
            lines.append(
                f"Added to the default team on GitHub: {', '.join(self.github_default_added)}."
            )
        if self.pinned:
            lines.append(f"Special teams pinned: {', '.join(self.pinned)}.")
        if self.promoted:
            lines.append(f"Promoted: {', '.join(self.promoted)}.")
        if self.demoted:
            lines.append(f"Demoted (no longer in their special team): {', '.join(self.demoted)}.")
        if self.kept_last_admin:
            lines.append(
                f"Kept as the last admin although GitHub gives less: "
                f"{', '.join(self.kept_last_admin)}. Make someone else an admin first."
            )
        if self.granted:
            lines.append(f"Granted by an admin (kept): {', '.join(self.granted)}.")
        if self.logins_updated:
            lines.append(f"GitHub logins updated: {self.logins_updated}.")
        for failure in self.failures:
            lines.append(f"Not done: {failure}")
        return "\n".join(lines)


def read_github(github: GitHubClient) -> tuple[list[TeamSnapshot], list[GitHubUser]]:
    """Every team (with members and maintainers) and every organisation member, all pages."""
    org_members = github.list_org_members()
    snapshots = []
    for team in github.list_teams():
        # A child team's members are not the parent's (docs/decisions/0022-child-teams.md).
        members = frozenset(u.id for u in github.list_direct_team_members(team.slug))
        maintainers = frozenset(
            u.id for u in github.list_direct_team_members(team.slug, "maintainer")
        )
        snapshots.append(TeamSnapshot(team, members | maintainers, maintainers))
    return snapshots, org_members


def ensure_default_team(
    github: GitHubClient,
    config: Config,
    snapshots: list[TeamSnapshot],
    org_members: list[GitHubUser],
    report: RefreshReport,
) -> list[TeamSnapshot]:
    """Create the default team on GitHub if missing and add every organisation member to it.

    Returns the snapshots with the default team's members as GitHub now has them.
    """
    index = next(
        (i for i, s in enumerate(snapshots) if is_default_team(config, s.team.name, s.team.slug)),
        None,
    )
    if index is None:
        team = create_default_team(github, config)
        report.github_default_created = True
        snapshots = [*snapshots, TeamSnapshot(team, frozenset(), frozenset())]
        index = len(snapshots) - 1
    default = snapshots[index]
    members = set(default.members)
    with github.paced():  # a bulk loop: GitHub asks for mutations one second apart
        for user in org_members:
            if user.id in members:
                continue
            try:
                membership = github.add_team_member(default.team.slug, user.login)
            except GitHubError as exc:
                report.failures.append(f"add {user.login} to {default.team.name}: {exc}")
                continue
            report.github_default_added.append(user.login)
            if not membership.pending:
                members.add(user.id)
    snapshots[index] = TeamSnapshot(default.team, frozenset(members), default.maintainers)
    return snapshots


def refresh(store: Store, github: GitHubClient, config: Config) -> RefreshReport:
    """Mirror every GitHub team and its members into the database; see the module docstring.

    Raises GitHubError if a GitHub list cannot be read (then nothing local has changed).
    """
    report = RefreshReport()
    snapshots, org_members = read_github(github)
    snapshots = ensure_default_team(github, config, snapshots, org_members, report)
    report.teams_seen = len(snapshots)
    logins = {u.id: u.login for u in org_members}
    with store.unit_of_work() as uow:
        wanted = {s.team.id for s in snapshots}
        for team in uow.teams.list_all():
            if team.github_team_id not in wanted:
                uow.teams.delete(team.github_team_id)
                report.teams_deleted.append(team.github_team_name)
        for snap in snapshots:
            before = uow.teams.get(snap.team.id)
            old_name = before.github_team_name if before is not None else None
            _, changed = mirror_team(uow, snap.team.id, snap.team.name, snap.team.slug)
            if old_name is None:
                report.teams_created.append(snap.team.name)
            elif changed:
                report.teams_renamed.append(f"{old_name} → {snap.team.name}")
            added, removed = uow.teams.set_members(snap.team.id, snap.members)
            report.members_added += len(added)
            report.members_removed += len(removed)
            added, removed = uow.teams.set_leads(snap.team.id, snap.maintainers)
            report.leads_added += len(added)
            report.leads_removed += len(removed)
        report.pinned = resolve_pins(uow, config, (s.team for s in snapshots))
        _reconcile_roles(uow, config, report)
        for user in uow.users.by_github_ids(logins):
            login = logins[user.github_id] if user.github_id is not None else None
            if login and user.github_username != login:
                uow.users.update(user.slack_id, github_username=login)
                report.logins_updated += 1
    log.info(
        "team refresh: %d teams, changed=%s, %d failure(s)",
        report.teams_seen,
        report.changed,
        len(report.failures),
    )
    return report


def _reconcile_roles(uow: UnitOfWork, config: Config, report: RefreshReport) -> None:
    """Roles both ways from the mirror just written; the grants kept are listed."""
    for change in reconcile_all(uow, config):
        if change.kept:
            report.kept_last_admin.append(change.slack_id)
        elif change.promoted:
            report.promoted.append(change.line())
        else:
            report.demoted.append(change.line())
    for user in uow.users.with_roles():
        if user.role_source == "granted by an admin":
            report.granted.append(f"{user.slack_id} ({user.permission.value})")
