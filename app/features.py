"""The features Rocket 2 is made of: the one list, and what is built from it.

Each feature package exposes ``FEATURE = Feature(...)`` (app.feature); adding a feature is that
package and one entry in ``FEATURES``. The command registry, the Slack event table, the GitHub
webhook table, the scheduled jobs and the tables are all built from the list.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from app import announcements
from app.backups import feature as backups
from app.feature import Feature, ScheduledJob, SlackEvent
from app.github import GitHubClient
from app.github.webhooks import Router
from app.members import feature as members
from app.services import Services, make_services
from app.slack.commands.dispatch import Commands
from app.slack.commands.registry import Registry
from app.store import Store
from app.teams import feature as teams
from config import Config

# In this order: `/rocket help` lists the groups, and the scheduler the jobs, in it.
FEATURES: tuple[Feature, ...] = (
    members.FEATURE,
    announcements.FEATURE,
    teams.FEATURE,
    backups.FEATURE,
)


def build_registry(features: tuple[Feature, ...] = FEATURES) -> Registry:
    """The `/rocket` command registry: every feature's groups, in order."""
    return Registry(group for feature in features for group in feature.command_groups)


def build_services(
    config: Config,
    slack: WebClient,
    features: tuple[Feature, ...] = FEATURES,
    *,
    store: Store | None = None,
    github: GitHubClient | None = None,
) -> Services:
    """The per-worker bundle with the features' commands (no network I/O)."""
    commands = Commands(build_registry(features))
    return make_services(config, slack, commands, store=store, github=github)


def slack_events(features: tuple[Feature, ...] = FEATURES) -> dict[str, SlackEvent[Any]]:
    """Slack event type → its shape and handler; a type handled twice is a ValueError."""
    events: dict[str, SlackEvent[Any]] = {}
    for event in (event for feature in features for event in feature.slack_events):
        if event.event_type in events:
            raise ValueError(f"Slack event {event.event_type} is handled twice")
        events[event.event_type] = event
    return events


def webhook_router(features: tuple[Feature, ...] = FEATURES) -> Router[Services]:
    """Every feature's webhook router in one; an event and action handled twice is a
    ValueError."""
    return Router(*(feature.webhooks for feature in features if feature.webhooks is not None))


def scheduled_jobs(features: tuple[Feature, ...] = FEATURES) -> tuple[ScheduledJob, ...]:
    """Every feature's jobs, in order."""
    return tuple(job for feature in features for job in feature.jobs)


def feature_tables(features: tuple[Feature, ...] = FEATURES) -> tuple[str, ...]:
    """Every table a feature owns."""
    return tuple(table for feature in features for table in feature.tables)
