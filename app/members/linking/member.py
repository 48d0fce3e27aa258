"""The Slack member a link is for, as Slack itself names them (``users.info``): what the member
cannot choose (the workspace username, the id, the avatar Slack serves) and the e-mail Slack
holds for them (the ``users:read.email`` scope)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.outside import report_failure


@dataclass(frozen=True, slots=True)
class SlackMember:
    """A Slack member: ``handle`` is the workspace username ('' when Slack cannot say)."""

    slack_id: str
    handle: str = ""
    avatar: str = ""
    email: str = ""

    @property
    def to_type(self) -> str:
        """What the account holder types to confirm: the handle, else the member id."""
        return self.handle or self.slack_id


def slack_member(slack: Any, slack_id: str) -> SlackMember:
    """``slack_id`` as Slack's ``users.info`` describes them; only the id if Slack cannot."""
    try:
        answer = slack.users_info(user=slack_id)
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
    except Exception as exc:
        report_failure("users.info for a GitHub link", exc)
        return SlackMember(slack_id)
    avatar = str(profile.get("image_72") or "")
    return SlackMember(
        slack_id=slack_id,
        handle=str(user.get("name") or "")[:80],
        avatar=avatar if avatar.startswith("https://") else "",
        email=str(profile.get("email") or "").strip().lower(),
    )


def matches(handle_typed: str, member_handle: str) -> bool:
    """Whether the typed confirmation names the member (case and a leading '@' ignored)."""
    typed = handle_typed.strip().lstrip("@").strip().lower()
    return bool(typed) and typed == member_handle.strip().lower()
