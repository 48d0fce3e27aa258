"""Slack: the bot token works, in the club's workspace, with every declared scope, and the
bot can post in the notification and announcement channels."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from app.doctor.context import Context
from app.doctor.report import Result, fail, ok
from app.platforms import SLACK
from app.slack.manifests import Identity, identify

CHANNEL_PAGE_SIZE = 200
MAX_PAGES = 50
REINSTALL = (
    "add them to the app (rocket2 setup slack --update APP_ID, or its OAuth & "
    "Permissions page), then reinstall it to the workspace"
)


def _identity(ctx: Context) -> Identity:
    config = ctx.config
    identity: Identity = ctx.answer(
        "auth.test", lambda: identify(config.slack_api_url, config.slack_api_token.reveal())
    )
    return identity


def slack_auth(ctx: Context) -> Result:
    """auth.test accepts SLACK_API_TOKEN."""
    try:
        me = _identity(ctx)
    except SlackApiError as exc:
        code = exc.response.get("error", "an error") if exc.response is not None else "an error"
        return fail(
            "slack auth",
            f"Slack refused SLACK_API_TOKEN ({code})",
            "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions",
        )
    except OSError as exc:
        return fail(
            "slack auth",
            f"Slack is not reachable ({type(exc).__name__})",
            "check SLACK_API_URL and this machine's network",
        )
    return ok("slack auth", f"auth.test: bot {me.user_id} in {me.team or me.team_id}")


def slack_workspace(ctx: Context) -> Result:
    """The token's workspace is SLACK_TEAM_ID."""
    me = _identity(ctx)
    wanted = ctx.config.slack_team_id
    if not wanted:
        return ok("slack workspace", f"SLACK_TEAM_ID is empty: the token's {me.team_id} is used")
    if me.team_id != wanted:
        return fail(
            "slack workspace",
            f"the bot token belongs to workspace {me.team_id}, SLACK_TEAM_ID is {wanted}",
            f"set SLACK_TEAM_ID={me.team_id}, or use the club workspace's bot token",
        )
    return ok("slack workspace", f"the token's workspace is SLACK_TEAM_ID ({wanted})")


def slack_scopes(ctx: Context) -> Result:
    """The token was granted every declared scope (x-oauth-scopes)."""
    missing = sorted(set(SLACK.bot_scopes) - _identity(ctx).scopes)
    if missing:
        return fail("slack scopes", f"the bot token lacks {', '.join(missing)}", REINSTALL)
    return ok("slack scopes", f"all {len(SLACK.bot_scopes)} declared scopes are granted")


def _channels(ctx: Context) -> list[dict[str, Any]]:
    from app.slack.client import slack_client
    from app.slack.pages import every_page

    client = slack_client(ctx.config)

    def listed() -> list[dict[str, Any]]:
        return every_page(
            lambda cursor: client.conversations_list(
                types="public_channel",  # private ones would need groups:read, not declared
                exclude_archived=True,
                limit=CHANNEL_PAGE_SIZE,
                cursor=cursor,
            ),
            "channels",
            MAX_PAGES,
            "doctor: conversations.list",
        )

    channels: list[dict[str, Any]] = ctx.answer("conversations.list", listed)
    return channels


def _channel_check(ctx: Context, setting: str, wanted: str) -> Result:
    name = f"slack {setting.split('_')[1].lower()} channel"
    try:
        channels = _channels(ctx)
    except SlackApiError as exc:
        code = exc.response.get("error", "") if exc.response is not None else ""
        return fail(name, f"Slack did not list the channels ({code})", REINSTALL)
    bare = wanted.lstrip("#")
    channel = next((c for c in channels if bare in (c.get("id"), c.get("name"))), None)
    if channel is None:
        return fail(
            name,
            f"{wanted} does not exist (or the bot cannot see it)",
            f"create {wanted} in Slack, or set {setting} to an existing channel",
        )
    if not channel.get("is_member"):
        return fail(
            name,
            f"the bot is not a member of {wanted}, so it cannot post there",
            f"type /invite @{_identity(ctx).user_id} in {wanted}",
        )
    return ok(name, f"{wanted} exists and the bot is a member")


def slack_notification_channel(ctx: Context) -> Result:
    """SLACK_NOTIFICATION_CHANNEL exists and the bot can post there."""
    return _channel_check(ctx, "SLACK_NOTIFICATION_CHANNEL", ctx.config.slack_notification_channel)


def slack_announcement_channel(ctx: Context) -> Result:
    """SLACK_ANNOUNCEMENT_CHANNEL exists and the bot can post there."""
    return _channel_check(ctx, "SLACK_ANNOUNCEMENT_CHANNEL", ctx.config.slack_announcement_channel)
