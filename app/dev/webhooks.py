"""Signed GitHub webhook deliveries from the GitHub stand-in to Rocket 2, sent in order by one
background thread (a change never waits for Rocket 2, which may call the stand-in back)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from typing import Any

import httpx

log = logging.getLogger("rocket2.dev.webhooks")
KEPT_DELIVERIES = 50


def signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: ``sha256=`` HMAC-SHA256 of the body with the webhook secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Posts each queued ``(event, payload)`` to ``url`` with GitHub's headers; keeps the
    outcome of the last few in ``deliveries`` (like the App's "Recent deliveries")."""

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name="dev-webhooks", daemon=True).start()

    def send(self, event: str, payload: dict[str, Any]) -> None:
        """Queue one delivery."""
        self._queue.put((event, payload))

    def idle(self) -> bool:
        """Whether every queued delivery has been answered."""
        return self._queue.unfinished_tasks == 0

    def _run(self) -> None:
        while True:
            event, payload = self._queue.get()
            try:
                self._deliver(event, payload)
            finally:
                self._queue.task_done()

    def _deliver(self, event: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        delivery = str(uuid.uuid4())
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature(self._secret, body),
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/rocket2-dev",
        }
        try:
            status: int | str = httpx.post(
                self.url, content=body, headers=headers, timeout=self._timeout
            ).status_code
        except httpx.HTTPError as exc:
            status = f"not delivered ({type(exc).__name__})"
            log.warning("webhook %s %s to %s %s", event, payload.get("action"), self.url, status)
        record = {
            "id": delivery,
            "event": event,
            "action": payload.get("action", ""),
            "status": status,
            "at": time.time(),
        }
        with self._lock:
            self.deliveries = [*self.deliveries[-(KEPT_DELIVERIES - 1) :], record]
