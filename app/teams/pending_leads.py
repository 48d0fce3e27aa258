"""Leads recorded before they were organisation members (``team create --lead``, ``team lead``
for someone GitHub had to invite): when they join the organisation, each team they lead has
them as its maintainer on GitHub and as a member here.

GitHub documents that a team membership made for a non-member stays "pending" until the
invitation is accepted, then becomes active with its role; ``confirm`` sets the maintainer role
where the membership is missing or a plain one (a team PUT that failed or was never sent).
"""

from __future__ import annotations

from app.github import GitHubClient, GitHubTeam
from app.store import Store, UnitOfWork
from app.teams.mirror import mirror_team, on_join
from config import Config


def confirm(github: GitHubClient, store: Store, github_id: int, login: str) -> list[GitHubTeam]:
    """Make ``login`` the maintainer on GitHub of each team the store has them leading but
    not as a member; the teams where their membership is active now."""
    with store.unit_of_work() as uow:
        led = [
            GitHubTeam(t.github_team_id, t.github_team_name, t.slug)
            for t in uow.teams.teams_led_by(github_id)
            if t.slug and github_id not in t.members
        ]
    active = []
    for team in led:
        membership = github.get_team_membership(team.slug, login)
        if membership is None or membership.role != "maintainer":
            membership = github.add_team_member(team.slug, login, role="maintainer")
        if not membership.pending:
            active.append(team)
    return active


def mirror(uow: UnitOfWork, config: Config, teams: list[GitHubTeam], github_id: int) -> None:
    """Record ``github_id`` as a member of ``teams`` here (roles the teams give, recomputed)."""
    for team in teams:
        local, _ = mirror_team(uow, team.id, team.name, team.slug)
        uow.teams.add_member(team.id, github_id)
        on_join(uow, config, local, github_id)
