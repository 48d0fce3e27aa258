"""app.slack.pages.every_page against a stand-in Slack Web API (pytest-httpserver, its exchanges
held to Slack's description): it follows ``next_cursor`` to the last page, sends each cursor
back, and stops at ``max_pages``."""

from __future__ import annotations

import json
import logging

from pytest_httpserver import HTTPServer
from slack_sdk import WebClient
from werkzeug import Request, Response

from app.slack.pages import every_page
from tests.support import contract


def _pages(httpserver: HTTPServer, cursors: list[str | None]) -> list[str]:
    """Serve conversations.members in pages of two; record the cursor each request sent."""
    seen: list[str] = []

    def handler(request: Request) -> Response:
        cursor = request.form.get("cursor") or request.args.get("cursor") or ""
        seen.append(cursor)
        index = 0 if not cursor else int(cursor.removeprefix("c")) + 1
        nxt = cursors[index] if index < len(cursors) else None
        body = {
            "ok": True,
            "members": [f"U{index}A", f"U{index}B"],
            "response_metadata": {"next_cursor": nxt or ""},
        }
        return Response(json.dumps(body), content_type="application/json")

    members = contract.checked("slack", handler, root="/api")
    httpserver.expect_request("/api/conversations.members").respond_with_handler(members)
    return seen


def test_every_page_follows_the_cursor_to_the_end(httpserver: HTTPServer) -> None:
    seen = _pages(httpserver, ["c0", "c1", None])
    client = WebClient(token="xoxb-test", base_url=httpserver.url_for("/api/"))
    members = every_page(
        lambda cursor: client.conversations_members(channel="C1", limit=2, cursor=cursor),
        "members",
        10,
        "test",
    )
    assert members == ["U0A", "U0B", "U1A", "U1B", "U2A", "U2B"]
    assert seen == ["", "c0", "c1"]


def test_every_page_stops_at_max_pages_and_says_so(httpserver: HTTPServer, caplog) -> None:  # type: ignore[no-untyped-def]
    _pages(httpserver, [f"c{i}" for i in range(100)])  # a cursor that never ends
    client = WebClient(token="xoxb-test", base_url=httpserver.url_for("/api/"))
    with caplog.at_level(logging.WARNING, logger="rocket2.slack"):
        members = every_page(
            lambda cursor: client.conversations_members(channel="C1", cursor=cursor),
            "members",
            3,
            "channel C1",
        )
    assert len(members) == 6
    assert "channel C1: stopped after 3 pages" in caplog.text
