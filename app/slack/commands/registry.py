"""Command groups: how a feature plugs into `/rocket`.

A feature module defines ``group = CommandGroup(...)`` and its commands::

    from app.slack.commands.registry import Call, CommandGroup
    from app.slack import blocks

    group = CommandGroup("team", "teams mirrored with GitHub")

    def _view_args(parser):
        parser.add_argument("team", metavar="TEAM", help="team name")

    @group.command("view", "show a team with its members and leads", _view_args)
    def view(services: Services, call: Call) -> blocks.Message:
        ...  # services (store, github, slack, config), call.caller, call.args
        return blocks.ok("…")

and its package's ``Feature`` lists the group (app.feature). A group may also register a
shortcut, a command typed without its group word (``@user ++``). ``Registry(groups)`` is built
once from the features' groups (app.features); the parser core (app.slack.commands.dispatch)
routes ``/rocket team view x`` through it, builds the command's argparse parser, turns bad
arguments into that command's help, a CommandError into a clear reply, and any other exception
into a generic reply with a reference. The command list (``/rocket help``) is made from it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.slack.commands.parsing import CommandParser

if TYPE_CHECKING:
    from app.services import Services

Message = dict[str, Any]
Configure = Callable[[CommandParser], None]


@dataclass(frozen=True)
class Call:
    """One invocation: the caller's Slack id, the parsed arguments and the command."""

    caller: str
    args: argparse.Namespace
    command: Command


Handler = Callable[["Services", Call], Message]


@dataclass(frozen=True)
class Command:
    """One ``/rocket GROUP NAME …`` command."""

    group: str
    name: str
    summary: str
    configure: Configure | None
    handler: Handler

    @property
    def prog(self) -> str:
        """How the command is typed, e.g. ``/rocket user add``."""
        return f"/rocket {self.group} {self.name}"

    def parser(self) -> CommandParser:
        """A fresh parser for this command (cheap; one per call keeps it thread-safe)."""
        parser = CommandParser(prog=self.prog, description=self.summary)
        if self.configure is not None:
            self.configure(parser)
        return parser

    def usage(self) -> str:
        """One-line usage, e.g. ``/rocket user add [-f]`` (built once: the help list asks often)."""
        return _usage_line(self)

    def help(self) -> str:
        """The full help: usage, summary and every argument."""
        return self.parser().format_help()


@functools.lru_cache(maxsize=512)
def _usage_line(command: Command) -> str:
    return command.parser().usage_line()


@dataclass(frozen=True)
class ShortcutCall:
    """One shortcut invocation: the caller, the words typed, and the delivery's claim (what
    an action that counts claims in the store, so a replay counts nothing twice)."""

    caller: str
    words: list[str]
    claim: str


ShortcutHandler = Callable[["Services", ShortcutCall], Message]


@dataclass(frozen=True)
class Shortcut:
    """A command typed without its group word; ``handler(services, call)``."""

    label: str
    matches: Callable[[list[str]], bool]
    handler: ShortcutHandler


@dataclass
class CommandGroup:
    """A named set of commands (``user``, ``karma``, ``team``, …) and its shortcuts."""

    name: str
    summary: str
    commands: dict[str, Command] = field(default_factory=dict)
    shortcuts: list[Shortcut] = field(default_factory=list)

    def shortcut(
        self, label: str, matches: Callable[[list[str]], bool]
    ) -> Callable[[ShortcutHandler], ShortcutHandler]:
        """Decorator: run ``handler`` for the words ``matches`` accepts (``label`` names it in
        the log)."""

        def register(handler: ShortcutHandler) -> ShortcutHandler:
            self.shortcuts.append(Shortcut(label, matches, handler))
            return handler

        return register

    def command(
        self, name: str, summary: str, arguments: Configure | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator: register ``handler`` as ``/rocket <group> <name>``."""

        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"command {self.name} {name} is registered twice")
            self.commands[name] = Command(self.name, name, summary, arguments, handler)
            return handler

        return register

    def get(self, name: str) -> Command | None:
        """The command called ``name`` (case-insensitive), or None."""
        return self.commands.get(name.lower())

    def help(self) -> str:
        """Usage of every command in the group, one per line."""
        return "\n".join(f"{c.usage()}\n    {c.summary}" for c in self.commands.values())


class Registry:
    """The command groups `/rocket` knows, in order (built once from the feature list; a name
    used twice is a ValueError). Read-only once built, so threads share it freely."""

    def __init__(self, groups: Iterable[CommandGroup] = ()) -> None:
        self._groups: dict[str, CommandGroup] = {}
        for group in groups:
            if group.name in self._groups:
                raise ValueError(f"command group {group.name} is registered twice")
            self._groups[group.name] = group

    def groups(self) -> dict[str, CommandGroup]:
        """Every group by name, in order."""
        return self._groups

    def find(self, name: str) -> CommandGroup | None:
        """The group called ``name`` (case-insensitive), or None."""
        return self._groups.get(name.lower())

    def find_shortcut(self, words: list[str]) -> Shortcut | None:
        """The first shortcut of any group that accepts ``words``, or None."""
        for group in self._groups.values():
            for shortcut in group.shortcuts:
                if shortcut.matches(words):
                    return shortcut
        return None
