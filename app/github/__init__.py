"""The GitHub App client (a thin httpx client; see app.github.client for why not PyGithub).

github = GitHubClient.from_config(config)   # no network yet
member = github.add_org_member("octocat")   # Membership(state, role, user=GitHubUser(id, login))
team = github.create_team("backend")        # GitHubTeam(id, name, slug, …), privacy closed
"""

from app.github.client import GitHubClient
from app.github.errors import (
    GitHubAuthError,
    GitHubDeadlineExceeded,
    GitHubError,
    GitHubInvitationCapped,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubTeamSynchronized,
    GitHubUnavailable,
    GitHubUnexpectedStatus,
    GitHubValidationError,
)
from app.github.models import GitHubTeam, GitHubUser, Membership

__all__ = [
    "GitHubAuthError",
    "GitHubClient",
    "GitHubDeadlineExceeded",
    "GitHubError",
    "GitHubInvitationCapped",
    "GitHubNotFound",
    "GitHubRateLimited",
    "GitHubTeam",
    "GitHubTeamSynchronized",
    "GitHubUnavailable",
    "GitHubUnexpectedStatus",
    "GitHubUser",
    "GitHubValidationError",
    "Membership",
]
