"""The `/rocket` parser core: text → words → group → command → argparse → handler → reply.

- ``help``, nothing, or an unknown first word: the list of every command;
- ``help GROUP`` / ``GROUP`` alone / an unknown sub-command: that group's commands;
- ``--help`` / ``-h`` after a command, or arguments that do not parse: that command's help;
- a shortcut a group registered (``@user ++``: a karma point);
- a CommandError (refusal, bad value, missing record): its text, as a warning;
- a GitHub error that the command did not turn into a CommandError: what GitHub said;
- anything else: a generic "something went wrong, ref <request id>" reply, with the traceback
  in the log under that request id. The user never sees a stack trace.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from app.github import GitHubError
from app.logs import REQUEST_ID, log_id
from app.slack import blocks
from app.slack.commands import help as command_help
from app.slack.commands.errors import CommandError, PermissionDenied, UsageError
from app.slack.commands.parsing import split
from app.slack.commands.registry import Call, Command, Registry, ShortcutCall
from app.store import NotFound
from app.store.errors import outage_cause

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger("rocket2.commands")

HELP_WORDS = frozenset({"help", "-h", "--help"})
STORE_ERROR = (
    "Rocket 2 cannot use its database right now ({cause}), so this was not done. Please try "
    "again in a few minutes; if it keeps happening, tell an admin this reference: `{ref}`."
)
GENERIC_ERROR = (
    "Sorry, something went wrong on Rocket 2's side. Please try again in a minute; if it keeps "
    "happening, tell an admin this reference: `{ref}`."
)


class CommandOutcome(StrEnum):
    """How a command ended, as the log line names it."""

    OK = "ok"
    USAGE = "usage"
    REFUSED = "refused"
    GITHUB = "github"
    ERROR = "error"


Routed = tuple[blocks.Message, CommandOutcome]


@dataclass(frozen=True)
class Commands:
    """The `/rocket` commands an app was built with (``Services.commands``)."""

    registry: Registry

    def dispatch(
        self, text: str, user_id: str, services: Services, claim: str = ""
    ) -> blocks.Message:
        """Run one `/rocket TEXT` (see ``dispatch``)."""
        return dispatch_through(self.registry, text, user_id, services, claim)


def dispatch(text: str, user_id: str, services: Services, claim: str = "") -> blocks.Message:
    """Run one `/rocket TEXT` from ``user_id`` through ``services.commands`` (never raises)."""
    return services.commands.dispatch(text, user_id, services, claim)


def dispatch_through(
    registry: Registry, text: str, user_id: str, services: Services, claim: str = ""
) -> blocks.Message:
    """Run one `/rocket TEXT` from ``user_id`` and return the reply (never raises).

    ``claim`` names this delivery in the store (``trigger:…`` for a slash command, the event
    id for a mention): an action that counts (``@user ++``) claims it in the same unit of
    work as its change, so a replay, here or at another instance, counts nothing twice.
    """
    started = time.monotonic()
    label = "?"
    try:
        words = split(text)
        label = _label(registry, words)
        reply, outcome = _route(registry, words, user_id, services, claim)
    except UsageError as exc:
        reply, outcome = blocks.error(str(exc)), CommandOutcome.USAGE
    except Exception as exc:
        ref = REQUEST_ID.get() or uuid.uuid4().hex
        log.exception("command %s failed (ref %s)", label, ref)  # one line: app.logs
        cause = outage_cause(exc) if isinstance(exc, SQLAlchemyError) else None
        text = STORE_ERROR.format(cause=cause, ref=ref) if cause else GENERIC_ERROR.format(ref=ref)
        reply, outcome = blocks.error(text), CommandOutcome.ERROR
    log.info(
        "command %s by %s: %s in %d ms",
        label,
        log_id(user_id),
        outcome,
        (time.monotonic() - started) * 1000,
    )
    return reply


def _label(registry: Registry, words: list[str]) -> str:
    """What the log calls the command (no argument values): ``user edit``, ``help``, …"""
    if not words or words[0].lower() in HELP_WORDS:
        return "help"
    shortcut = registry.find_shortcut(words)
    if shortcut is not None:
        return shortcut.label
    group = registry.find(words[0])
    if group is None:
        return "unknown"
    command = group.get(words[1]) if len(words) > 1 else None
    return f"{group.name} {command.name if command else 'help'}"


def _route(
    registry: Registry, words: list[str], user_id: str, services: Services, claim: str
) -> Routed:
    if not words or words[0].lower() in HELP_WORDS:
        found = registry.find(words[1]) if len(words) > 1 else None
        if found is not None:
            return command_help.group_message(found), CommandOutcome.OK
        return command_help.command_list_message(registry), CommandOutcome.OK
    shortcut = registry.find_shortcut(words)
    if shortcut is not None:
        typed = ShortcutCall(caller=user_id, words=words, claim=claim)
        return _guarded(lambda: shortcut.handler(services, typed))
    group = registry.find(words[0])
    if group is None:
        return command_help.command_list_message(registry, unknown=words[0]), CommandOutcome.OK
    if len(words) == 1 or words[1].lower() in HELP_WORDS:
        return command_help.group_message(group), CommandOutcome.OK
    command = group.get(words[1])
    if command is None:
        return command_help.group_message(group, unknown=words[1]), CommandOutcome.OK
    return _run_command(command, words[2:], user_id, services)


def _run_command(command: Command, words: list[str], user_id: str, services: Services) -> Routed:
    if any(w in ("-h", "--help") for w in words):
        return command_help.command_message(command), CommandOutcome.OK
    try:
        args = command.parser().parse(words)
    except UsageError as exc:
        return command_help.command_message(command, str(exc)), CommandOutcome.USAGE
    call = Call(caller=user_id, args=args, command=command)
    return _guarded(lambda: command.handler(services, call))


def _guarded(run: Callable[[], blocks.Message]) -> Routed:
    """Run a handler, turning the errors a user can act on into blocks."""
    try:
        return run(), CommandOutcome.OK
    except PermissionDenied as exc:
        return blocks.error(f":no_entry: {exc}"), CommandOutcome.REFUSED
    except UsageError:
        raise
    except CommandError as exc:
        return blocks.error(str(exc)), CommandOutcome.REFUSED
    except NotFound as exc:
        return blocks.error(f"Not found: {blocks.escape(str(exc))}."), CommandOutcome.REFUSED
    except GitHubError as exc:
        log.warning("GitHub call failed: %s", exc)
        text = f"GitHub did not do it: {blocks.escape(str(exc))}. Nothing was changed here."
        return blocks.error(text), CommandOutcome.GITHUB
