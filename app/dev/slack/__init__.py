"""The Slack stand-in (one for the playground and the tests): see app.dev.slack.standin."""

from app.dev.slack.standin import BOT_USER, TEAM_ID, SlackStandIn
from app.dev.slack.workspace import EMAIL_DOMAIN, Identity, dm_id, empty_workspace

__all__ = [
    "BOT_USER",
    "EMAIL_DOMAIN",
    "TEAM_ID",
    "Identity",
    "SlackStandIn",
    "dm_id",
    "empty_workspace",
]
