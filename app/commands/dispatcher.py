"""The `/rocket` parser core: text → words → group → command → argparse → handler → reply.

- ``help``, nothing, or an unknown first word: the list of every command;
- ``help GROUP`` / ``GROUP`` alone / an unknown sub-command: that group's commands;
- ``--help`` / ``-h`` after a command, or arguments that do not parse: that command's help;
- ``@user ++``: a karma point;
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
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from app.commands import help as help_replies
from app.commands import replies
from app.commands.errors import CommandError, PermissionDenied, UsageError
from app.commands.parsing import split
from app.commands.registry import Call, Command, find_group
from app.github import GitHubError
from app.logs import REQUEST_ID, log_id
from app.slack_ids import SLACK_USER_ID
from app.store import NotFound
from app.store.errors import outage_cause

if TYPE_CHECKING:
    from app.commands import CommandContext

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


def dispatch(text: str, user_id: str, ctx: CommandContext, claim: str = "") -> replies.Message:
    """Run one `/rocket TEXT` from ``user_id`` and return the reply (never raises).

    ``claim`` names this delivery in the store (``trigger:…`` for a slash command, the event
    id for a mention): an action that counts (``@user ++``) claims it in the same unit of
    work as its change, so a replay, here or at another instance, counts nothing twice.
    """
    started = time.monotonic()
    label = "?"
    try:
        words = split(text)
        label = _label(words)
        reply = _route(words, user_id, ctx, claim)
        outcome = "ok"
    except UsageError as exc:
        reply, outcome = replies.error(str(exc)), "usage"
    except Exception as exc:
        ref = REQUEST_ID.get() or uuid.uuid4().hex
        log.exception("command %s failed (ref %s)", label, ref)  # one line: app.logs
        cause = outage_cause(exc) if isinstance(exc, SQLAlchemyError) else None
        text = STORE_ERROR.format(cause=cause, ref=ref) if cause else GENERIC_ERROR.format(ref=ref)
        reply, outcome = replies.error(text), "error"
    else:
        outcome = str(reply.pop("_outcome", outcome))
    log.info(
        "command %s by %s: %s in %d ms",
        label,
        log_id(user_id),
        outcome,
        (time.monotonic() - started) * 1000,
    )
    return reply


def _is_plus_one(words: list[str]) -> bool:
    return len(words) == 2 and words[1] == "++" and bool(SLACK_USER_ID.match(words[0].lstrip("@")))


def _label(words: list[str]) -> str:
    """What the log calls the command (no argument values): ``user edit``, ``help``, …"""
    if not words or words[0].lower() in HELP_WORDS:
        return "help"
    if _is_plus_one(words):
        return "karma ++"
    group = find_group(words[0])
    if group is None:
        return "unknown"
    command = group.get(words[1]) if len(words) > 1 else None
    return f"{group.name} {command.name if command else 'help'}"


def _route(words: list[str], user_id: str, ctx: CommandContext, claim: str) -> replies.Message:
    if not words or words[0].lower() in HELP_WORDS:
        found = find_group(words[1]) if len(words) > 1 else None
        if found is not None:
            return help_replies.group_message(found)
        return help_replies.command_list_message()
    if _is_plus_one(words):
        from app.commands.karma import plus_one

        return _guarded(lambda: plus_one(ctx, user_id, words[0].lstrip("@"), claim=claim))
    group = find_group(words[0])
    if group is None:
        return help_replies.command_list_message(unknown=words[0])
    if len(words) == 1 or words[1].lower() in HELP_WORDS:
        return help_replies.group_message(group)
    command = group.get(words[1])
    if command is None:
        return help_replies.group_message(group, unknown=words[1])
    return _run(command, words[2:], user_id, ctx)


def _run(command: Command, words: list[str], user_id: str, ctx: CommandContext) -> replies.Message:
    if any(w in ("-h", "--help") for w in words):
        return help_replies.command_message(command)
    try:
        args = command.parser().parse(words)
    except UsageError as exc:
        return _tag(help_replies.command_message(command, str(exc)), "usage")
    call = Call(ctx=ctx, caller=user_id, args=args, command=command)
    return _guarded(lambda: command.handler(call))


def _guarded(run: Callable[[], replies.Message]) -> replies.Message:
    """Run a handler, turning the errors a user can act on into replies."""
    try:
        return run()
    except PermissionDenied as exc:
        return _tag(replies.error(f":no_entry: {exc}"), "refused")
    except UsageError:
        raise
    except CommandError as exc:
        return _tag(replies.error(str(exc)), "refused")
    except NotFound as exc:
        return _tag(replies.error(f"Not found: {replies.escape(str(exc))}."), "refused")
    except GitHubError as exc:
        log.warning("GitHub call failed: %s", exc)
        text = f"GitHub did not do it: {replies.escape(str(exc))}. Nothing was changed here."
        return _tag(replies.error(text), "github")


def _tag(reply: replies.Message, outcome: str) -> replies.Message:
    reply["_outcome"] = outcome
    return reply
