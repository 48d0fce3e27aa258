"""The teams feature: `/rocket team` and `/rocket export`, the organisation's webhooks mirrored
into the store, the scheduled refresh and the invitation queue."""

from __future__ import annotations

from collections.abc import Mapping

from app.feature import Feature
from app.github.webhooks import WebhookHandler
from app.services import Services
from app.teams import export_slash, invitations, jobs, slash
from app.teams.webhooks import event_handlers, webhook_client


def webhooks(services: Services) -> Mapping[str, WebhookHandler]:
    """X-GitHub-Event → handler: organization, team and membership (app.teams.webhooks)."""
    return event_handlers(services.store, webhook_client(services.config), services.config)


FEATURE = Feature(
    name="teams",
    command_groups=(slash.group, export_slash.group),
    webhooks=webhooks,
    jobs=(jobs.JOB, invitations.JOB),
    tables=("teams", "team_members", "team_leads", "special_teams", "queued_invitations"),
)
