"""The features Rocket 2 is made of, and the one list that combines what each registers.

A feature package declares its slash command groups (``CommandGroup``), Slack event handlers
GitHub webhook handlers and scheduled jobs (``ScheduledJob``); adding one touches that package
and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app import announcements
from app.backups import job as backup_job
from app.github.webhooks import Router
from app.members import karma, onboarding, user
from app.members.mentions import on_mention
from app.services import ScheduledJob, Services
from app.slack.commands.dispatch import dispatch
from app.slack.commands.registry import REGISTRY, CommandGroup
from app.teams import export_slash, invitations, slash
from app.teams import jobs as team_jobs
from app.teams import webhooks as team_webhooks

SlackEventHandler = Callable[[dict[str, Any], str], None]

# The `/rocket` groups, in the order the command list shows them.
COMMAND_GROUPS: tuple[CommandGroup, ...] = (
    user.group,
    karma.group,
    slash.group,
    export_slash.group,
)
REGISTRY.install(COMMAND_GROUPS)
# The scheduled jobs (app.server.scheduler runs them once per instance, or across instances).
SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    announcements.JOB,
    team_jobs.JOB,
    invitations.JOB,
    backup_job.JOB,
)

# The GitHub webhook handlers (app.web.github routes a delivery to them with the services
# whose GitHub client is the webhook one).
WEBHOOKS: Router[Services] = Router(team_webhooks.router)

__all__ = ["WEBHOOKS", "SlackEventHandler", "dispatch"]


def slack_event_handlers(ctx: Services) -> Mapping[str, SlackEventHandler]:
    """Slack event type → handler(event, event_id)."""
    return {
        "app_mention": lambda event, event_id: on_mention(ctx, event, event_id),
        "team_join": lambda event, event_id: onboarding.on_team_join(ctx, event, event_id),
    }
