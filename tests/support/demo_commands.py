"""A feature module as a new command group would be written, for the registry tests:
``group`` with one command, ``/rocket demo echo WORD``, and the ``FEATURE`` that lists it."""

from __future__ import annotations

from app.feature import Feature
from app.services import Services
from app.slack.commands.registry import Call, CommandGroup, Message

group = CommandGroup("demo", "a demo group")


@group.command("echo", "say it back", lambda p: p.add_argument("word"))
def echo(services: Services, call: Call) -> Message:
    """Reply with the caller's id and the word."""
    return {"response_type": "ephemeral", "text": f"{call.caller}: {call.args.word}"}


FEATURE = Feature(name="demo", command_groups=(group,))
