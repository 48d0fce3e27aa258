"""The Slack stand-in: one workspace (its people and channels), the Web API calls Rocket 2
makes (under ``/api/``), response_urls (under ``/respond/``), and a record of every message,
DM, ephemeral message and command reply. It also plays Slack's side of a slash command or an
event: it signs them and posts them to Rocket 2 (app.dev.send).

Web API answers are HTTP 200 with ``ok``, and an ``error`` code when not ok, as Slack's; every
call needs the bot token of the dev ``.env`` (Authorization: Bearer, or ``token``).
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from werkzeug import Request, Response

from app.dev import send
from app.dev.http import fields, json_response
from app.dev.state import JsonState
from app.slack.ids import SLACK_USER_ID

TEAM_ID = "T0DEV00001"
BOT_USER = "U0DEVBOT01"
BOT_ID = "B0DEVBOT01"
GENERAL = "C0DEVGEN01"
KEPT = 300  # messages and commands kept (oldest dropped)
EMAIL_DOMAIN = "rocket2.dev"  # the workspace's addresses: NAME@rocket2.dev
SEED_PEOPLE = (
    ("U0DEVYOU01", "you", "You"),
    ("U0DEVADA01", "ada", "Ada Lovelace"),
    ("U0DEVGRC01", "grace", "Grace Hopper"),
)
SEED_CHANNELS = (
    ("C0DEVGEN01", "general"),
    ("C0DEVRKT01", "rocket2"),
    ("C0DEVANN01", "rocket2-announcements"),
)
_MENTION = re.compile(r"(?<![<\w])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)


def seed() -> dict[str, Any]:
    """A fresh workspace: three people, three channels, nothing said yet."""
    return {
        "users": {
            uid: {"id": uid, "name": name, "real_name": real} for uid, name, real in SEED_PEOPLE
        },
        "channels": {cid: name for cid, name in SEED_CHANNELS},
        "messages": [],
        "commands": [],
        "seq": 0,
    }


class SlackStandIn:
    """The workspace's state, its Web API and the Slack side of commands and events."""

    def __init__(
        self,
        data_dir: Path,
        *,
        token: str,
        signing_secret: str,
        rocket_url: str,
        own_url: str,
    ) -> None:
        self.state = JsonState(data_dir / "slack.json", seed)
        self.lock = self.state.lock
        self._token = token
        self._secret = signing_secret
        self.rocket_url = rocket_url.rstrip("/")
        self.own_url = own_url.rstrip("/")
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.open": self._open,
            "conversations.list": self._list,
            "conversations.members": self._members,
        }
        # The bot token's scopes, for auth.test's x-oauth-scopes (app.dev.slack_manifest).
        self.granted_scopes: Callable[[], list[str]] = list

    @property
    def data(self) -> dict[str, Any]:
        """The persisted state (read under ``lock``)."""
        return self.state.data

    # ---- the Web API ----------------------------------------------------------------------

    def handle_api(self, request: Request, method: str) -> Response:
        """Answer one Web API call."""
        args = fields(request)
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        token = bearer if scheme.lower() == "bearer" else str(args.get("token", ""))
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return json_response({"ok": False, "error": "invalid_auth"})
        handler = self.methods.get(method)
        if handler is None:
            return json_response({"ok": False, "error": "unknown_method"})
        with self.lock:
            response = json_response(handler(args))
        if method == "auth.test":
            response.headers["x-oauth-scopes"] = ",".join(self.granted_scopes())
        return response

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": self.own_url + "/",
            "team": "Rocket 2 playground",
            "user": "rocket2",
            "team_id": TEAM_ID,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        person = self.data["users"].get(str(args.get("user", "")))
        if person is None:
            return {"ok": False, "error": "user_not_found"}
        profile = {
            "display_name": person["name"],
            "real_name": person["real_name"],
            "email": person.get("email") or f"{person['name']}@{EMAIL_DOMAIN}",
        }
        return {
            "ok": True,
            "user": {
                "id": person["id"],
                "team_id": TEAM_ID,
                "name": person["name"],
                "real_name": person["real_name"],
                "profile": profile,
            },
        }

    def _channel(self, channel: str) -> tuple[str, str] | None:
        """(kind, where) for a channel argument: a user's DM, or a channel by id or #name."""
        users = self.data["users"]
        if channel in users:
            return "dm", channel
        if channel.startswith("D") and "U" + channel[1:] in users:
            return "dm", "U" + channel[1:]
        name = channel.lstrip("#")
        for cid, cname in self.data["channels"].items():
            if channel == cid or name == cname:
                return "message", cid
        return None

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        target = self._channel(str(args.get("channel", "")))
        if target is None:
            return {"ok": False, "error": "channel_not_found"}
        kind, where = target
        ts = self._record(kind, where, args)
        channel = "D" + where[1:] if kind == "dm" else where
        message = {"type": "message", "text": str(args.get("text", "")), "ts": ts}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if self._channel(str(args.get("channel", ""))) is None or user not in self.data["users"]:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._record("ephemeral", user, args)
        return {"ok": True, "message_ts": ts}

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", "")).split(",")[0]
        if user not in self.data["users"]:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + user[1:]}}

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_archived": False, "is_member": True}
            for cid, name in self.data["channels"].items()
        ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        target = self._channel(str(args.get("channel", "")))
        if target is None or target[0] != "message":
            return {"ok": False, "error": "channel_not_found"}
        members = self.channel_members().get(target[1], [])
        return {"ok": True, "members": sorted(members), "response_metadata": {"next_cursor": ""}}

    def channel_members(self) -> dict[str, list[str]]:
        """Channel id → its members' ids: everyone seeded is in every channel; a newcomer
        joins #general only (as Slack's default channel)."""
        if "channel_members" not in self.data:
            everyone = sorted(self.data["users"])
            self.data["channel_members"] = {cid: list(everyone) for cid in self.data["channels"]}
        members: dict[str, list[str]] = self.data["channel_members"]
        return members

    def _record(self, kind: str, where: str, args: dict[str, Any]) -> str:
        """Keep a message the bot sent; return its ts."""
        self.data["seq"] += 1
        ts = f"{time.time():.6f}"
        blocks = args.get("blocks")
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
        self._changed()
        return ts

    def _changed(self) -> None:
        self.state.save()

    # ---- response_url ---------------------------------------------------------------------

    def handle_response(self, request: Request, reply_id: str) -> Response:
        """A command's reply, posted by Rocket 2 to the command's response_url."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return Response("invalid_payload", status=400)
        with self.lock:
            for command in self.data["commands"]:
                if command["id"] == reply_id:
                    command["replies"].append(body)
                    self._changed()
                    return Response("ok")
        return Response("no_active_hooks", status=404)

    # ---- Slack's side: commands and events to Rocket 2 -------------------------------------

    def person(self, who: str) -> dict[str, Any] | None:
        """The workspace member named ``who`` (id, ``name`` or ``@name``), or None."""
        with self.lock:
            users = self.data["users"]
            if SLACK_USER_ID.match(who) and who in users:
                return dict(users[who])
            name = who.lstrip("@").lower()
            for person in users.values():
                if person["name"].lower() == name:
                    return dict(person)
        return None

    def escape_mentions(self, text: str, plain: bool = False) -> str:
        """``@name`` of a workspace member as Slack sends it: ``<@U…|name>`` in a command
        ("escape users" on), ``<@U…>`` in a message (``plain``)."""

        def swap(match: re.Match[str]) -> str:
            person = self.person(match.group(1))
            if person is None:
                return match.group(0)
            return f"<@{person['id']}>" if plain else f"<@{person['id']}|{person['name']}>"

        return _MENTION.sub(swap, text)

    def slash_command(self, line: str, who: str) -> dict[str, Any]:
        """Send ``/rocket …`` typed by ``who``; the command's record (``id``, Rocket 2's
        ``status``); its replies arrive later on its response_url."""
        person = self.person(who)
        if person is None:
            raise LookupError(f"nobody called {who} in the workspace")
        command, _, text = line.strip().partition(" ")
        record = {
            "id": uuid.uuid4().hex[:12],
            "user": person["id"],
            "text": line.strip(),
            "at": time.time(),
            "status": None,
            "replies": [],
        }
        with self.lock:
            self.data["commands"].append(record)
            del self.data["commands"][:-KEPT]
            self._changed()
        body = send.command_body(
            self.escape_mentions(text.strip()),
            user_id=person["id"],
            user_name=person["name"],
            team_id=TEAM_ID,
            channel={"id": SEED_CHANNELS[0][0], "name": SEED_CHANNELS[0][1]},
            response_url=f"{self.own_url}/respond/{record['id']}",
            command=command or "/rocket",
        )
        status, ack = self._post_command(body)
        with self.lock:
            for kept in self.data["commands"]:
                if kept["id"] == record["id"]:
                    kept["status"], kept["ack"] = status, ack
            self._changed()
        return {**record, "status": status, "ack": ack}

    def _post_command(self, body: bytes) -> tuple[int | str, dict[str, Any] | None]:
        """Post a command; Rocket 2's status and the message in its ack, if any (Slack shows
        an ack's body to the person who typed the command, as a reply)."""
        try:
            answer = send.post_signed(
                self.rocket_url + "/slack/commands", self._secret, body, send.FORM
            )
        except httpx.HTTPError as exc:
            return f"Rocket 2 is not reachable at {self.rocket_url} ({type(exc).__name__})", None
        return answer.status_code, send.ack_message(answer)

    def join(self, real_name: str) -> dict[str, Any]:
        """Someone joins the workspace: a new member, and the ``team_join`` event."""
        with self.lock:
            base = re.sub(r"[^a-z0-9]", "", real_name.lower()) or "newcomer"
            name, n = base, 1
            while self.person(name) is not None:
                n += 1
                name = f"{base}{n}"
            uid = "U0DEV" + uuid.uuid4().hex[:6].upper()
            person = {"id": uid, "name": name, "real_name": real_name}
            channels = self.channel_members()  # (seeded before the newcomer exists)
            self.data["users"][uid] = person
            channels.setdefault(GENERAL, []).append(uid)
            self._changed()
        member = {
            "id": uid,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real_name,
            "is_bot": False,
            "deleted": False,
            "profile": {"real_name": real_name, "display_name": name},
        }
        return {**self.event({"type": "team_join", "user": member}), "user": person}

    def mention(self, text: str, who: str) -> dict[str, Any]:
        """``who`` mentions the bot in #general with ``text``."""
        person = self.person(who)
        if person is None:
            raise LookupError(f"nobody called {who} in the workspace")
        event = {
            "type": "app_mention",
            "user": person["id"],
            "channel": SEED_CHANNELS[0][0],
            "text": f"<@{BOT_USER}> {self.escape_mentions(text, plain=True)}",
            "ts": f"{time.time():.6f}",
        }
        return {**self.event(event), "user": person}

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver one event; its id, Rocket 2's status and the message seq before it."""
        with self.lock:
            since = self.data["seq"]
        event_id, body = send.event_body(event, team_id=TEAM_ID, bot_user=BOT_USER)
        status = self._post("/slack/events", body, "application/json")
        return {"event_id": event_id, "status": status, "since": since}

    def _post(self, path: str, body: bytes, content_type: str) -> int | str:
        try:
            return send.post_signed(
                self.rocket_url + path, self._secret, body, content_type
            ).status_code
        except httpx.HTTPError as exc:
            return f"Rocket 2 is not reachable at {self.rocket_url} ({type(exc).__name__})"

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
                "team_id": TEAM_ID,
                "users": sorted(self.data["users"].values(), key=lambda p: p["name"]),
                "channels": self.data["channels"],
                "messages": self.data["messages"][-100:],
                "commands": self.data["commands"][-50:],
            }
