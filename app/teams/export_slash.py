"""`/rocket export emails [--team T]` (leads): the logic is app.teams.export."""

from __future__ import annotations

from app.services import Services
from app.slack import blocks
from app.slack.commands.parsing import CommandParser
from app.slack.commands.registry import Call, CommandGroup
from app.teams.export import export_emails
from app.teams.slash import run

group = CommandGroup("export", "exports for leads")


def _emails_args(parser: CommandParser) -> None:
    parser.add_argument("--team", metavar="TEAM", help="only this team's members")


@group.command("emails", "members' e-mail addresses (leads)", _emails_args)
def emails(services: Services, call: Call) -> blocks.Message:
    """Comma list of addresses, plus who has none, within Slack's limits."""
    return run(lambda: export_emails(services, call.caller, call.args.team))
