"""The Slack stand-in (one for the playground and the tests): a workspace, its people and
channels, the Web API calls Rocket 2 makes (``/api/<method>``, app.dev.slack.web_api), the
response URLs of commands (``/respond/<id>``) and Slack's side of commands and events
(app.dev.slack.to_rocket).

The playground serves it persisted in data/dev/slack.json (``playground``); the tests host it
on a local HTTP server and layer recording and fault injection on top (tests/support/slack.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.dev.slack.response_urls import ResponseUrls
from app.dev.slack.to_rocket import GENERAL, SlackSide
from app.dev.slack.web_api import WebApi
from app.dev.slack.workspace import Identity, State, empty_workspace
from app.dev.state import JsonState

TEAM_ID = "T0DEV00001"
BOT_USER = "U0DEVBOT01"
SEED_PEOPLE = (
    ("U0DEVYOU01", "you", "You"),
    ("U0DEVADA01", "ada", "Ada Lovelace"),
    ("U0DEVGRC01", "grace", "Grace Hopper"),
)
SEED_CHANNELS = (
    (GENERAL, "general"),
    ("C0DEVRKT01", "rocket2"),
    ("C0DEVANN01", "rocket2-announcements"),
)


class SlackStandIn(WebApi, ResponseUrls, SlackSide):
    """The workspace's state, its Web API, its response URLs and Slack's side of commands."""

    def __init__(
        self,
        state: State,
        identity: Identity,
        *,
        token: str | None,
        signing_secret: str = "",
        rocket_url: str = "",
        own_url: str = "",
    ) -> None:
        super().__init__(state, identity)
        self.token, self.signing_secret = token, signing_secret
        self.rocket_url, self.own_url = rocket_url.rstrip("/"), own_url.rstrip("/")
        with self.lock:
            if "channel_members" not in self.data:  # a workspace saved before channels had members
                everyone = sorted(self.data["users"])
                self.data["channel_members"] = {cid: everyone for cid in self.data["channels"]}

    @classmethod
    def playground(
        cls, data_dir: Path, *, token: str, signing_secret: str, rocket_url: str, own_url: str
    ) -> SlackStandIn:
        """The playground's workspace (three people, three channels), kept in ``data_dir``."""
        own_url = own_url.rstrip("/")
        identity = Identity(
            team_id=TEAM_ID,
            team="Rocket 2 playground",
            url=own_url + "/",
            user="rocket2",
            user_id=BOT_USER,
            bot_id="B0DEVBOT01",
        )
        state = JsonState(data_dir / "slack.json", empty_workspace(SEED_PEOPLE, SEED_CHANNELS))
        return cls(
            state,
            identity,
            token=token,
            signing_secret=signing_secret,
            rocket_url=rocket_url,
            own_url=own_url,
        )

    # ---- reading, for the page and the CLI -------------------------------------------------

    def command(self, command_id: str) -> dict[str, Any] | None:
        """A command's record (with its replies so far), or None."""
        with self.lock:
            for command in self.data["commands"]:
                if command["id"] == command_id:
                    return dict(command)
        return None

    def messages_since(self, seq: int) -> list[dict[str, Any]]:
        """Messages the bot sent after ``seq``."""
        with self.lock:
            return [dict(m) for m in self.data["messages"] if m["seq"] > seq]

    def view(self) -> dict[str, Any]:
        """The workspace for the page."""
        with self.lock:
            return {
                "team_id": self.identity.team_id,
                "users": sorted(self.data["users"].values(), key=lambda p: p["name"]),
                "channels": self.data["channels"],
                "messages": self.data["messages"][-100:],
                "commands": self.data["commands"][-50:],
            }
