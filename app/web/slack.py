"""Slack's endpoints on slack-sdk: POST /slack/commands and /slack/events.

The signature and timestamp are checked on the raw body with slack-sdk's SignatureVerifier
(401), then the body is parsed and checked once into typed Structs (app.slack.payloads), then
the workspace gate (app.slack.workspace) runs. 200: handled, or chosen to ignore; 400: a signed
request that can never be handled, naming the field; 503 (events only): not handled now
(backlog full, worker stopping, workspace not known yet), so Slack retries. No input produces
a 500. A command is acknowledged in the request thread and its work runs in a bounded
executor, replying through app.slack.reply_client; an event is acknowledged, then handled once per
instance (a marker) and once across instances (the store claim of its event id). Work after
an ack never fails silently: one warning line for an outside failure, a traceback and a
reference for a bug.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import msgspec
from flask import Blueprint, Response, request
from slack_sdk.signature import SignatureVerifier

from app.feature import SlackEvent
from app.logs import REQUEST_ID, log_id
from app.outside import is_outside_failure, report_failure
from app.payload_shapes import Malformed
from app.server import instance
from app.server.drain import Job, ReplyFate, TrackedExecutor
from app.services import Services
from app.slack import payloads as slack_payloads
from app.slack.authorize import BotAuthorization
from app.slack.blocks import escape
from app.slack.payloads import Reading, SlashCommand
from app.slack.reply_client import ReplyClient, ReplySlot
from app.slack.workspace import Refusal, WorkspaceGate

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
    worker can give up: app.server.drain).
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


def first_delivery(event_id: str, retry: str, reason: str) -> str | None:
    """The event id if this instance has not handled it yet (claims it), else None.

    Logs a repeat (with Slack's X-Slack-Retry-Num and reason) once.
    """
    if not event_id:
        return ""
    if instance.first_time(EVENT_NAMESPACE, event_id, prune_after=EVENT_MARKER_TTL):
        return event_id
    log.info(
        "slack event %s already received; skipping repeat (retry %s, %s)",
        log_id(event_id),
        log_id(retry[:40] or "-"),
        log_id(reason[:40] or "-"),
    )
    return None


class SlackEdge:
    """What both endpoints share: the bounded executor, the reply client, the workspace gate."""

    def __init__(
        self,
        ctx: Services,
        authorization: BotAuthorization,
        events: Mapping[str, SlackEvent[Any]],
    ) -> None:
        config = ctx.config
        self.ctx = ctx
        self.authorization = authorization
        self.events = events
        self.executor = BoundedExecutor(LISTENER_THREADS, LISTENER_QUEUE)
        self.reply_client = ReplyClient(config.slack_response_url_origins)
        # A draining worker's replies end before it is killed.
        self.executor.stop_by = self.reply_client.stop_by
        self.gate = WorkspaceGate(config.slack_team_id, lambda: authorization.team_id)

    def on_command(self, command: SlashCommand) -> Response:
        """Acknowledge a checked command in the request thread; its work goes to the executor."""
        self.authorization.start()
        refusal = self.gate.refuse_command(command)
        if refusal is not None:
            return _refused(refusal)
        executor = self.executor
        if executor.draining:
            # Arrived on a kept-alive connection while this worker stops: say so at once
            # (nginx never replays a POST it sent, so a 5xx would only show Slack's error).
            log.info("slack %s refused: this worker is stopping", command.label)
            return _text(RESTARTING_TEXT.format(command=escape(command.shown)))
        if len(command.text) > slack_payloads.COMMAND_TEXT_LIMIT:
            log.info("slack %s refused: its text is too long", command.label)
            return _text(TOO_LONG_TEXT.format(limit=slack_payloads.COMMAND_TEXT_LIMIT))
        if not executor.try_reserve():
            log.warning("slack command refused: %d commands already waiting", LISTENER_QUEUE)
            return _text(BUSY_TEXT)
        slot = ReplySlot()
        executor.submit_reserved(
            Job(
                command.label,
                "command",
                lambda: _run_command(self.ctx, command, self.reply_client, slot),
                lambda running: _restart_notice(command, self.reply_client, slot),
            )
        )
        return _text("")

    def on_event(self, reading: Reading) -> Response:
        """Acknowledge a checked event, then handle it in the executor. With no room (or while
        this worker stops), answer 503 without acking, so Slack retries it (at another worker)."""
        self.authorization.start()
        envelope, event_type = reading.envelope, reading.kind
        assert envelope is not None and not isinstance(envelope.event, msgspec.UnsetType)
        event = envelope.event
        user = event.user.id if isinstance(event.user, slack_payloads.Ref) else event.user
        if self.authorization.is_own(user, event.bot_id):
            log.info("slack event %s from the bot itself ignored", event_type)
            return _text("")
        refusal = self.gate.refuse_event(reading.body)
        if refusal is not None:
            return _refused(refusal)
        if self.executor.draining:
            log.info("slack event %s deferred: this worker is stopping", event_type)
            return _text("", status=503)
        if not self.executor.try_reserve():
            log.warning("slack event %s deferred: listener backlog full", event_type)
            return _text("", status=503)
        event_id = str(envelope.event_id)
        headers = request.headers
        retry = (headers.get("X-Slack-Retry-Num", ""), headers.get("X-Slack-Retry-Reason", ""))
        handler, typed, ctx = self.events[event_type].handler, reading.event, self.ctx
        self.executor.submit_reserved(
            Job(
                f"slack event {event_type} {log_id(event_id)}",
                "event",
                lambda: _handle_event(
                    event_type, lambda first: handler(ctx, typed, first), event_id, retry
                ),
                lambda running: _event_not_handled(event_type, log_id(event_id), running),
            )
        )
        return _text("")


def _text(text: str, status: int = 200) -> Response:
    """A plain-text answer (an ack's text is shown to the caller only)."""
    return Response(text, status=status, mimetype="text/plain")


def _refused(refusal: Refusal) -> Response:
    if not refusal.body:
        return _text("", status=refusal.status)
    return Response(refusal.body, status=refusal.status, mimetype="application/json")


SLOW_DOWN_TEXT = "GitHub asked Rocket 2 to slow down; the rest follows in {seconds} s."


def _run_command(
    ctx: Services, command: SlashCommand, reply_client: ReplyClient, slot: ReplySlot
) -> None:
    """The work after a command's ack: dispatch it and reply through response_url, unless the
    restart notice took the reply first."""
    started = time.monotonic()

    def slowed_down(seconds: float) -> None:  # GitHub's rate limit: say why the rest waits
        text = SLOW_DOWN_TEXT.format(seconds=max(1, round(seconds)))
        try:
            reply_client.post(command.response_url, {"text": text, "response_type": "ephemeral"})
        except Exception as exc:
            report_failure("reply to response_url", exc)

    try:
        with ctx.github.on_slow_down(slowed_down):
            message = ctx.commands.dispatch(
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
        reply_client.post(
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


def _restart_notice(command: SlashCommand, reply_client: ReplyClient, slot: ReplySlot) -> ReplyFate:
    """Tell the user the command was not done (unless its result already went out)."""
    if not slot.take():
        return "answered"
    text = RESTARTED_TEXT.format(command=escape(command.shown))
    try:
        reply_client.post(command.response_url, {"text": text, "response_type": "ephemeral"})
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


def _event_not_handled(event_type: str, event_id: str, running: bool) -> ReplyFate:
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
    event_type: str, handle: Callable[[str], None], event_id: str, retry: tuple[str, str]
) -> None:
    """The work after an event's ack: drop repeats, run the handler, forget on failure.
    Never fails silently: an outside failure is one warning line, a bug a traceback with its
    reference (the request id)."""
    first: str | None = ""
    try:
        first = first_delivery(event_id, *retry)
        if first is None:
            return
        handle(first)
    except Exception as exc:
        if first:
            instance.forget(EVENT_NAMESPACE, first)  # a retry may try again
        what = f"handling slack event {event_type} {log_id(first or '-')}"
        if is_outside_failure(exc):
            report_failure(what, exc)
        else:
            log.exception("%s failed (ref %s)", what, REQUEST_ID.get() or "-")


def create_blueprint(
    ctx: Services,
    authorization: BotAuthorization,
    events: Mapping[str, SlackEvent[Any]],
) -> Blueprint:
    """The blueprint for Slack's POSTs. Makes no network call here, nor before any ack.

    The v0 signature and the timestamp (±5 minutes) are checked first, on the raw body:
    anything unsigned, forged or stale gets 401 before any parsing. The body is then parsed
    once and checked (app.slack.payloads): a signed body that can never be handled gets 400
    with a reason naming the field; an event or interaction Rocket 2 does not handle gets 200.
    """
    verifier = SignatureVerifier(ctx.config.slack_signing_secret.reveal())
    edge = SlackEdge(ctx, authorization, events)
    shapes = {event_type: event.shape for event_type, event in events.items()}
    bp = Blueprint("slack", __name__)

    @bp.post("/slack/commands")
    def slack_commands() -> Response:
        """Slash commands."""
        reading = _checked(verifier, slack_payloads.read_command)
        if isinstance(reading, Response):
            return reading
        assert reading.command is not None
        return edge.on_command(reading.command)

    @bp.post("/slack/events")
    def slack_events() -> Response:
        """Events API (url_verification included) and interactivity."""
        reading = _checked(verifier, lambda body: slack_payloads.read_event(body, shapes))
        if isinstance(reading, Response):
            return reading
        if reading.action == "challenge":
            assert reading.envelope is not None
            answer = json.dumps({"challenge": reading.envelope.challenge})
            return Response(answer, mimetype="application/json")
        return edge.on_event(reading)

    return bp


def _checked(
    verifier: SignatureVerifier, read: Callable[[dict[str, Any]], Reading]
) -> Reading | Response:
    """The request's checked reading, or the answer it gets here: 401 (not signed by Slack),
    400 (never handled, with a reason), 200 (ignored)."""
    raw = request.get_data(cache=True)
    try:
        verified = verifier.is_valid(
            raw,
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
        )
    except (ValueError, TypeError):  # a timestamp not a number, a signature not ASCII
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
        return _text("")
    return reading
