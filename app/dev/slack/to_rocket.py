"""Slack's side of the playground: a person types a slash command, joins the workspace or
mentions the bot, and the stand-in signs it as Slack does (app.dev.send) and posts it to
Rocket 2."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx

from app.dev import send
from app.dev.slack.workspace import KEPT, Workspace
from app.slack.ids import SLACK_USER_ID

GENERAL = "C0DEVGEN01"  # where commands are typed and newcomers land
_MENTION = re.compile(r"(?<![<\w])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)


class SlackSide(Workspace):
    """Commands and events to Rocket 2, signed with the signing secret."""

    signing_secret: str
    rocket_url: str
    own_url: str

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
            self.changed()
        body = send.command_body(
            self.escape_mentions(text.strip()),
            user_id=person["id"],
            user_name=person["name"],
            team_id=self.identity.team_id,
            channel={"id": GENERAL, "name": self.data["channels"].get(GENERAL, "general")},
            response_url=f"{self.own_url}/respond/{record['id']}",
            command=command or "/rocket",
        )
        status, ack = self._post_command(body)
        with self.lock:
            for kept in self.data["commands"]:
                if kept["id"] == record["id"]:
                    kept["status"], kept["ack"] = status, ack
            self.changed()
        return {**record, "status": status, "ack": ack}

    def _post_command(self, body: bytes) -> tuple[int | str, dict[str, Any] | None]:
        """Post a command; Rocket 2's status and the message in its ack, if any (Slack shows
        an ack's body to the person who typed the command, as a reply)."""
        try:
            answer = send.post_signed(
                self.rocket_url + "/slack/commands", self.signing_secret, body, send.FORM
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
            channels = self.data.setdefault("channel_members", {})
            self.data["users"][uid] = person
            channels.setdefault(GENERAL, []).append(uid)
            self.changed()
        member = {
            "id": uid,
            "team_id": self.identity.team_id,
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
            "channel": GENERAL,
            "text": f"<@{self.identity.user_id}> {self.escape_mentions(text, plain=True)}",
            "ts": f"{time.time():.6f}",
        }
        return {**self.event(event), "user": person}

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver one event; its id, Rocket 2's status and the message seq before it."""
        with self.lock:
            since = self.data["seq"]
        event_id, body = send.event_body(
            event, team_id=self.identity.team_id, bot_user=self.identity.user_id
        )
        status = self._post("/slack/events", body, "application/json")
        return {"event_id": event_id, "status": status, "since": since}

    def _post(self, path: str, body: bytes, content_type: str) -> int | str:
        try:
            return send.post_signed(
                self.rocket_url + path, self.signing_secret, body, content_type
            ).status_code
        except httpx.HTTPError as exc:
            return f"Rocket 2 is not reachable at {self.rocket_url} ({type(exc).__name__})"
