"""The members feature: `/rocket user` and `/rocket karma` (with `@user ++`), commands typed
after a mention of the bot, and the newcomer's record and welcome on ``team_join``."""

from __future__ import annotations

from app.feature import Feature, SlackEvent
from app.members import karma, onboarding, user
from app.members.mentions import on_mention
from app.slack.payloads import AppMention, TeamJoin

FEATURE = Feature(
    name="members",
    command_groups=(user.group, karma.group),
    slack_events=(
        SlackEvent("app_mention", AppMention, on_mention),
        SlackEvent("team_join", TeamJoin, onboarding.on_team_join),
    ),
    tables=("users", "karma_gifts", "link_requests", "invitations"),
)
