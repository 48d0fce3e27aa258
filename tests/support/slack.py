"""Slack stand-ins for tests: v0 request signing, and a fake Slack Web API (pytest-httpserver)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.gunicorn import wait_until


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature: HMAC-SHA256 over ``v0:timestamp:body``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, timestamp: int | None = None, content_type: str = ""
) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp (default now) and signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body)}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def command_body(
    text: str, response_url: str, user_id: str = "U0123ABCDEF", command: str = "/rocket"
) -> bytes:
    """A slash-command form body as Slack posts it."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0001",
            "team_domain": "club",
            "channel_id": "C0001",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "student",
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def event_body(event_id: str, event: dict[str, Any]) -> bytes:
    """An Events API event_callback body."""
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    ).encode()


class FakeSlack:
    """A threaded fake of Slack's Web API on 127.0.0.1, plus response_url endpoints.

    ``channels_pages`` is what conversations.list returns, one list per page, paged by cursor.
    """

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.channels_pages: list[list[dict[str, Any]]] = [[]]
        self.fail_methods: set[str] = set()

    def start(self) -> FakeSlack:
        """Start the server and install the handlers."""
        self.server.start()
        self.server.expect_request("/api/auth.test").respond_with_json(
            {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001", "user": "rocket"}
        )
        for method in ("chat.postMessage", "chat.postEphemeral"):
            self.server.expect_request(f"/api/{method}").respond_with_handler(self._ok(method))
        self.server.expect_request("/api/conversations.list").respond_with_handler(self._channels)
        self.server.expect_request("/respond/hook").respond_with_data("ok")
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self.server.is_running():
            self.server.stop()

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return self.server.url_for("/api/")

    @property
    def response_url(self) -> str:
        """A response_url that points at this fake."""
        return self.server.url_for("/respond/hook")

    def _ok(self, method: str) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            if method in self.fail_methods:
                return Response(json.dumps({"ok": False, "error": "channel_not_found"}))
            return Response(
                json.dumps({"ok": True, "channel": "C0001", "ts": "1.1"}),
                content_type="application/json",
            )

        return handler

    def _channels(self, request: Request) -> Response:
        cursor = request.values.get("cursor") or "0"
        index = int(cursor)
        page = self.channels_pages[index]
        next_cursor = str(index + 1) if index + 1 < len(self.channels_pages) else ""
        body = {"ok": True, "channels": page, "response_metadata": {"next_cursor": next_cursor}}
        return Response(json.dumps(body), content_type="application/json")

    def requests(self, path: str) -> list[Request]:
        """Requests received at ``path`` so far."""
        return [req for req, _ in list(self.server.log) if req.path == path]

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """Bodies (JSON, or form fields) received at ``path``."""
        out: list[dict[str, Any]] = []
        for req in self.requests(path):
            data = req.get_data()
            try:
                out.append(json.loads(data))
            except ValueError:
                out.append(dict(req.form))
        return out

    def wait_for(self, path: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until ``count`` requests reached ``path``; return their bodies."""
        wait_until(lambda: len(self.requests(path)) >= count, timeout, what=f"{count} x {path}")
        return self.bodies(path)
