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

and is registered with one line in ``GROUP_MODULES`` below. The parser core
(app.commands.dispatcher) routes ``/rocket team view x`` to it, builds its argparse parser,
turns bad arguments into that command's help, a CommandError into a clear reply, and any other
exception into a generic reply with a reference. The command list (``/rocket help``) is made
from the registered groups.
"""

from __future__ import annotations

import argparse
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
        """One-line usage, e.g. ``/rocket user add [-f]``."""
        return self.parser().usage_line()

    def help(self) -> str:
        """The full help: usage, summary and every argument."""
        return self.parser().format_help()


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


_groups: dict[str, CommandGroup] | None = None
_lock = threading.Lock()


def groups() -> dict[str, CommandGroup]:
    """Every registered group by name, importing the feature modules on first use."""
    global _groups
    if _groups is None:
        with _lock:
            if _groups is None:
                loaded: dict[str, CommandGroup] = {}
                for module_name in GROUP_MODULES:
                    group = importlib.import_module(module_name).group
                    if group.name in loaded:
                        raise ValueError(f"command group {group.name} is registered twice")
                    loaded[group.name] = group
                _groups = loaded
    return _groups


def find_group(name: str) -> CommandGroup | None:
    """The group called ``name`` (case-insensitive), or None."""
    return groups().get(name.lower())
