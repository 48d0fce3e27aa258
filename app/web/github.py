"""GitHub webhook endpoint at GITHUB_WEBHOOK_ENDPT.

Order matters: the raw body (at most MAX_CONTENT_LENGTH, else 413) is checked against
X-Hub-Signature-256 — HMAC-SHA256 with GITHUB_WEBHOOK_SECRET, compared in constant time —
before anything is parsed; X-GitHub-Delivery must be a GUID, as GitHub sends it (else 400:
it is the deduplication key, and it reaches the logs). Then the event is routed by
X-GitHub-Event: ping → 200, an event no handler is registered for → 202, JSON that is not an
object → 400, a payload not shaped as its event and action are (app.github.payloads.decode)
→ 400 naming the field, never its value. The router (app.github.webhooks) runs the handler
for the action with ``(context, event, X-GitHub-Delivery)``: IGNORED → 202, PROCESSED and
DUPLICATE → 200.

What each failure status means: 400, the delivery can never succeed (do not redeliver it);
503, GitHub or the database could not be reached now (redelivering it can succeed); 500, a
bug in Rocket 2, logged with its traceback under the request id. No input produces a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re

from flask import Blueprint, Response, jsonify, request

from app.github import payloads as webhook_payloads
from app.github.webhooks import DeliveryOutcome, Router
from app.logs import REQUEST_ID
from app.outside import is_outside_failure, report_failure
from app.payload_shapes import Malformed
from app.store.deadline import BoundedWork, WorkDeferred

log = logging.getLogger("rocket2.github")

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
# Handlers run off the request thread (app.store.deadline): at most 2 at a time per worker, a
# delivery waits at most 1 s for one of them (not at all while both are stuck), and each is
# answered within 6 s (the handlers' GitHub budget of 4 s plus short units of work, inside
# GitHub's 10 s), else 503. So Gunicorn's other request threads stay free for acks and /healthz.
WEBHOOK_THREADS = 2
WEBHOOK_DEADLINE_SECONDS = 6.0
DELIVERY_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=`` + the hex HMAC-SHA256 of ``body`` under ``secret``."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len(SIGNATURE_PREFIX) :].encode())


def _reply(code: int, /, **fields: object) -> tuple[Response, int]:
    return jsonify(fields), code


def create_blueprint[Context](
    path: str, secret: bytes, router: Router[Context], context: Context
) -> Blueprint:
    """The webhook blueprint, receiving at ``path``; ``router``'s handlers get ``context``."""
    bp = Blueprint("github", __name__)
    work = BoundedWork(WEBHOOK_THREADS, WEBHOOK_DEADLINE_SECONDS, "github-webhook")

    @bp.post(path)
    def github_webhook() -> tuple[Response, int]:
        """Verify, parse and route one delivery."""
        body = request.get_data(cache=False)
        delivery_id = request.headers.get("X-GitHub-Delivery", "")
        guid = DELIVERY_ID.fullmatch(delivery_id) is not None
        delivery = delivery_id if guid else "(not a GUID)"
        if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER)):
            log.warning("github delivery %s rejected: missing or bad signature", delivery)
            return _reply(401, error="missing or invalid X-Hub-Signature-256")
        if not guid:
            log.warning("github delivery rejected: X-GitHub-Delivery is not a GUID")
            return _reply(400, error="X-GitHub-Delivery must be a GUID, as GitHub sends it")
        event = request.headers.get("X-GitHub-Event", "")[:64]
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _reply(400, error="body is not valid JSON")
        if not isinstance(payload, dict):
            return _reply(400, error="body is not a JSON object")
        if event == "ping":
            log.info("github ping received (delivery %s)", delivery)
            return _reply(200, status="pong")
        if not router.handles(event):
            log.info("github event %r not handled (delivery %s)", event, delivery)
            return _reply(202, status="ignored", event=event)
        try:
            decoded = webhook_payloads.decode(event, payload)
        except Malformed as exc:
            log.warning("github %s delivery %s refused: %s", event, delivery, exc)
            return _reply(400, error=f"payload is not shaped as this event is: {exc}")
        try:
            outcome = work.run(lambda: router.dispatch(context, event, decoded, delivery_id))
        except WorkDeferred as exc:
            log.warning("github %s delivery %s deferred (503): %s", event, delivery, exc)
            return _reply(503, error="could not process the event now; redeliver later")
        except Exception as exc:
            if is_outside_failure(exc):
                report_failure(f"github {event} delivery {delivery}", exc)
                return _reply(503, error="could not process the event now; redeliver later")
            ref = REQUEST_ID.get() or "-"
            log.exception("github %s delivery %s failed (ref %s)", event, delivery, ref)
            return _reply(500, error=f"Rocket 2 failed on this delivery (reference {ref})")
        if outcome is DeliveryOutcome.IGNORED:
            return _reply(202, status=str(outcome), event=event)
        return _reply(200, status=str(outcome), event=event)

    return bp
