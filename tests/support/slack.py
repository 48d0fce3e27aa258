"""The Slack stand-in (app.dev.slack) for the tests, hosted on pytest-httpserver, with the
test-only abilities layered on top, and Slack's side of a request as a test builds it (v0
signing, slash-command and event bodies).

- a workspace where any id is someone (``display_names``, ``handles``, ``emails`` arrange what
  users.info says) and any channel exists; ``channels_pages`` arranges conversations.list;
- recording: every request (``requests``, ``bodies``, ``wait_for``), each Web API exchange held
  to Slack's specification (tests/support/contract.py), and every response URL's replies
  (``arrived``, ``answered``);
- fault injection: ``fail_methods``, ``auth_test_fails``, ``reject_user_channels``; holds
  (``block_auth_test``, ``hold_response``) to prove ordering without timing.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app.dev import send
from app.dev.slack import Identity, SlackStandIn, empty_workspace
from app.dev.slack.web_api import cursor_of, offset_of
from app.dev.state import MemoryState
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


def command_body(
    text: str,
    response_url: str,
    user_id: str = "U0123ABCDEF",
    command: str = "/rocket",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
) -> bytes:
    """A slash-command form body as Slack posts it (app.dev.send's; a fresh trigger_id unless
    given)."""
    trigger = trigger_id or f"{next(_triggers)}.{int(time.time())}.{uuid.uuid4().hex}"
    channel = {"id": "C0001", "name": "general"}
    return send.command_body(
        text,
        user_id=user_id,
        user_name="student",
        team_id=team_id,
        channel=channel,
        response_url=response_url,
        command=command,
        trigger_id=trigger,
    )


def event_body(event_id: str, event: dict[str, Any], team_id: str = TEAM_ID) -> bytes:
    """An Events API event_callback body (app.dev.send's)."""
    return send.event_body(event, team_id=team_id, bot_user=IDENTITY.user_id, event_id=event_id)[1]


# The club's workspace in tests, as auth.test names it.
IDENTITY = Identity(
    team_id=TEAM_ID,
    team="Club",
    url="https://club.slack.com/",
    user="rocket",
    user_id="UBOT",
    bot_id="B0000ROCKET",
)
SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")  # Slack's conversation ids (its specification)


class FakeSlack(SlackStandIn):
    """The Slack stand-in on 127.0.0.1 (or ``host``) for one test, with the test-only abilities.

    ``channels_pages``: what conversations.list returns, one list per page, paged by cursor.
    ``fail_methods``: Web API methods that answer ``channel_not_found``; ``auth_test_fails``
    makes auth.test fail (503); ``reject_user_channels`` makes a post to a user id fail (so a
    DM needs conversations.open first). ``block_auth_test()`` holds every auth.test until
    ``release_auth_test()``, ``hold_response(path)`` one response URL until released (at most
    ``HOLD_LIMIT``). Every path under /respond/ is a response URL.
    """

    HOLD_LIMIT = 30.0  # a held request is answered after this at the latest (never hangs)

    def __init__(self, host: str = "127.0.0.1") -> None:
        # ``host``: loopback, or the container tests' engine gateway (reachable from containers).
        super().__init__(MemoryState(empty_workspace()), IDENTITY, token=None)
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
        self.replies: dict[str, list[dict[str, Any]]] = {}  # response URL id → its replies

    def start(self) -> FakeSlack:
        """Start the server and install the handlers."""
        self.server.start()
        self.server.expect_request(re.compile(r"^/api/")).respond_with_handler(self._api)
        self.server.expect_request(re.compile(r"^/respond/")).respond_with_handler(self._respond)
        return self

    # ---- the test's workspace: anyone, anywhere -------------------------------------------

    def member(self, user_id: str) -> dict[str, Any] | None:
        """Any id is someone: the arranged names and address, or made-up ones."""
        known = super().member(user_id)
        if known is not None:
            return known
        name = self.display_names.get(user_id, f"Member {user_id}")
        handle = self.handles.get(user_id, user_id.lower())
        return {
            "id": user_id,
            "name": handle,
            "real_name": name,
            "display_name": name,
            "email": self.emails.get(user_id, f"{handle}@slack.example"),
            "image_72": f"https://avatars.slack-edge.example/{user_id}_72.png",
        }

    def channel(self, channel: str) -> tuple[str, str] | None:
        """Any channel exists (a short test id answered in Slack's length); a person's id is
        their DM unless ``reject_user_channels``."""
        if channel[:1] in ("U", "W"):
            return None if self.reject_user_channels else ("dm", channel)
        found = super().channel(channel)
        if found is not None or not channel:
            return found
        if channel.startswith("D"):
            return "dm", "U" + channel[1:]
        if SLACK_ID.match(channel):
            return "message", channel
        digest = hashlib.sha256(channel.encode()).hexdigest()[:10].upper()
        return "message", "C" + digest

    def channel_page(self, cursor: str, limit: int) -> tuple[list[dict[str, Any]], str]:
        """The pages the test arranged in ``channels_pages``."""
        index = offset_of(cursor) or 0
        more = index + 1 < len(self.channels_pages)
        return self.channels_pages[index], cursor_of(index + 1) if more else ""

    def take_reply(self, reply_id: str, body: dict[str, Any]) -> bool:
        """Every response URL the test made answers; its replies are kept in ``replies``."""
        self.replies.setdefault(reply_id, []).append(body)
        return True

    # ---- serving ------------------------------------------------------------------------

    def _api(self, request: Request) -> Response:
        """One Web API call, with the faults asked for, held to Slack's specification."""
        contract.read_body(request)
        method = request.path.rsplit("/", 1)[-1]
        response = self._answer(request, method)
        injected = isinstance(response, _Injected)
        description = contract.description("slack")
        contract.check(description, request, response, path=f"/{method}", injected=injected)
        return response

    def _answer(self, request: Request, method: str) -> Response:
        if method == "auth.test":
            with self._held_lock:
                self.auth_test_received += 1
            if self._auth_test_gate is not None:
                self._auth_test_gate.wait(self.HOLD_LIMIT)
            if self.auth_test_fails:
                return _Injected("upstream trouble", status=503)
        if method in self.fail_methods:
            body = json.dumps({"ok": False, "error": "channel_not_found"})
            return Response(body, content_type="application/json")
        return self.handle_api(request, method)

    def _respond(self, request: Request) -> Response:
        with self._held_lock:
            self._arrived[request.path] = self._arrived.get(request.path, 0) + 1
            gate = self._held.get(request.path)
        if gate is not None:
            gate.wait(self.HOLD_LIMIT)
        with self._held_lock:
            self._answered.add(request.path)
        return self.handle_response(request, request.path[len("/respond/") :])

    # ---- holding answers, to prove ordering without timing ---------------------------------

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

    # ---- where it is, what it received ----------------------------------------------------

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

    def response_url_for(self, name: str) -> str:
        """A response_url of its own (path /respond/NAME), to tell replies apart."""
        return self.server.url_for(f"/respond/{name}")

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


class _Injected(Response):
    """An answer a test asked for that Slack's specification does not describe (a fault)."""
