"""Clients for outside services, and the one way their failures are reported.

Every call to Slack (or later GitHub) made outside a request either succeeds or logs exactly
one warning line saying what failed and why — never a traceback, never a value from the
request — and carries on. With the local dev config (APIs at http://127.0.0.1:9/) that is
what every outside call does.
"""

from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from config import Config

log = logging.getLogger("rocket2.outside")

SLACK_TIMEOUT_SECONDS = 10


def slack_client(config: Config) -> WebClient:
    """A slack-sdk WebClient for SLACK_API_URL with the bot token. Makes no call."""
    return WebClient(
        token=config.slack_api_token.reveal(),
        base_url=config.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
    )


def describe_failure(exc: BaseException) -> str:
    """A short, value-free reason for a failed outside call."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return f"Slack answered {exc.response.status_code if exc.response else '?'}: {error}"
    if isinstance(exc, URLError):
        return f"unreachable ({exc.reason})"
    if isinstance(exc, SlackClientError | OSError | TimeoutError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def report_failure(what: str, exc: BaseException) -> None:
    """Log one warning line: ``what`` failed, and why. Never raises."""
    log.warning("%s failed, carrying on: %s", what, describe_failure(exc))
