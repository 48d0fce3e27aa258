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


class GitHubAuthError(GitHubError):
    """401/403: the App's credentials were refused or lack a permission."""


class GitHubRateLimited(GitHubError):
    """403/429 with the rate limit exhausted."""


class GitHubUnavailable(GitHubError):
    """5xx after the bounded retries, a timeout, or no connection."""


class GitHubDeadlineExceeded(GitHubUnavailable):
    """The caller's deadline (``GitHubClient.deadline``) ran out before the call finished."""
