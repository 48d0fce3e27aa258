"""Command replies to Slack's ``response_url``, through our own small httpx client.

- Only https://hooks.slack.com and https://hooks.slack-gov.com, plus the origins listed in
  SLACK_RESPONSE_URL_ORIGINS (tests and staging), are ever contacted. Any other URL is refused
  before anything is sent, and logged by its host only (the path is a credential).
- No redirect is followed: a 3xx answer is a failure. A reply's URL never reaches the log
  (httpx's own request lines show its origin only).
- Each try has a short timeout. At most ``EXTRA_TRIES`` more tries, and only when the reply
  surely did not land or Slack asks for one: a failed connection, a 429 (its Retry-After
  capped at ``MAX_RETRY_AFTER``) or a 5xx. Never after a 4xx or a read timeout.
- A command has one reply: its ``ReplySlot`` is taken by whichever goes first, its result or
  the restart notice of a draining worker (app.web.slack), never both.
- ``stop_by(deadline)`` (a draining worker): no try starts after the deadline, and each try's
  timeout is cut to the time left, so a reply ends before the worker is killed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import httpx

from app.outside import DescribedFailure

log = logging.getLogger("rocket2.slack")

SLACK_ORIGINS = ("https://hooks.slack.com", "https://hooks.slack-gov.com")
TIMEOUT_SECONDS = 5.0
EXTRA_TRIES = 2
MAX_RETRY_AFTER = 5.0
BACKOFF_SECONDS = 0.5
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ReplyFailed(DescribedFailure):
    """The reply was not accepted; the message says why, with no value from the request."""


class ReplySlot:
    """The one reply a command may get: ``take()`` is True for the first caller only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False

    def take(self) -> bool:
        """Claim the reply; False if something else (result or notice) already has."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
            return True

    @property
    def taken(self) -> bool:
        """Whether the reply was claimed."""
        return self._taken


def origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, the scheme's default port left out."""
    host = url.host if ":" not in url.host else f"[{url.host}]"
    port = url.port if url.port not in (None, _DEFAULT_PORTS.get(url.scheme)) else None
    return f"{url.scheme}://{host}" + (f":{port}" if port is not None else "")


class ReplyClient:
    """Posts command replies to allowed response_urls. Thread-safe; one per worker."""

    def __init__(
        self,
        extra_origins: str = "",
        *,
        timeout: float = TIMEOUT_SECONDS,
        backoff: float = BACKOFF_SECONDS,
    ) -> None:
        extras = [item.strip() for item in extra_origins.split(",") if item.strip()]
        self._origins = frozenset(origin(httpx.URL(item)) for item in (*SLACK_ORIGINS, *extras))
        self._backoff = backoff
        self._timeout = timeout
        self._deadline: float | None = None  # time.monotonic() after which no try starts
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        _install_redaction(self._origins)

    def allowed(self, url: str) -> httpx.URL | None:
        """The parsed URL if replies may go there, else None."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        if parsed.userinfo or parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
            return None
        return parsed if origin(parsed) in self._origins else None

    def stop_by(self, deadline: float) -> None:
        """From now on, end every reply by ``deadline`` (a ``time.monotonic()`` value)."""
        self._deadline = deadline

    def post(self, url: str, message: dict[str, Any]) -> None:
        """Post ``message`` to ``url``; raise ReplyFailed if it was refused, not accepted, or
        the deadline set by ``stop_by`` left no time."""
        target = self.allowed(url)
        if target is None:
            log.warning("reply not sent: response_url host %s is not allowed", _host_of(url))
            raise ReplyFailed("response_url not allowed")
        body = {key: value for key, value in message.items() if value is not None}
        for attempt in range(EXTRA_TRIES + 1):
            last = attempt == EXTRA_TRIES
            timeout = self._time_left()
            if timeout <= 0:
                raise ReplyFailed("no time left before the worker stops")
            try:
                response = self._http.post(target, json=body, timeout=timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if last:
                    raise ReplyFailed(f"could not connect ({type(exc).__name__})") from None
                self._pause(self._backoff * (attempt + 1))
                continue
            except httpx.TimeoutException as exc:
                raise ReplyFailed(f"timed out ({type(exc).__name__})") from None
            except httpx.HTTPError as exc:
                raise ReplyFailed(type(exc).__name__) from None
            status = response.status_code
            if status < 300:
                return
            if last or not (status == 429 or status >= 500):
                raise ReplyFailed(f"answered {status}")
            self._pause(self._wait(response, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _time_left(self) -> float:
        deadline = self._deadline
        if deadline is None:
            return self._timeout
        return min(self._timeout, deadline - time.monotonic())

    def _pause(self, seconds: float) -> None:
        """Wait before the next try, but not past the deadline."""
        time.sleep(max(0.0, min(seconds, self._time_left())))

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        if response.status_code == 429:
            try:
                asked = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                asked = 1.0
            return min(max(asked, 0.0), MAX_RETRY_AFTER) if math.isfinite(asked) else 1.0
        return self._backoff * (attempt + 1)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()


class _RedactReplyUrls(logging.Filter):
    """httpx logs each request's URL at INFO: for a reply, keep only its origin."""

    def __init__(self, origins: frozenset[str]) -> None:
        super().__init__()
        self.origins = origins

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(
                f"{origin(arg)}/(response_url)"
                if isinstance(arg, httpx.URL) and origin(arg) in self.origins
                else arg
                for arg in args
            )
        return True


def _install_redaction(origins: frozenset[str]) -> None:
    """Redact reply URLs in httpx's own request log lines (once per set of origins)."""
    httpx_log = logging.getLogger("httpx")
    for existing in httpx_log.filters:
        if isinstance(existing, _RedactReplyUrls):
            existing.origins = existing.origins | origins
            return
    httpx_log.addFilter(_RedactReplyUrls(origins))


def _host_of(url: str) -> str:
    try:
        host = httpx.URL(url).host
    except (httpx.InvalidURL, TypeError, ValueError):
        return "(unparsable)"
    return repr(host[:100]) if host else "(none)"
