"""Errors from the GitHub client. Each names the operation that failed and GitHub's reason, and
never contains a token (installation tokens and App JWTs are scrubbed before formatting)."""

from __future__ import annotations

MAX_DETAIL = 300


class GitHubError(Exception):
    """A GitHub API call failed. ``operation`` says what was attempted, ``status`` the HTTP code
    (None when no answer arrived), ``detail`` GitHub's own message."""

    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        self.operation = operation
        self.status = status
        self.detail = detail[:MAX_DETAIL]
        code = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"GitHub: {operation} failed ({code}): {self.detail}")


class GitHubNotFound(GitHubError):
    """404: the user, team or installation does not exist (or the App cannot see it)."""


class GitHubValidationError(GitHubError):
    """422: GitHub refused the input (e.g. a team name already taken)."""


class GitHubInvitationCapped(GitHubValidationError):
    """422 on a PUT that would invite a non-member to the organisation: read as GitHub's cap on
    invitations (50, or 500, within 24 hours; docs/decisions/0024-invitation-queue.md)."""


class GitHubAuthError(GitHubError):
    """401/403: the App's credentials were refused or lack a permission."""


class GitHubRateLimited(GitHubError):
    """403/429: a primary or secondary rate limit; ``retry_in``: the seconds GitHub asks for."""

    def __init__(
        self, operation: str, status: int | None, detail: str, retry_in: float | None = None
    ) -> None:
        super().__init__(operation, status, detail)
        self.retry_in = retry_in


class GitHubUnexpectedStatus(GitHubError):
    """A status GitHub's description does not list for the call: a failure on GitHub's side,
    never read as "absent" or "refused"."""


class GitHubTeamSynchronized(GitHubError):
    """403 on a team membership change: the team is synchronised with an identity provider,
    so its members are changed there (as GitHub documents for that call)."""


class GitHubUnavailable(GitHubError):
    """5xx after the bounded retries, a timeout, or no connection."""


class GitHubDeadlineExceeded(GitHubUnavailable):
    """The caller's deadline (``GitHubClient.deadline``) ran out before the call finished."""
