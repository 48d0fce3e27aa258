"""`/rocket team list|view|create|add|remove|lead|edit|delete|refresh`: teams mirrored with GitHub.

The logic, permissions and GitHub-first ordering live in app.teams.operations (tested directly);
this module only declares the arguments and turns the answers into Block Kit blocks.
"""

from __future__ import annotations

from collections.abc import Callable

from app import sizes
from app.services import Services
from app.slack import blocks
from app.slack.commands import converters as fields
from app.slack.commands.parsing import CommandParser, slack_user
from app.slack.commands.registry import Call, CommandGroup
from app.teams import operations
from app.teams.messages import TeamReply

group = CommandGroup("team", "teams, mirrored with GitHub")


def to_message(reply: TeamReply) -> blocks.Message:
    """A TeamReply as an ephemeral Block Kit message."""
    return blocks.message(
        reply.text, [blocks.section(reply.text), *blocks.lines_blocks(reply.lines)]
    )


def run(action: Callable[[], TeamReply]) -> blocks.Message:
    """Run the logic and answer with its TeamReply (its refusals reach the dispatcher as is)."""
    return to_message(action())


def _team_arg(parser: CommandParser) -> None:
    parser.add_argument("team", metavar="TEAM", help="the team's GitHub name or slug")


def _team_user_args(parser: CommandParser) -> None:
    _team_arg(parser)
    parser.add_argument("user", metavar="@USER", type=slack_user, help="a Slack member")


@group.command("list", "list the teams")
def list_(services: Services, call: Call) -> blocks.Message:
    """Every team."""
    return run(lambda: operations.team_list(services))


@group.command("view", "show a team with its members and leads", _team_arg)
def view(services: Services, call: Call) -> blocks.Message:
    """One team."""
    return run(lambda: operations.team_view(services, call.args.team))


def _local_fields(parser: CommandParser) -> None:
    """The team's fields kept only here (create and edit)."""
    parser.add_argument("--displayname", type=fields.text(sizes.NAME), help="a friendlier name")
    parser.add_argument(
        "--platform", type=fields.text(sizes.NAME), help="what the team builds with"
    )


def _create_args(parser: CommandParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the new GitHub team's name")
    _local_fields(parser)
    parser.add_argument(
        "--channel", metavar="#CHANNEL", help="add the channel's registered members"
    )
    parser.add_argument(
        "--lead", metavar="@USER", type=slack_user, help="the team's lead (default: you)"
    )


@group.command("create", "create a team on GitHub (leads with a GitHub account)", _create_args)
def create(services: Services, call: Call) -> blocks.Message:
    """A new GitHub team."""
    a = call.args
    return run(
        lambda: operations.team_create(
            services,
            call.caller,
            a.name,
            displayname=a.displayname,
            platform=a.platform,
            channel=a.channel,
            lead=a.lead,
        )
    )


@group.command("add", "add a member to a team (lead of the team)", _team_user_args)
def add(services: Services, call: Call) -> blocks.Message:
    """Add on GitHub, then here."""
    return run(lambda: operations.team_add(services, call.caller, call.args.team, call.args.user))


@group.command("remove", "remove a member from a team (lead of the team)", _team_user_args)
def remove(services: Services, call: Call) -> blocks.Message:
    """Remove on GitHub, then here."""
    return run(
        lambda: operations.team_remove(services, call.caller, call.args.team, call.args.user)
    )


def _lead_args(parser: CommandParser) -> None:
    _team_user_args(parser)
    parser.add_argument("--remove", action="store_true", help="unset instead of set")


@group.command("lead", "set or unset a team lead (lead of the team)", _lead_args)
def lead(services: Services, call: Call) -> blocks.Message:
    """Make someone a lead (a maintainer on GitHub), or not."""
    a = call.args
    return run(lambda: operations.team_lead(services, call.caller, a.team, a.user, remove=a.remove))


def _edit_args(parser: CommandParser) -> None:
    _team_arg(parser)
    _local_fields(parser)
    parser.add_argument("--github", metavar="NEWNAME", help="rename the team on GitHub")


@group.command("edit", "edit a team (lead of the team)", _edit_args)
def edit(services: Services, call: Call) -> blocks.Message:
    """Local fields, and the GitHub name with --github."""
    a = call.args
    return run(
        lambda: operations.team_edit(
            services,
            call.caller,
            a.team,
            displayname=a.displayname,
            platform=a.platform,
            github_name=a.github,
        )
    )


@group.command("delete", "delete a team on GitHub and here (lead of the team)", _team_arg)
def delete(services: Services, call: Call) -> blocks.Message:
    """Delete on GitHub, then here."""
    return run(lambda: operations.team_delete(services, call.caller, call.args.team))


@group.command("refresh", "mirror every team from GitHub (leads)")
def refresh(services: Services, call: Call) -> blocks.Message:
    """The same refresh as the scheduled one."""
    return run(lambda: operations.team_refresh(services, call.caller))
