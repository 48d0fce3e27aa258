"""The start-up notice: "Rocket 2 has restarted", once per instance, in the background."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from app.outside import report_failure
from app.server import instance

log = logging.getLogger("rocket2.startup")

NOTICE_TEXT = "Rocket 2 has restarted"


def send_notice(client: WebClient, channel: str) -> bool:
    """Post the notice now; log (never raise) on failure. True if Slack accepted it."""
    try:
        client.chat_postMessage(channel=channel, text=NOTICE_TEXT)
    except Exception as exc:
        report_failure(f"start-up notice to {channel}", exc)
        return False
    log.info("start-up notice sent to %s", channel)
    return True


def notify_once(client: WebClient, channel: str) -> threading.Thread | None:
    """Send the notice in a background thread if no other worker of this instance has."""
    if not instance.first_time("startup", "notice"):
        log.debug("start-up notice: already sent by this instance")
        return None
    thread = threading.Thread(
        target=send_notice, args=(client, channel), name="startup-notice", daemon=True
    )
    thread.start()
    return thread
