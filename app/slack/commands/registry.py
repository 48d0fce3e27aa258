"""Command groups and their registration: how a feature plugs into `/rocket`.

A feature is one module that defines ``group = CommandGroup(...)`` and its commands::

    from app.slack.commands.registry import Call, CommandGroup
    from app.slack import blocks

    group = CommandGroup("team", "teams mirrored with GitHub")

    def _view_args(parser):
        parser.add_argument("team", metavar="TEAM", help="team name")

    @group.command("view", "show a team with its members and leads", _view_args)
    def view(call: Call) -> blocks.Message:
        ...  # call.ctx (store, github, slack, config), call.caller, call.args
        return blocks.ok("…")

and is listed once in app.features (``install``), or added later with ``register(group)``.
A group may also register a shortcut, a command typed without its group word (``@user ++``).
The parser core
(app.slack.commands.dispatch) routes ``/rocket team view x`` to it, builds its argparse parser,
turns bad arguments into that command's help, a CommandError into a clear reply, and any other
exception into a generic reply with a reference. The command list (``/rocket help``) is made
from the registered groups.
"""

from __future__ import annotations

import argparse
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.slack.commands.parsing import CommandParser

if TYPE_CHECKING:
    from app.services import Services

Message = dict[str, Any]
Configure = Callable[[CommandParser], None]


@dataclass(frozen=True)
class Call:
    """One invocation: the context, the caller's Slack id and the parsed arguments."""

    ctx: Services
    caller: str
    args: argparse.Namespace
    command: Command


Handler = Callable[[Call], Message]


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


ShortcutHandler = Callable[["Services", str, list[str], str], Message]


@dataclass(frozen=True)
class Shortcut:
    """A command typed without its group word; ``handler(ctx, caller, words, claim)``."""

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
    """The command groups `/rocket` knows: those ``install``ed (app.features lists them), then
    any ``register``ed later (a plug-in, or a test's demo group). Thread-safe."""

    def __init__(self) -> None:
        self._groups: dict[str, CommandGroup] = {}
        self._lock = threading.Lock()

    def install(self, groups: tuple[CommandGroup, ...]) -> None:
        """Make ``groups`` the groups, in this order (again with the same groups: no change)."""
        with self._lock:
            if tuple(self._groups.values())[: len(groups)] == groups:
                return
            installed: dict[str, CommandGroup] = {}
            for group in groups:
                _add(installed, group)
            self._groups = installed  # swapped whole, so readers never see a half-made dict

    def groups(self) -> dict[str, CommandGroup]:
        """Every registered group by name, in registration order."""
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

    def register(self, group: CommandGroup) -> CommandGroup:
        """Add ``group`` after the installed groups; a name already taken is a ValueError."""
        with self._lock:
            updated = dict(self._groups)
            _add(updated, group)
            self._groups = updated
        return group

    def unregister(self, name: str) -> None:
        """Remove the group called ``name`` (no error if there is none)."""
        with self._lock:
            self._groups = {key: g for key, g in self._groups.items() if key != name}


def _add(groups: dict[str, CommandGroup], group: CommandGroup) -> None:
    if group.name in groups:
        raise ValueError(f"command group {group.name} is registered twice")
    groups[group.name] = group


# The registry `/rocket` dispatches through.
REGISTRY = Registry()


def groups() -> dict[str, CommandGroup]:
    """Every registered group by name."""
    return REGISTRY.groups()


def find_shortcut(words: list[str]) -> Shortcut | None:
    """The shortcut that accepts ``words``, or None."""
    return REGISTRY.find_shortcut(words)


def find_group(name: str) -> CommandGroup | None:
    """The group called ``name`` (case-insensitive), or None."""
    return REGISTRY.find(name)


def register(group: CommandGroup) -> CommandGroup:
    """Add ``group`` to the registry `/rocket` dispatches through (see ``Registry.register``)."""
    return REGISTRY.register(group)


def unregister(name: str) -> None:
    """Remove the group called ``name`` from the registry `/rocket` dispatches through."""
    REGISTRY.unregister(name)
