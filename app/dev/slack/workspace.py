"""The Slack stand-in's workspace: who the bot is, the people and channels, and what the bot
said. Every part of the stand-in reads and changes it under ``lock``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.platforms import SLACK

KEPT = 300  # messages and commands kept (oldest dropped)
EMAIL_DOMAIN = "rocket2.dev"  # the playground's addresses: NAME@rocket2.dev
DEFAULT_PAGE = 100  # conversations.list and .members: items per page without ``limit``


@dataclass(frozen=True)
class Identity:
    """What auth.test says: the workspace (id, name, URL) and the bot user the token is for."""

    team_id: str
    team: str
    url: str
    user: str
    user_id: str
    bot_id: str


class State(Protocol):
    """A stand-in's document (app.dev.state.JsonState or MemoryState)."""

    data: dict[str, Any]
    lock: Any

    def save(self) -> None:
        """Keep the document."""


def empty_workspace(people: tuple[tuple[str, str, str], ...] = (), channels: Any = ()) -> Any:
    """A seed function: ``people`` (id, name, real name) and ``channels`` (id, name), everyone
    in every channel, nothing said yet."""

    def seed() -> dict[str, Any]:
        users = {uid: {"id": uid, "name": name, "real_name": real} for uid, name, real in people}
        return {
            "users": users,
            "channels": dict(channels),
            "channel_members": {cid: sorted(users) for cid, _ in channels},
            "messages": [],
            "commands": [],
            "seq": 0,
        }

    return seed


def dm_id(user_id: str) -> str:
    """The id of the bot's DM with ``user_id`` (Slack's D…, at least 8 characters after D)."""
    return "D" + user_id[1:].ljust(8, "0")


class Workspace:
    """The state every part of the stand-in shares."""

    state: State
    identity: Identity
    granted_scopes: Callable[[], list[str]]

    def __init__(self, state: State, identity: Identity) -> None:
        self.state, self.identity = state, identity
        self.lock = state.lock
        self.granted_scopes = lambda: list(SLACK.bot_scopes)  # auth.test's x-oauth-scopes

    @property
    def data(self) -> dict[str, Any]:
        """The persisted document (read under ``lock``)."""
        return self.state.data

    def changed(self) -> None:
        """Keep the document (the playground writes it to data/dev/slack.json)."""
        self.state.save()

    def member(self, user_id: str) -> dict[str, Any] | None:
        """The person with this id ({"id", "name", "real_name", and optionally
        "display_name", "email", "image_72"}), or None."""
        person = self.data["users"].get(user_id)
        return dict(person) if person is not None else None

    def channel(self, channel: str) -> tuple[str, str] | None:
        """(kind, where) for a ``channel`` argument: ("dm", user id) for a person's id or
        their DM's id, ("message", channel id) for a channel's id or ``#name``; else None."""
        users = self.data["users"]
        if channel in users:
            return "dm", channel
        for uid in users:
            if channel == dm_id(uid):
                return "dm", uid
        name = channel.lstrip("#")
        for cid, cname in self.data["channels"].items():
            if channel == cid or name == cname:
                return "message", cid
        return None

    def channel_ids(self) -> list[dict[str, Any]]:
        """conversations.list's items: every public channel, as Slack's conversation object."""
        return [
            {"id": cid, "name": name, "is_channel": True, "is_archived": False, "is_member": True}
            for cid, name in self.data["channels"].items()
        ]

    def members_of(self, channel_id: str) -> list[str] | None:
        """The ids of the members of a channel, or None when there is no such channel."""
        members = self.data.setdefault("channel_members", {})
        if channel_id not in self.data["channels"]:
            return None
        return sorted(members.get(channel_id, []))

    def record(self, kind: str, where: str, args: dict[str, Any]) -> str:
        """Keep a message the bot sent (``kind``: message, dm or ephemeral); its ts."""
        self.data["seq"] += 1
        ts = f"{int(time.time())}.{self.data['seq'] % 1_000_000:06d}"  # unique, Slack's form
        blocks = args.get("blocks")
        if isinstance(blocks, str):  # a form-encoded call carries its blocks as JSON text
            try:
                blocks = json.loads(blocks)
            except ValueError:
                blocks = []
        self.data["messages"].append(
            {
                "seq": self.data["seq"],
                "kind": kind,
                "to": where,
                "ts": ts,
                "text": str(args.get("text", "")),
                "blocks": blocks if isinstance(blocks, list) else [],
            }
        )
        del self.data["messages"][:-KEPT]
        self.changed()
        return ts
