"""Slash commands and events, built and signed exactly as Slack sends them, posted to Rocket 2.

Signing is Slack's v0 scheme (slack_sdk's own ``SignatureVerifier.generate_signature``) with the
dev ``.env``'s SLACK_SIGNING_SECRET; the bodies have the fields Slack's requests carry.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
POST_TIMEOUT = 10.0


def signed_headers(secret: str, body: bytes, content_type: str) -> dict[str, str]:
    """X-Slack-Request-Timestamp and X-Slack-Signature for ``body``, signed now."""
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body) or ""
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }


def command_body(
    text: str,
    *,
    user_id: str,
    user_name: str,
    team_id: str,
    channel: dict[str, str],
    response_url: str,
    command: str = "/rocket",
    trigger_id: str | None = None,
) -> bytes:
    """A slash command's form body, as Slack posts it (a fresh trigger_id unless given)."""
    trigger = trigger_id or f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
    return urlencode(
        {
            "token": "unused-verification-token",
            "team_id": team_id,
            "team_domain": "rocket2-dev",
            "channel_id": channel["id"],
            "channel_name": channel["name"],
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "A0DEVAPP01",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger,
        }
    ).encode()


def event_body(
    event: dict[str, Any], *, team_id: str, bot_user: str, event_id: str | None = None
) -> tuple[str, bytes]:
    """An Events API ``event_callback`` carrying ``event``: its event id (fresh unless given)
    and body."""
    event_id = event_id or "Ev" + uuid.uuid4().hex[:10].upper()
    body = {
        "token": "unused-verification-token",
        "team_id": team_id,
        "api_app_id": "A0DEVAPP01",
        "event": {**event, "event_ts": f"{time.time():.6f}"},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": bot_user, "is_bot": True, "enterprise_id": None}
        ],
        "is_ext_shared_channel": False,
    }
    return event_id, json.dumps(body).encode()


def post_signed(url: str, secret: str, body: bytes, content_type: str) -> httpx.Response:
    """POST ``body`` to Rocket 2 at ``url``, signed; raises httpx.HTTPError if unreachable."""
    headers = signed_headers(secret, body, content_type)
    return httpx.post(url, content=body, headers=headers, timeout=POST_TIMEOUT)


def ack_message(answer: httpx.Response) -> dict[str, Any] | None:
    """The message in a slash command's ack (JSON with text or blocks, or plain text), if any."""
    if answer.status_code != 200 or not answer.content.strip():
        return None
    if answer.headers.get("content-type", "").startswith("application/json"):
        try:
            message = answer.json()
        except ValueError:
            return None
        has_message = isinstance(message, dict) and (message.get("text") or message.get("blocks"))
        return message if has_message else None
    return {"text": answer.text}
