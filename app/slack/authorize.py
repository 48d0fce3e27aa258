"""The bot's own ids and its workspace's, learned without ever blocking an ack.

The bot token is the configured one; nothing calls Slack before an ack. The bot's own ids
(used only to ignore the bot's own events) and its workspace id (app.slack.workspace, when
SLACK_TEAM_ID is empty) are filled in by one ``auth.test`` in a background thread, started by
the worker at boot and by each request until known, retried at most every ``RETRY_SECONDS``
while it fails.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient

from app.outside import report_failure

log = logging.getLogger("rocket2.slack")

RETRY_SECONDS = 60.0


class BotAuthorization:
    """The bot's and its workspace's ids, learned by one background ``auth.test``."""

    def __init__(self, client: WebClient, token: str, retry_seconds: float = RETRY_SECONDS):
        self._client = client
        self._token = token
        self._retry = retry_seconds
        self._lock = threading.Lock()
        self._bot_user_id: str | None = None
        self._bot_id: str | None = None
        self._team_id: str | None = None
        self._last_attempt: float | None = None
        self._running = False

    def is_own(self, user_id: str | None, bot_id: str | None) -> bool:
        """Whether an event's user id or bot id is this bot's own (known after auth.test)."""
        return (user_id is not None and user_id == self._bot_user_id) or (
            bot_id is not None and bot_id == self._bot_id
        )

    @property
    def team_id(self) -> str | None:
        """The bot token's workspace id, once auth.test has answered."""
        return self._team_id

    @property
    def bot_user_id(self) -> str | None:
        """The bot's user id, once auth.test has answered."""
        return self._bot_user_id

    def start(self) -> None:
        """Ask auth.test for the bot's and the workspace's ids in the background, unless known
        or asked less than ``retry_seconds`` ago. Gunicorn's worker hook calls it at start, so
        the workspace is known before the first request."""
        if self._bot_user_id is not None:
            return
        with self._lock:
            now = time.monotonic()
            if self._running or (
                self._last_attempt is not None and now - self._last_attempt < self._retry
            ):
                return
            self._running, self._last_attempt = True, now
        threading.Thread(target=self._auth_test, name="slack-auth-test", daemon=True).start()

    def _auth_test(self) -> None:
        try:
            answer: Any = self._client.auth_test(token=self._token)
            self._bot_user_id = answer.get("user_id") or None
            self._bot_id = answer.get("bot_id") or None
            self._team_id = answer.get("team_id") or None
            log.info("slack: bot user is %s in workspace %s", self._bot_user_id, self._team_id)
        except Exception as exc:
            report_failure("slack auth.test (bot and workspace ids)", exc)
        finally:
            with self._lock:
                self._running = False
