"""Every check `rocket2 doctor` runs, in order. A check is a small function of the Context
that returns one Result; add one by writing it in the module of what it checks and listing it
here."""

from __future__ import annotations

from collections.abc import Callable

from app.doctor import github_checks, public_checks, slack_checks, store_checks
from app.doctor.context import Context
from app.doctor.report import Result

Check = Callable[[Context], Result]

SLACK: tuple[Check, ...] = (
    slack_checks.slack_auth,
    slack_checks.slack_workspace,
    slack_checks.slack_scopes,
    slack_checks.slack_notification_channel,
    slack_checks.slack_announcement_channel,
)
GITHUB: tuple[Check, ...] = (
    github_checks.github_app,
    github_checks.github_permissions,
    github_checks.github_installation,
    github_checks.github_webhook,
    github_checks.github_deliveries,
    github_checks.github_teams,
)
PUBLIC_URL: tuple[Check, ...] = (
    public_checks.public_url,
    public_checks.public_https,
    public_checks.public_version,
)
STORE: tuple[Check, ...] = (
    store_checks.store_schema,
    store_checks.store_durability,
)

CHECKS: tuple[Check, ...] = SLACK + GITHUB + PUBLIC_URL + STORE
