"""Slack's endpoints, through slack-bolt's Flask adapter: POST /slack/commands and /slack/events.

Bolt verifies the v0 signature and the timestamp (±5 minutes) and answers 401 otherwise; it
answers url_verification with its challenge. Listeners run in a bounded executor: each command
is acknowledged at once and its work (``app.commands.dispatch``) runs after the ack, replying
through response_url. Repeated event deliveries are dropped before any handler runs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, request
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.flask import SlackRequestHandler

from app import commands, instance
from app.commands import CommandContext
from app.outside import report_failure

log = logging.getLogger("rocket2.slack")

LISTENER_THREADS = 8
LISTENER_QUEUE = 64
ERROR_TEXT = "Sorry, something went wrong on Rocket 2's side. Please try again in a minute."
EVENT_MARKER_TTL = 3600.0


class BoundedExecutor(ThreadPoolExecutor):
    """A thread pool that refuses work beyond a fixed backlog and keeps the request id.

    The old bot started one thread per command with no limit. Here at most ``max_workers``
    listeners run and at most ``max_pending`` wait; beyond that submit() raises, Bolt answers
    500 and Slack tells the user — better than an unbounded pile-up.
    """

    def __init__(self, max_workers: int, max_pending: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="slack-listener")
        self._slots = threading.BoundedSemaphore(max_workers + max_pending)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` in the pool with the caller's context variables (the request id)."""
        if not self._slots.acquire(blocking=False):
            raise RuntimeError("the Slack listener queue is full")
        context = contextvars.copy_context()
        try:
            future = super().submit(context.run, fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future


def build_bolt_app(ctx: CommandContext) -> App:
    """The Bolt app. Makes no network call here (token verification is off).

    The bot token travels in ``ctx.slack`` (a WebClient at SLACK_API_URL); Bolt takes it from
    there, so it is not passed again.
    """
    config = ctx.config
    bolt = App(
        signing_secret=config.slack_signing_secret.reveal(),
        client=ctx.slack,
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=BoundedExecutor(LISTENER_THREADS, LISTENER_QUEUE),
        logger=logging.getLogger("slack_bolt.rocket2"),
    )
    bolt.use(skip_repeated_events)
    bolt.command(re.compile(r".*"))(_command_listener(ctx))
    for event_type, handler in commands.slack_event_handlers(ctx).items():
        bolt.event(event_type)(_event_listener(event_type, handler))
    bolt.event(re.compile(r".*"))(_ack_only)
    return bolt


def skip_repeated_events(body: dict[str, Any], request: Any, next: Callable[[], None]) -> Any:
    """Drop an event this instance has already received (Slack retries carry X-Slack-Retry-Num).

    Each event_id is claimed once per instance (app.instance.first_time), whichever worker
    gets the delivery. A repeat is answered 200 at once so Slack stops retrying.
    """
    if body.get("type") == "event_callback" and body.get("event_id"):
        event_id = str(body["event_id"])
        if not instance.first_time("slack-events", event_id, prune_after=EVENT_MARKER_TTL):
            retry = _header(request.headers, "x-slack-retry-num")
            reason = _header(request.headers, "x-slack-retry-reason")
            log.info(
                "slack event %s already received; skipping repeat (retry %s, %s)",
                event_id,
                retry or "-",
                reason or "-",
            )
            return BoltResponse(status=200, body="")
    next()
    return None


def _header(headers: Mapping[str, Any], name: str) -> str:
    values = headers.get(name) or []
    value = values[0] if isinstance(values, list | tuple) and values else values
    return str(value)[:40] if value else ""


def _command_listener(ctx: CommandContext) -> Callable[..., None]:
    def on_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()  # Slack's 3 seconds: answer first, work after
        started = time.monotonic()
        text, user_id = str(body.get("text", "")), str(body.get("user_id", ""))
        try:
            message = commands.dispatch(text, user_id, ctx)
        except Exception:
            log.exception("command failed")
            message = {"response_type": "ephemeral", "text": ERROR_TEXT}
        try:
            respond(
                text=message.get("text", ""),
                blocks=message.get("blocks"),
                response_type=message.get("response_type", "ephemeral"),
            )
        except Exception as exc:
            report_failure("reply to response_url", exc)
            return
        log.info("slack command answered in %d ms", (time.monotonic() - started) * 1000)

    return on_command


def _event_listener(event_type: str, handler: commands.SlackEventHandler) -> Callable[..., None]:
    def on_event(ack: Any, event: dict[str, Any]) -> None:
        ack()
        try:
            handler(event)
        except Exception as exc:
            report_failure(f"handling slack event {event_type}", exc)

    return on_event


def _ack_only(ack: Any) -> None:
    ack()


def create_blueprint(bolt: App) -> Blueprint:
    """The blueprint that hands Slack's POSTs to Bolt."""
    handler = SlackRequestHandler(bolt)
    bp = Blueprint("slack", __name__)

    @bp.post("/slack/commands")
    def slack_commands() -> Response:
        """Slash commands."""
        return handler.handle(request)

    @bp.post("/slack/events")
    def slack_events() -> Response:
        """Events API (url_verification included) and interactivity."""
        return handler.handle(request)

    return bp
