"""One try at a queued invitation, and what GitHub's answer means for it
(docs/decisions/0035-a-refused-invitation-does-not-block-the-queue.md).

GitHub's description lists 200, 403 and 422 for both invitation PUTs. Only what it documents is
read as final: a 404 on ``GET /user/{account_id}`` (the account is gone), a 404 on
``GET /orgs/{org}/teams/{team_slug}`` (the team is gone), the team PUT's 403 (team
synchronisation) and a 422 for an organisation member on the team PUT. A 422 for a non-member
may be the cap or this account (blocked, suspended): ``REFUSED``, for the caller to weigh.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.github import (
    GitHubClient,
    GitHubError,
    GitHubInvitationCapped,
    GitHubNotFound,
    GitHubTeamSynchronized,
    GitHubUnexpectedStatus,
    GitHubValidationError,
)


class Fate(enum.Enum):
    """What became of one try."""

    SENT = "sent"
    REFUSED = "refused"  # a 422 for a non-member: the cap, or this account
    GONE = "gone"  # the account or the team no longer exists: drop it
    FINAL = "final"  # refused for a reason that will not pass by itself: park it


@dataclass(frozen=True)
class Attempt:
    """The fate, why (GitHub's words or ours), and the account's login now."""

    fate: Fate
    reason: str
    login: str


def _put(github: GitHubClient, login: str, team_slug: str, role: str) -> None:
    if team_slug:
        github.add_team_member(team_slug, login, role=role)
    else:
        github.add_org_member(login)


def _gone(github: GitHubClient, github_id: int, team_slug: str) -> tuple[str, str]:
    """(why it can never be sent, or ''; the account's login now, or '')."""
    try:
        login = github.get_user_by_id(github_id).login
    except GitHubNotFound:
        return f"the GitHub account (id {github_id}) no longer exists", ""
    if team_slug:
        try:
            github.get_team(team_slug)
        except GitHubNotFound:
            return f"team {team_slug} no longer exists on GitHub", login
    return "", login


def attempt(
    github: GitHubClient,
    github_id: int,
    login: str,
    team_slug: str,
    role: str,
    *,
    again: bool = True,
) -> Attempt:
    """Send the invitation once (once more under the new login if the account was renamed).
    Raises the GitHubError of a failure that is not this invitation's (credentials, rate
    limits, GitHub unavailable, a status GitHub does not document): the run stops there."""
    try:
        _put(github, login, team_slug, role)
        return Attempt(Fate.SENT, "", login)
    except GitHubInvitationCapped as exc:
        refusal: GitHubError = exc
    except GitHubTeamSynchronized:
        why = f"team {team_slug} is managed by an identity provider (team synchronisation)"
        return Attempt(Fate.FINAL, why, login)
    except GitHubValidationError as exc:  # the team PUT's 422 for an organisation member
        return Attempt(Fate.FINAL, f"GitHub refused it: {exc.detail}", login)
    except GitHubUnexpectedStatus as exc:  # e.g. the 404 GitHub gives a name it does not know
        refusal = exc
    gone, now = _gone(github, github_id, team_slug)
    if gone:
        return Attempt(Fate.GONE, gone, now or login)
    if again and now.lower() != login.lower():
        return attempt(github, github_id, now, team_slug, role, again=False)
    if isinstance(refusal, GitHubUnexpectedStatus):
        raise refusal
    return Attempt(Fate.REFUSED, refusal.detail or "refused (HTTP 422)", login)
