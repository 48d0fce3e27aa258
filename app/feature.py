"""The one contract of a feature package: ``FEATURE = Feature(...)``.

A feature declares its ``/rocket`` command groups, the Slack events it handles (type → shape
and handler), its GitHub webhook handlers, its scheduled jobs and the store tables it owns.
Every handler takes the ``Services`` bundle plus its typed payload:

- a command ``handler(services, call)`` (app.slack.commands.registry.Call);
- a Slack event ``handler(services, event, event_id)``: ``event`` is the checked Struct;
- a webhook ``handler(services, event, delivery)`` on the feature's ``Router``
  (app.github.webhooks): ``event`` is the checked Struct of its action;
- a job ``run(services, now)``; the scheduler (app.server.scheduler) runs it once per ``slot``
  and reports its failure.

app.features lists the features; everything else is built from that list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from msgspec import Struct

from app.github.webhooks import Router
from app.services import Services
from app.slack.commands.registry import CommandGroup
from config import Config


@dataclass(frozen=True)
class SlackEvent[E: Struct]:
    """An Events API event type, the Struct its ``event`` object is checked into, and the
    handler that gets it with the envelope's event id (the claim of what it counts)."""

    event_type: str
    shape: type[E]
    handler: Callable[[Services, E, str], None]


class RunSlot(StrEnum):
    """How long one run of a job counts as done (docs/decisions/0037): the scheduler claims
    ``job:<id>:<slot>`` and skips a second run in the same slot."""

    DAY = "day"  # the date in SCHEDULER_TIMEZONE
    MINUTE = "minute"  # the UTC minute the run started


@dataclass(frozen=True)
class ScheduledJob:
    """A job: ``trigger(config)`` says when (None: off in this config), ``run(services, now)``
    does it (``now``: the run's time, UTC). ``lock`` names the cross-instance lock held while
    it runs (default: its id); with ``hold_lock`` False the slot's claim alone guards it."""

    id: str
    name: str
    trigger: Callable[[Config], BaseTrigger | None]
    run: Callable[[Services, datetime], object]
    slot: RunSlot = RunSlot.MINUTE
    lock: str = ""
    hold_lock: bool = True

    @property
    def lock_name(self) -> str | None:
        """The cross-instance lock a run holds, or None (the claim alone)."""
        return (self.lock or self.id) if self.hold_lock else None


@dataclass(frozen=True)
class Feature:
    """What one feature package plugs into Rocket 2 (all optional but its name)."""

    name: str
    command_groups: tuple[CommandGroup, ...] = ()
    slack_events: tuple[SlackEvent[Any], ...] = ()
    webhooks: Router[Services] | None = None
    jobs: tuple[ScheduledJob, ...] = ()
    tables: tuple[str, ...] = field(default=())
