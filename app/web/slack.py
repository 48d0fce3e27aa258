"""Slack's endpoints, through slack-bolt: POST /slack/commands and /slack/events.

The signature and timestamp are checked on the raw body (401), then the request is parsed and
checked once (app.slack.payloads) before Bolt sees it. 200: handled, or chosen to ignore;
400: a signed request that can never be handled, naming the field; 503 (events only): not
handled now (backlog full, worker stopping, workspace not known yet), so Slack retries. No
input produces a 500. A command is acknowledged in the request thread and its work runs in a
bounded executor, replying through app.slack.replies; an event is acknowledged, then handled
once per instance (a marker) and once across instances (the store claim of its event id).
Work after an ack never fails silently: one warning line for an outside failure, a traceback
and a reference for a bug.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, request
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.flask.handler import to_flask_response
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from app import features
from app.logs import REQUEST_ID, log_id
from app.outside import is_outside_failure, report_failure
from app.payload_shapes import Malformed
from app.server import instance
from app.server.drain import Job, Outcome, TrackedExecutor
from app.services import Services
from app.slack import payloads as slack_payloads
from app.slack.authorize import BotAuthorization
from app.slack.blocks import escape
from app.slack.replies import ReplyClient, ReplySlot
from app.slack.workspace import workspace_gate

log = logging.getLogger("rocket2.slack")

# Work after the ack: 8 threads per worker, and up to 1000 commands waiting (a few KiB each).
# A response_url stays valid for 30 minutes, so even a full backlog behind a slow Slack is
# answered in time; past it, the ack itself says Rocket 2 is busy.
LISTENER_THREADS = 8
LISTENER_QUEUE = 1000
ERROR_TEXT = (
    "Sorry, something went wrong on Rocket 2's side. Please try again in a minute; if it keeps "
    "happening, tell an admin this reference: `{ref}`."
)
TOO_LONG_TEXT = "That command is too long for Rocket 2 (at most {limit:,} characters)."
BUSY_TEXT = "Rocket 2 is busy right now. Please try again in a minute."
RESTARTING_TEXT = "Rocket 2 is restarting right now. Please run `{command}` again in a moment."
RESTARTED_TEXT = "Rocket 2 restarted before it could finish `{command}`; please run it again."
EVENT_MARKER_TTL = 3600.0
EVENT_NAMESPACE = "slack-events"


class BoundedExecutor(TrackedExecutor):
    """A thread pool with a fixed number of threads and a bounded backlog; keeps the request id.

    At most ``max_workers`` listeners run and at most ``max_pending`` wait. A caller first
    takes a slot with ``try_reserve()`` — so it can still answer "busy" in its ack when there
    is none — then hands the work over with ``submit_reserved()`` (a ``Job``, which a draining
    worker can give up: app.server.drain). ``submit()`` (what Bolt calls for event listeners)
    reserves on its own and raises when the backlog is full.
    """

    def __init__(self, max_workers: int, max_pending: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="slack-listener")
        self._slots = threading.BoundedSemaphore(max_workers + max_pending)

    def try_reserve(self) -> bool:
        """Take a slot for one piece of work; False when the backlog is full."""
        return self._slots.acquire(blocking=False)

    def release(self) -> None:
        """Give back a slot taken by try_reserve() that is not used after all."""
        self._slots.release()

    def submit_reserved(self, job: Job) -> Future[Any]:
        """Run ``job`` in a slot taken by try_reserve(), with the caller's context variables."""
        try:
            future = self.submit_job(job)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Reserve a slot and run ``fn`` in it; raise RuntimeError when the backlog is full."""
        if not self.try_reserve():
            raise RuntimeError("the Slack listener queue is full")
        job = Job(_callable_name(fn), "event", lambda: fn(*args, **kwargs), _log_given_up)
        return self.submit_reserved(job)


def _callable_name(fn: Callable[..., Any]) -> str:
    return f"listener {getattr(fn, '__name__', type(fn).__name__)}"


def _log_given_up(running: bool) -> Outcome:
    return "logged"


def build_bolt_app(
    ctx: Services,
    authorization: BotAuthorization,
    events: Mapping[str, features.SlackEventHandler],
) -> App:
    """The Bolt app. Makes no network call here, nor before any ack.

    Bolt gets a token-less WebClient at SLACK_API_URL and ``authorize=authorization``, which
    hands it the bot token per request without calling Slack (Bolt's default calls auth.test
    first). Our own calls use ``ctx.slack``.
    """
    config = ctx.config
    executor = BoundedExecutor(LISTENER_THREADS, LISTENER_QUEUE)
    bolt = App(
        signing_secret=config.slack_signing_secret.reveal(),
        client=WebClient(base_url=ctx.slack.base_url, timeout=ctx.slack.timeout),
        authorize=authorization.function(),
        # The ack listener runs in the request thread, so the ack never waits behind earlier
        # commands' work; the work itself goes to the bounded executor (see on_command).
        process_before_response=True,
        listener_executor=executor,
        logger=logging.getLogger("slack_bolt.rocket2"),
        # Verified by create_blueprint on the raw body; Bolt gets the checked body as JSON.
        request_verification_enabled=False,
    )
    # Runs after Bolt's authorization (which starts the background auth.test), before any
    # listener: nothing from another workspace reaches a command or an event handler.
    bolt.middleware(workspace_gate(config.slack_team_id, lambda: authorization.team_id))
    replies = ReplyClient(config.slack_response_url_origins)
    executor.stop_by = replies.stop_by  # a draining worker's replies end before it is killed
    bolt.command(re.compile(r".*"))(_command_listener(ctx, executor, replies))
    for event_type, handler in events.items():
        bolt.event(event_type)(_event_listener(event_type, handler, executor))
    return bolt


def first_delivery(body: dict[str, Any], request: Any) -> str | None:
    """The event id if this instance has not handled it yet (claims it), else None.

    Logs a repeat (with Slack's X-Slack-Retry-Num and reason) once.
    """
    event_id = str(body.get("event_id") or "")
    if not event_id:
        return ""
    if instance.first_time(EVENT_NAMESPACE, event_id, prune_after=EVENT_MARKER_TTL):
        return event_id
    headers = getattr(request, "headers", {}) or {}
    log.info(
        "slack event %s already received; skipping repeat (retry %s, %s)",
        log_id(event_id),
        log_id(_header(headers, "x-slack-retry-num") or "-"),
        log_id(_header(headers, "x-slack-retry-reason") or "-"),
    )
    return None


def _header(headers: Mapping[str, Any], name: str) -> str:
    values = headers.get(name) or []
    value = values[0] if isinstance(values, list | tuple) and values else values
    return str(value)[:40] if value else ""


def _command_listener(
    ctx: Services, executor: BoundedExecutor, replies: ReplyClient
) -> Callable[..., None]:
    def on_command(ack: Any, body: dict[str, Any]) -> None:
        # Runs in the request thread: acknowledge at once (Slack allows 3 s), work after.
        command = Command(
            text=str(body.get("text", "")),
            user_id=str(body.get("user_id", "")),
            response_url=str(body.get("response_url", "")),
            trigger_id=str(body.get("trigger_id", "")),
            name=str(body.get("command", "")) or "/rocket",
        )
        if executor.draining:
            # Arrived on a kept-alive connection while this worker stops: say so at once
            # (nginx never replays a POST it sent, so a 5xx would only show Slack's error).
            log.info("slack %s refused: this worker is stopping", command.label)
            ack(text=RESTARTING_TEXT.format(command=escape(command.shown)))
            return
        if len(command.text) > slack_payloads.COMMAND_TEXT_LIMIT:
            log.info("slack %s refused: its text is too long", command.label)
            ack(text=TOO_LONG_TEXT.format(limit=slack_payloads.COMMAND_TEXT_LIMIT))
            return
        if not executor.try_reserve():
            log.warning("slack command refused: %d commands already waiting", LISTENER_QUEUE)
            ack(text=BUSY_TEXT)
            return
        ack()
        slot = ReplySlot()
        executor.submit_reserved(
            Job(
                command.label,
                "command",
                lambda: _run_command(ctx, command, replies, slot),
                lambda running: _restart_notice(command, replies, slot),
            )
        )

    return on_command


@dataclass(frozen=True)
class Command:
    """What the work after a command's ack needs from its payload."""

    text: str
    user_id: str
    response_url: str
    trigger_id: str
    name: str = "/rocket"

    @property
    def shown(self) -> str:
        """The command and its leading words (no argument values), e.g. ``/rocket team
        refresh``: safe to show and to log."""
        words = _LEADING_WORDS.match(self.text.strip())
        return " ".join(part for part in (self.name[:40], words[0] if words else "") if part)

    @property
    def label(self) -> str:
        """How log lines name this command."""
        return f"command `{self.shown}`"


_LEADING_WORDS = re.compile(r"[a-z]+(?: [a-z]+)?")
SLOW_DOWN_TEXT = "GitHub asked Rocket 2 to slow down; the rest follows in {seconds} s."


def _run_command(ctx: Services, command: Command, replies: ReplyClient, slot: ReplySlot) -> None:
    """The work after a command's ack: dispatch it and reply through response_url, unless the
    restart notice took the reply first."""
    started = time.monotonic()

    def slowed_down(seconds: float) -> None:  # GitHub's rate limit: say why the rest waits
        text = SLOW_DOWN_TEXT.format(seconds=max(1, round(seconds)))
        try:
            replies.post(command.response_url, {"text": text, "response_type": "ephemeral"})
        except Exception as exc:
            report_failure("reply to response_url", exc)

    try:
        with ctx.github.on_slow_down(slowed_down):
            message = features.dispatch(
                command.text, command.user_id, ctx, claim=_trigger_claim(command.trigger_id)
            )
    except Exception:
        ref = REQUEST_ID.get() or "-"
        log.exception("%s failed (ref %s)", command.label, ref)
        message = {"response_type": "ephemeral", "text": ERROR_TEXT.format(ref=ref)}
    if not slot.take():
        log.info("%s finished after its restart notice; its result is not sent", command.label)
        return
    try:
        replies.post(
            command.response_url,
            {
                "text": message.get("text", ""),
                "blocks": message.get("blocks"),
                "response_type": message.get("response_type", "ephemeral"),
            },
        )
    except Exception as exc:
        report_failure("reply to response_url", exc)
        return
    log.info("slack command answered in %d ms", (time.monotonic() - started) * 1000)


def _restart_notice(command: Command, replies: ReplyClient, slot: ReplySlot) -> Outcome:
    """Tell the user the command was not done (unless its result already went out)."""
    if not slot.take():
        return "answered"
    text = RESTARTED_TEXT.format(command=escape(command.shown))
    try:
        replies.post(command.response_url, {"text": text, "response_type": "ephemeral"})
    except Exception as exc:
        log.warning("restart notice for %s not sent (%s)", command.label, exc)
        return "failed"
    return "noticed"


def _trigger_claim(trigger_id: str) -> str:
    """The store claim of a command (``trigger:ID``, a hash when the id is long), or "" when
    Slack sent no trigger id."""
    if not trigger_id:
        return ""
    if len(trigger_id) > 180:
        trigger_id = "h-" + hashlib.sha256(trigger_id.encode()).hexdigest()
    return f"trigger:{trigger_id}"


def _event_listener(
    event_type: str, handler: features.SlackEventHandler, executor: BoundedExecutor
) -> Callable[..., BoltResponse | None]:
    def on_event(
        ack: Any, event: dict[str, Any], body: dict[str, Any], request: Any
    ) -> BoltResponse | None:
        # Runs in the request thread: ack, then handle in the bounded executor. With no room
        # (or while this worker stops), answer 503 without acking, so Slack retries the
        # delivery later (at another worker).
        if executor.draining:
            log.info("slack event %s deferred: this worker is stopping", event_type)
            return BoltResponse(status=503, body="")
        if not executor.try_reserve():
            log.warning("slack event %s deferred: listener backlog full", event_type)
            return BoltResponse(status=503, body="")
        ack()
        event_id = log_id(str(body.get("event_id") or "-"))
        executor.submit_reserved(
            Job(
                f"slack event {event_type} {event_id}",
                "event",
                lambda: _handle_event(event_type, handler, event, body, request),
                lambda running: _event_not_handled(event_type, event_id, running),
            )
        )
        return None

    return on_event


def _event_not_handled(event_type: str, event_id: str, running: bool) -> Outcome:
    """An acked event the worker stops before handling: Slack will not send it again."""
    log.error(
        "slack event %s %s was acknowledged but %s when this worker stopped; Slack will not "
        "send it again",
        event_type,
        event_id,
        "still running" if running else "never handled",
    )
    return "logged"


def _handle_event(
    event_type: str,
    handler: features.SlackEventHandler,
    event: dict[str, Any],
    body: dict[str, Any],
    request: Any,
) -> None:
    """The work after an event's ack: drop repeats, run the handler, forget on failure.
    Never fails silently: an outside failure is one warning line, a bug a traceback with its
    reference (the request id)."""
    event_id: str | None = ""
    try:
        event_id = first_delivery(body, request)
        if event_id is None:
            return
        handler(event, event_id)
    except Exception as exc:
        if event_id:
            instance.forget(EVENT_NAMESPACE, event_id)  # a retry may try again
        what = f"handling slack event {event_type} {log_id(event_id or '-')}"
        if is_outside_failure(exc):
            report_failure(what, exc)
        else:
            log.exception("%s failed (ref %s)", what, REQUEST_ID.get() or "-")


def create_blueprint(bolt: App, signing_secret: str, events: frozenset[str]) -> Blueprint:
    """The blueprint that hands Slack's POSTs to Bolt, once their signature and shape hold.

    The v0 signature and the timestamp (±5 minutes) are checked first, on the raw body:
    anything unsigned, forged or stale gets 401 before any parsing. The body is then parsed
    once and checked (app.slack.payloads): a signed body that can never be handled gets 400
    with a reason naming the field; an event or interaction Rocket 2 does not handle gets 200
    here. Bolt receives the checked body as JSON (its own signature check is off: the body it
    sees is no longer the signed bytes, and was verified above).
    """
    verifier = SignatureVerifier(signing_secret)
    unshaped = events - set(slack_payloads.EVENT_SHAPES)
    if unshaped:
        raise RuntimeError(f"Slack events handled without a checked shape: {sorted(unshaped)}")
    bp = Blueprint("slack", __name__)

    def handle(read: Callable[[dict[str, Any]], slack_payloads.Reading]) -> Response:
        raw = request.get_data(cache=True)
        headers = dict(request.headers)  # read once: the signature check's and Bolt's
        try:
            verified = verifier.is_valid_request(raw, headers)
        except ValueError:  # a timestamp that is not a number
            verified = False
        if not verified:
            return Response("invalid request signature", status=401, mimetype="text/plain")
        try:
            reading = read(slack_payloads.parse(raw, request.content_type or ""))
        except Malformed as exc:
            log.info("signed slack request refused: %s", exc)
            return Response(f"malformed request: {exc}", status=400, mimetype="text/plain")
        except (ValueError, RecursionError, KeyError):  # not JSON, not a form, too deep
            log.info("signed slack request with a malformed body refused")
            return Response("malformed request body", status=400, mimetype="text/plain")
        if reading.action == "ignore":
            log.debug("slack %s acknowledged and ignored", reading.kind)
            return Response("", status=200)
        bolt_headers: dict[str, str | Sequence[str]] = {
            **headers,
            "Content-Type": "application/json",
        }
        checked = BoltRequest(
            body=json.dumps(reading.body),
            query=request.query_string.decode("utf-8", "replace"),
            headers=bolt_headers,
        )
        return to_flask_response(bolt.dispatch(checked))

    @bp.post("/slack/commands")
    def slack_commands() -> Response:
        """Slash commands."""
        return handle(slack_payloads.read_command)

    @bp.post("/slack/events")
    def slack_events() -> Response:
        """Events API (url_verification included) and interactivity."""
        return handle(lambda body: slack_payloads.read_event(body, events))

    return bp
