"""`/rocket karma view|set|reset` and `/rocket @user ++`.

Anyone may view karma and give a point to someone else (never to themselves); only admins may
set someone's karma or reset everyone's to 1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from app.slack import blocks
from app.slack.commands import converters as fields
from app.slack.commands.errors import CommandError
from app.slack.commands.parsing import CommandParser, slack_user
from app.slack.commands.permissions import require
from app.slack.commands.registry import Call, CommandGroup, ShortcutCall
from app.slack.ids import SLACK_USER_ID
from app.store import DEFAULT_KARMA, Permission
from app.store.models import utcnow

if TYPE_CHECKING:
    from app.services import Services

group = CommandGroup("karma", "karma points")

GIFTS_PER_HOUR = 10  # karma points one member may give with `++` in any hour
GIFT_WINDOW = timedelta(hours=1)


def _view_args(parser: CommandParser) -> None:
    parser.add_argument(
        "user", nargs="?", type=slack_user, metavar="@USER", help="whose karma (default: yours)"
    )


@group.command("view", "show someone's karma", _view_args)
def view(services: Services, call: Call) -> blocks.Message:
    """Show a member's karma."""
    target = call.args.user or call.caller
    with services.store.unit_of_work() as uow:
        user = uow.users.get(target)
        if user is None:
            raise CommandError(f"<@{target}> has no member record, so no karma yet.")
        karma = user.karma
    return blocks.message(
        f"<@{target}> has {karma} karma", [blocks.section(f"<@{target}> has *{karma}* karma.")]
    )


def _set_args(parser: CommandParser) -> None:
    parser.add_argument("user", type=slack_user, metavar="@USER", help="whose karma")
    parser.add_argument("karma", type=fields.integer, metavar="N", help="the new value")


@group.command("set", "set someone's karma (admins)", _set_args)
def set_karma(services: Services, call: Call) -> blocks.Message:
    """Set a member's karma to N."""
    target, value = call.args.user, call.args.karma
    with services.store.unit_of_work() as uow:
        require(uow, call.caller, Permission.admin, "set karma")
        if uow.users.get(target) is None:
            raise CommandError(f"<@{target}> has no member record.")
        uow.users.set_karma(target, value)
    return blocks.ok(f"<@{target}> now has {value} karma.")


def _reset_args(parser: CommandParser) -> None:
    parser.add_argument(
        "--all", action="store_true", required=True, help=f"everyone's karma to {DEFAULT_KARMA}"
    )


@group.command("reset", "reset everyone's karma to 1 (admins)", _reset_args)
def reset(services: Services, call: Call) -> blocks.Message:
    """Reset every member's karma to the default."""
    with services.store.unit_of_work() as uow:
        require(uow, call.caller, Permission.admin, "reset karma")
        changed = uow.users.reset_all_karma()
    return blocks.ok(f"Karma reset to {DEFAULT_KARMA} for everyone ({changed} changed).")


def plus_one(ctx: Services, caller: str, target: str, claim: str = "") -> blocks.Message:
    """`/rocket @user ++`: one karma point for ``target``, never for yourself.

    ``claim`` (the command's ``trigger:…`` id or the mention's event id) is claimed in the
    same unit of work as the point, so a replayed delivery counts nothing. A giver gives at
    most GIFTS_PER_HOUR points in any hour.
    """
    if target == caller:
        raise CommandError("Nice try, but you cannot give karma to yourself.")
    with ctx.store.unit_of_work() as uow:
        if claim and not uow.events.claim("slack", claim):
            raise CommandError("That karma point was counted already.")
        if uow.users.get(target) is None:
            raise CommandError(
                f"<@{target}> has no member record yet; they can make one with `/rocket user add`."
            )
        if uow.karma_gifts.given_since(caller, utcnow() - GIFT_WINDOW) >= GIFTS_PER_HOUR:
            raise CommandError(
                f"You have given {GIFTS_PER_HOUR} karma points in the last hour, the most "
                "anyone can. Thank you for being generous: try again a little later."
            )
        uow.karma_gifts.record(caller, target)
        karma = uow.users.add_karma(target)
    return blocks.ok(f"You gave <@{target}> a karma point: they have {karma} now.")


def _is_plus_one(words: list[str]) -> bool:
    return len(words) == 2 and words[1] == "++" and bool(SLACK_USER_ID.match(words[0].lstrip("@")))


@group.shortcut("karma ++", _is_plus_one)
def plus_one_typed(services: Services, call: ShortcutCall) -> blocks.Message:
    """`/rocket @user ++` (and `@bot @user ++`)."""
    return plus_one(services, call.caller, call.words[0].lstrip("@"), claim=call.claim)
