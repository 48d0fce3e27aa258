"""Reading every page of a cursor-paginated Slack Web API method.

Slack lists (``conversations.list``, ``conversations.members``, …) answer one page at a time and
put the next page's cursor in ``response_metadata.next_cursor`` (empty on the last page).
``every_page`` follows it to the end, at most ``max_pages`` pages, so a misbehaving cursor
cannot loop forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.web import SlackResponse

log = logging.getLogger("rocket2.slack")


def every_page(
    fetch: Callable[[str | None], SlackResponse], key: str, max_pages: int, what: str
) -> list[Any]:
    """The ``key`` items of every page ``fetch(cursor)`` returns (first call: cursor None).

    Stops after ``max_pages`` pages with a warning naming ``what``; Slack errors propagate.
    """
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = fetch(cursor)
        items.extend(page.get(key) or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return items
    log.warning("%s: stopped after %d pages", what, max_pages)
    return items
