"""`/rocket export emails [--team T]` (leads): the logic is app.teams.export."""

from __future__ import annotations

from app.commands import replies
from app.commands.parsing import CommandParser
from app.commands.registry import Call, CommandGroup
from app.commands.team import run
from app.teams.export import export_emails

group = CommandGroup("export", "exports for leads")


def _emails_args(parser: CommandParser) -> None:
    parser.add_argument("--team", metavar="TEAM", help="only this team's members")


@group.command("emails", "members' e-mail addresses (leads)", _emails_args)
def emails(call: Call) -> replies.Message:
    """Comma list of addresses, plus who has none, within Slack's limits."""
    return run(lambda: export_emails(call.ctx, call.caller, call.args.team))
