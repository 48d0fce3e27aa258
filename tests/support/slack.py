"""Slack stand-ins for tests: v0 request signing, and a fake Slack Web API (pytest-httpserver)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.platforms import SLACK
from tests.support import contract
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


TEAM_ID = "T0001"  # the club's workspace in tests (tests.support.keys sets SLACK_TEAM_ID)
_triggers = itertools.count(1)
_stamps = itertools.count(1)


def command_body(
    text: str,
    response_url: str,
    user_id: str = "U0123ABCDEF",
    command: str = "/rocket",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
) -> bytes:
    """A slash-command form body as Slack posts it (a fresh trigger_id unless given)."""
    trigger = trigger_id or f"{next(_triggers)}.{int(time.time())}.{uuid.uuid4().hex}"
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "club",
            "channel_id": "C0001",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "student",
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "response_url": response_url,
            "trigger_id": trigger,
        }
    ).encode()


def event_body(event_id: str, event: dict[str, Any], team_id: str = TEAM_ID) -> bytes:
    """An Events API event_callback body."""
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
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
    ``auth_test_fails`` makes auth.test fail; ``block_auth_test()`` holds every auth.test until
    ``release_auth_test()`` (or a bounded ``HOLD_LIMIT``), to prove by ordering that something
    did not wait for it;
    ``hold_response(path)`` likewise holds the answer to one response_url until released;
    ``reject_user_channels`` makes chat.postMessage to a user id fail (so a DM needs
    conversations.open first). Every path under /respond/ is a response_url that answers ok.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        # ``host``: loopback, or the container tests' engine gateway (reachable from containers).
        self.server = HTTPServer(host=host, port=0, threaded=True)
        self.channels_pages: list[list[dict[str, Any]]] = [[]]
        self.fail_methods: set[str] = set()
        self.auth_test_fails = False
        self.reject_user_channels = False
        self._auth_test_gate: threading.Event | None = None
        self._held: dict[str, threading.Event] = {}
        self._answered: set[str] = set()
        self._arrived: dict[str, int] = {}
        self._held_lock = threading.Lock()
        self.auth_test_received = 0  # auth.test requests that reached the fake (held or not)
        self.display_names: dict[str, str] = {}  # users.info: Slack id → display name
        self.handles: dict[str, str] = {}  # users.info ``name``: Slack id → username
        self.emails: dict[str, str] = {}  # users.info profile.email: Slack id → address

    def start(self) -> FakeSlack:
        """Start the server and install the handlers."""
        self.server.start()
        handlers: dict[str, Callable[[Request], Response]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._ok("chat.postMessage"),
            "chat.postEphemeral": self._ok("chat.postEphemeral"),
            "conversations.list": self._channels,
            "conversations.open": self._open,
            "users.info": self._user_info,
        }
        for method, handler in handlers.items():
            self.server.expect_request(f"/api/{method}").respond_with_handler(_checked(handler))
        self.server.expect_request(re.compile(r"^/respond/")).respond_with_handler(self._respond)
        return self

    # ---- holding answers, to prove ordering without timing ---------------------------------

    HOLD_LIMIT = 30.0  # a held request is answered after this at the latest (never hangs)

    def block_auth_test(self) -> None:
        """Hold every auth.test request until ``release_auth_test``."""
        self._auth_test_gate = threading.Event()

    def release_auth_test(self) -> None:
        """Answer the held auth.test requests (and any later ones) at once."""
        if self._auth_test_gate is not None:
            self._auth_test_gate.set()

    def hold_response(self, path: str) -> None:
        """Hold the answer to response_url ``path`` (e.g. ``/respond/r1``) until released."""
        with self._held_lock:
            self._held[path] = threading.Event()
            self._answered.discard(path)

    def release_response(self, path: str) -> None:
        """Answer a held response_url."""
        with self._held_lock:
            gate = self._held.pop(path, None)
        if gate is not None:
            gate.set()

    def release_all(self) -> None:
        """Release every held response_url and auth.test."""
        with self._held_lock:
            gates = list(self._held.values())
            self._held.clear()
        for gate in gates:
            gate.set()
        self.release_auth_test()

    def answered(self, path: str) -> bool:
        """Whether a reply to response_url ``path`` has been answered."""
        with self._held_lock:
            return path in self._answered

    def arrived(self, path: str) -> int:
        """How many replies reached response_url ``path`` (held or answered)."""
        with self._held_lock:
            return self._arrived.get(path, 0)

    def _respond(self, request: Request) -> Response:
        with self._held_lock:
            self._arrived[request.path] = self._arrived.get(request.path, 0) + 1
            gate = self._held.get(request.path)
        if gate is not None:
            gate.wait(self.HOLD_LIMIT)
        with self._held_lock:
            self._answered.add(request.path)
        return Response("ok")

    def _auth_test(self, request: Request) -> Response:
        with self._held_lock:
            self.auth_test_received += 1
        if self._auth_test_gate is not None:
            self._auth_test_gate.wait(self.HOLD_LIMIT)
        if self.auth_test_fails:
            return _Injected("upstream trouble", status=503)
        body = {
            "ok": True,
            "url": "https://club.slack.com/",
            "team": "Club",
            "user": "rocket",
            "team_id": TEAM_ID,
            "user_id": "UBOT",
            "bot_id": "B0000ROCKET",
        }
        scopes = {"x-oauth-scopes": ",".join(SLACK.bot_scopes)}  # as Slack's auth.test answers
        return Response(json.dumps(body), content_type="application/json", headers=scopes)

    def _open(self, request: Request) -> Response:
        users = str(request.values.get("users") or _json_field(request, "users"))
        body = {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:].ljust(8, "0")}}
        return Response(json.dumps(body), content_type="application/json")

    def _user_info(self, request: Request) -> Response:
        user = str(request.values.get("user") or _json_field(request, "user"))
        name = self.display_names.get(user, f"Member {user}")
        handle = self.handles.get(user, user.lower())
        profile = {
            "display_name": name,
            "real_name": name,
            "email": self.emails.get(user, f"{handle}@slack.example"),
            "image_72": f"https://avatars.slack-edge.example/{user}_72.png",
        }
        body = {
            "ok": True,
            "user": {"id": user, "name": handle, "real_name": name, "profile": profile},
        }
        return Response(json.dumps(body), content_type="application/json")

    def stop(self) -> None:
        """Stop the server (releasing anything held first)."""
        self.release_all()
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
            channel = str(request.values.get("channel") or _json_field(request, "channel"))
            user_channel = channel[:1] in ("U", "W")
            if method in self.fail_methods or (self.reject_user_channels and user_channel):
                body: dict[str, Any] = {"ok": False, "error": "channel_not_found"}
                return Response(json.dumps(body), content_type="application/json")
            ts = f"{int(time.time())}.{next(_stamps) % 1_000_000:06d}"
            if method == "chat.postEphemeral":
                body = {"ok": True, "message_ts": ts}
            else:
                text = str(request.values.get("text") or _json_field(request, "text"))
                message = {"type": "message", "text": text, "ts": ts}
                body = {"ok": True, "channel": "C0000000001", "ts": ts, "message": message}
            return Response(json.dumps(body), content_type="application/json")

        return handler

    def response_url_for(self, name: str) -> str:
        """A response_url of its own (path /respond/NAME), to tell replies apart."""
        return self.server.url_for(f"/respond/{name}")

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


def _json_field(request: Request, name: str) -> str:
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError:
        return ""
    return str(data.get(name) or "") if isinstance(data, dict) else ""


def _checked(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """``handler``, with each exchange held to Slack's Web API specification (contract)."""

    def checked(request: Request) -> Response:
        contract.read_body(request)
        response = handler(request)
        method = request.path.rsplit("/", 1)[-1]
        description = contract.description("slack")
        injected = isinstance(response, _Injected)
        contract.check(description, request, response, path=f"/{method}", injected=injected)
        return response

    return checked


class _Injected(Response):
    """An answer a test asked for that Slack's specification does not describe (a fault)."""
