"""Command groups and their registration: how a feature plugs into `/rocket`.

A feature is one module that defines ``group = CommandGroup(...)`` and its commands::

    from app.commands.registry import Call, CommandGroup
    from app.commands import replies

    group = CommandGroup("team", "teams mirrored with GitHub")

    def _view_args(parser):
        parser.add_argument("team", metavar="TEAM", help="team name")

    @group.command("view", "show a team with its members and leads", _view_args)
    def view(call: Call) -> replies.Message:
        ...  # call.ctx (store, github, slack, config), call.caller, call.args
        return replies.ok("…")

and is registered with one line in ``GROUP_MODULES`` below (or, for a group defined
elsewhere, with ``register(group)``). The parser core
(app.commands.dispatcher) routes ``/rocket team view x`` to it, builds its argparse parser,
turns bad arguments into that command's help, a CommandError into a clear reply, and any other
exception into a generic reply with a reference. The command list (``/rocket help``) is made
from the registered groups.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.commands.parsing import CommandParser

if TYPE_CHECKING:
    from app.commands import CommandContext

# Feature modules, in the order the command list shows them. Each defines ``group``.
GROUP_MODULES: tuple[str, ...] = (
    "app.commands.user",
    "app.commands.karma",
    "app.commands.team",
    "app.commands.export",
)

Message = dict[str, Any]
Configure = Callable[[CommandParser], None]


@dataclass(frozen=True)
class Call:
    """One invocation: the context, the caller's Slack id and the parsed arguments."""

    ctx: CommandContext
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


@dataclass
class CommandGroup:
    """A named set of commands (``user``, ``karma``, ``team``, …)."""

    name: str
    summary: str
    commands: dict[str, Command] = field(default_factory=dict)

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
    """The command groups of a list of feature modules, imported on first use.

    ``register`` adds a group that lives outside those modules (a plug-in, or a test's demo
    group) and ``unregister`` removes it again. Thread-safe.
    """

    def __init__(self, modules: tuple[str, ...] = GROUP_MODULES) -> None:
        self.modules = modules
        self._groups: dict[str, CommandGroup] | None = None
        self._lock = threading.Lock()

    def groups(self) -> dict[str, CommandGroup]:
        """Every registered group by name, in registration order."""
        if self._groups is None:
            with self._lock:
                if self._groups is None:
                    loaded: dict[str, CommandGroup] = {}
                    for module_name in self.modules:
                        _add(loaded, importlib.import_module(module_name).group)
                    self._groups = loaded
        return self._groups

    def find(self, name: str) -> CommandGroup | None:
        """The group called ``name`` (case-insensitive), or None."""
        return self.groups().get(name.lower())

    def register(self, group: CommandGroup) -> CommandGroup:
        """Add ``group`` after the module groups; a name already taken is a ValueError."""
        self.groups()  # the module groups first
        with self._lock:
            updated = dict(self._groups or {})
            _add(updated, group)
            self._groups = updated  # swapped whole, so readers never see a half-made dict
        return group

    def unregister(self, name: str) -> None:
        """Remove the group called ``name`` (no error if there is none)."""
        self.groups()
        with self._lock:
            current = self._groups or {}
            self._groups = {key: g for key, g in current.items() if key != name}


def _add(groups: dict[str, CommandGroup], group: CommandGroup) -> None:
    if group.name in groups:
        raise ValueError(f"command group {group.name} is registered twice")
    groups[group.name] = group


# The registry `/rocket` dispatches through.
REGISTRY = Registry()


def groups() -> dict[str, CommandGroup]:
    """Every registered group by name, importing the feature modules on first use."""
    return REGISTRY.groups()


def find_group(name: str) -> CommandGroup | None:
    """The group called ``name`` (case-insensitive), or None."""
    return REGISTRY.find(name)


def register(group: CommandGroup) -> CommandGroup:
    """Add ``group`` to the registry `/rocket` dispatches through (see ``Registry.register``)."""
    return REGISTRY.register(group)


def unregister(name: str) -> None:
    """Remove the group called ``name`` from the registry `/rocket` dispatches through."""
    REGISTRY.unregister(name)
