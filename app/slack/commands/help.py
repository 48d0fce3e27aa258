"""Help replies: the list of every command, one group's commands, one command's help.

The list is made from the registry (built from the feature list, app.features), so a new group
appears in ``/rocket help`` by being in a feature.
"""

from __future__ import annotations

from argparse import SUPPRESS, Action

from app.slack import blocks
from app.slack.commands.registry import Command, CommandGroup, Registry

TITLE = "Rocket 2 commands"
BUILT_IN: tuple[tuple[str, str], ...] = (
    ("/rocket help [GROUP]", "show this list, or one group's commands"),
    ("/rocket @user ++", "give someone a karma point (not yourself)"),
)
MORE = "Add `--help` after any command for its options, e.g. `/rocket user edit --help`."


def command_lines(registry: Registry) -> list[str]:
    """One mrkdwn line per command: ``usage`` — summary."""
    lines = [f"`{usage}` — {what}" for usage, what in BUILT_IN]
    for group in registry.groups().values():
        lines.extend(f"`{c.usage()}` — {c.summary}" for c in group.commands.values())
    return lines


def command_list_message(registry: Registry, unknown: str | None = None) -> blocks.Message:
    """Every command, as an ephemeral message; ``unknown`` names a command we did not know."""
    intro = f"I don't know the command {blocks.code(unknown)}. " if unknown else ""
    intro += "Here is what I can do:"
    lines = command_lines(registry)
    parts = [blocks.header(TITLE), blocks.section(intro)]
    parts += blocks.lines_blocks(lines)
    parts.append(blocks.context(MORE))
    return blocks.message(f"{TITLE}: {intro}\n" + "\n".join(lines), parts)


def group_message(group: CommandGroup, unknown: str | None = None) -> blocks.Message:
    """The commands of one group; ``unknown`` names a sub-command we did not know."""
    intro = f"`{group.name}` has no command {blocks.code(unknown)}. " if unknown else ""
    intro += f"`/rocket {group.name}`: {group.summary}"
    lines = [f"`{c.usage()}` — {c.summary}" for c in group.commands.values()]
    parts = [blocks.section(intro), *blocks.lines_blocks(lines), blocks.context(MORE)]
    return blocks.message(intro + "\n" + "\n".join(lines), parts)


def command_message(command: Command, problem: str | None = None) -> blocks.Message:
    """One command's help; with ``problem``, it explains what was wrong with the arguments."""
    help_text = command.help()
    if problem is None:
        parts = [blocks.section(f"`{command.prog}`: {command.summary}")]
        parts += blocks.code_blocks(help_text)
        return blocks.message(f"{command.prog}: {command.summary}\n{help_text}", parts)
    text = f"`{command.prog}`: {blocks.escape(problem)}"
    return blocks.error(text, help_text)


def markdown_reference(registry: Registry) -> str:
    """The members' command reference (docs/members/commands.md) as Markdown, made from the
    registry: each command's usage, summary and options."""
    parts = [f"- `{usage}` — {what}" for usage, what in BUILT_IN]
    for group in registry.groups().values():
        parts.append(f"\n### `/rocket {group.name}`: {group.summary}")
        parts.extend(_command_markdown(command) for command in group.commands.values())
    return "\n".join(parts) + "\n"


def _command_markdown(command: Command) -> str:
    lines = [f"\n#### `{command.prog}`\n", f"`{command.usage()}` — {command.summary}"]
    options = [action for action in command.parser()._actions if action.help != SUPPRESS]
    if options:
        lines.append("")
    for action in options:
        lines.append(f"- `{_argument_name(action)}`" + (f": {action.help}" if action.help else ""))
    return "\n".join(lines)


def _argument_name(action: Action) -> str:
    """How argparse shows an argument: ``--name NAME``, ``-f, --force``, ``@USER``, ``word``."""
    if isinstance(action.metavar, str):
        name = action.metavar
    else:
        name = action.dest.upper() if action.option_strings else action.dest
    if not action.option_strings:
        return name
    flags = ", ".join(action.option_strings)
    return flags if action.nargs == 0 else f"{flags} {name}"
