"""The Web API methods Rocket 2 calls, answered as Slack's Web API specification describes
them (slackapi/slack-api-specs, cut in tests/data/openapi/slack.json): HTTP 200 and a JSON
body, ``ok`` true with the method's documented fields, or ``ok`` false with one of the
method's documented ``error`` codes.

A call without a token is ``not_authed``; a token other than the bot's is ``invalid_auth``
(the token comes as ``Authorization: Bearer`` or as the ``token`` argument, as Slack takes it).
Lists are paged as Slack documents: ``limit`` items at most, ``response_metadata.next_cursor``
naming the next page (empty on the last)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

from app.dev.http import fields, json_response
from app.dev.slack.workspace import DEFAULT_PAGE, EMAIL_DOMAIN, Workspace, dm_id

Method = Callable[[dict[str, Any]], dict[str, Any]]


def error(code: str) -> dict[str, Any]:
    """Slack's error answer."""
    return {"ok": False, "error": code}


def cursor_of(offset: int) -> str:
    """An opaque cursor for the page starting at ``offset`` (Slack's are base64 too)."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def offset_of(cursor: str) -> int | None:
    """The offset a cursor names (0 for none), or None for a cursor this stand-in never gave."""
    if not cursor:
        return 0
    try:
        kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(number) if kind == "offset" and number.isdigit() else None


def limit_of(args: dict[str, Any]) -> int:
    """The ``limit`` argument (Slack's default when absent or not a positive number)."""
    raw = str(args.get("limit") or "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_PAGE


class WebApi(Workspace):
    """``/api/<method>``: the methods, the token check and the error shape."""

    token: str | None  # the bot token; None: any token (a test's workspace)

    def methods(self) -> dict[str, Method]:
        """Method name → handler (the handler runs under ``lock``)."""
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.open": self._open,
            "conversations.list": self._list,
            "conversations.members": self._members,
        }

    def handle_api(self, request: Request, method: str) -> Response:
        """Answer one Web API call."""
        args = fields(request)
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        token = bearer if scheme.lower() == "bearer" else str(args.get("token", ""))
        handler = self.methods().get(method)
        if handler is None:
            return json_response(error("unknown_method"))
        if not token:
            return json_response(error("not_authed"))
        if self.token is not None and not hmac.compare_digest(token.encode(), self.token.encode()):
            return json_response(error("invalid_auth"))
        with self.lock:
            response = json_response(handler(args))
        if method == "auth.test":
            response.headers["x-oauth-scopes"] = ",".join(self.granted_scopes())
        return response

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        who = self.identity
        return {
            "ok": True,
            "url": who.url,
            "team": who.team,
            "user": who.user,
            "team_id": who.team_id,
            "user_id": who.user_id,
            "bot_id": who.bot_id,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        person = self.member(str(args.get("user", "")))
        if person is None:
            return error("user_not_found")
        profile = {
            "display_name": person.get("display_name", person["name"]),
            "real_name": person["real_name"],
            "email": person.get("email") or f"{person['name']}@{EMAIL_DOMAIN}",
        }
        if person.get("image_72"):
            profile["image_72"] = person["image_72"]
        user = {
            "id": person["id"],
            "team_id": self.identity.team_id,
            "name": person["name"],
            "real_name": person["real_name"],
            "profile": profile,
        }
        return {"ok": True, "user": user}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        target = self.channel(str(args.get("channel", "")))
        if target is None:
            return error("channel_not_found")
        kind, where = target
        ts = self.record(kind, where, args)
        message = {"type": "message", "text": str(args.get("text", "")), "ts": ts}
        channel = dm_id(where) if kind == "dm" else where
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        target = self.channel(str(args.get("channel", "")))
        if target is None:
            return error("channel_not_found")
        members = self.members_of(target[1]) if target[0] == "message" else None
        if self.member(user) is None or (members is not None and user not in members):
            return error("user_not_in_channel")
        return {"ok": True, "message_ts": self.record("ephemeral", user, args)}

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            return error("users_list_not_supplied")
        if self.member(users[0]) is None:
            return error("user_not_found")
        return {"ok": True, "channel": {"id": dm_id(users[0])}}

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        page, next_cursor = self.channel_page(str(args.get("cursor") or ""), limit_of(args))
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": next_cursor}}

    def channel_page(self, cursor: str, limit: int) -> tuple[list[dict[str, Any]], str]:
        """One page of conversations.list and the next page's cursor ("" on the last). A
        cursor this stand-in never gave starts over (the method lists no invalid_cursor)."""
        offset = offset_of(cursor) or 0
        channels = self.channel_ids()
        following = offset + limit
        return channels[offset:following], cursor_of(following) if following < len(channels) else ""

    def _members(self, args: dict[str, Any]) -> dict[str, Any]:
        target = self.channel(str(args.get("channel", "")))
        members = self.members_of(target[1]) if target and target[0] == "message" else None
        if not members:  # Slack lists at least one member (minItems 1): none is no channel
            return error("channel_not_found")
        offset = offset_of(str(args.get("cursor") or ""))
        if offset is None:
            return error("invalid_cursor")
        following = offset + limit_of(args)
        next_cursor = cursor_of(following) if following < len(members) else ""
        page = members[offset:following]
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}
