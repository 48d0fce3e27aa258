"""The teams feature: `/rocket team` and `/rocket export`, the organisation's webhooks mirrored
into the store (app.teams.webhooks' router), the scheduled refresh and the invitation queue."""

from __future__ import annotations

from app.feature import Feature
from app.teams import export_slash, invitations, jobs, slash, webhooks

FEATURE = Feature(
    name="teams",
    command_groups=(slash.group, export_slash.group),
    webhooks=webhooks.router,
    jobs=(jobs.JOB, invitations.JOB),
    tables=(
        "teams",
        "team_members",
        "team_leads",
        "special_teams",
        "queued_invitations",
    ),
)
