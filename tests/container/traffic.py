"""A steady client loop through nginx's https port on loopback, as Slack, GitHub and a browser
would send: ``GET /``, ``GET /healthz``, a signed ``/rocket help`` slash command (each with a
response_url of its own on the fake Slack) and a signed GitHub ``ping`` delivery.

One request every ``interval`` seconds on one thread, bounded in count and in time. Every
answer is recorded; a failure is any transport error, a status other than 200, or a 200 whose
body is not the app's (reported as 590).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from tests.support.slack import FakeSlack, command_body, signed_headers

KINDS = ("get", "healthz", "command", "webhook")


@dataclass
class Sample:
    """One request of the loop: when it started (monotonic), what it was, what came back."""

    started: float
    kind: str
    status: int
    detail: str = ""
    reply_path: str = ""
    ack_text: str = ""  # a command's ack body: non-empty when the ack itself is the reply


@dataclass
class Summary:
    """What a loop saw: counts, the failures, and the outage (first failure to the next
    success after the last failure, in ms; 0 when nothing failed)."""

    sent: int
    failed: list[Sample]
    outage_ms: float
    acked_replies: list[str]  # response_url paths of commands acked with an empty body
    answered_in_ack: list[Sample]  # commands whose ack carried the reply (e.g. "restarting")

    def describe(self) -> str:
        """One line for reports and failure messages."""
        kinds = {kind: sum(1 for o in self.failed if o.kind == kind) for kind in KINDS}
        first = "; ".join(f"{o.kind} {o.status} {o.detail[:80]}" for o in self.failed[:5])
        return (
            f"{self.sent} requests, {len(self.failed)} failed {kinds}, outage "
            f"{self.outage_ms:.0f} ms{': ' + first if first else ''}"
        )


@dataclass
class ClientLoop:
    """The loop; ``start()``, do something, then ``stop()`` for the Summary."""

    https_port: int
    domain: str
    slack: FakeSlack
    signing_secret: str
    webhook_secret: str
    webhook_path: str = "/webhook"
    interval: float = 0.02
    max_seconds: float = 240.0
    max_requests: int = 12_000
    outcomes: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ClientLoop:
        """Start sending in a background thread."""
        self._thread = threading.Thread(target=self._run, name="client-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Summary:
        """Stop sending, and summarise."""
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)
        return self.summary()

    def summary(self) -> Summary:
        """The outcomes so far, summarised."""
        outcomes = list(self.outcomes)
        failed = [o for o in outcomes if o.status != 200]
        outage = 0.0
        if failed:
            last = failed[-1].started
            later = (o.started for o in outcomes if o.started > last and o.status == 200)
            after = next(later, last)
            outage = (after - failed[0].started) * 1000
        commands = [o for o in outcomes if o.kind == "command" and o.status == 200]
        return Summary(
            sent=len(outcomes),
            failed=failed,
            outage_ms=outage,
            acked_replies=[o.reply_path for o in commands if not o.ack_text],
            answered_in_ack=[o for o in commands if o.ack_text],
        )

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        # The served certificate is Pebble's (test_deploy.py verifies it); here only answers count.
        with httpx.Client(verify=False, timeout=30) as client:  # noqa: S501
            for n in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                began = time.monotonic()
                self.outcomes.append(self._one(client, KINDS[n % len(KINDS)]))
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def _one(self, client: httpx.Client, kind: str) -> Sample:
        started = time.monotonic()
        url = f"https://127.0.0.1:{self.https_port}"
        headers = {"Host": self.domain}
        extensions = {"sni_hostname": self.domain}
        reply_path = ""
        try:
            if kind == "get":
                response = client.get(url + "/", headers=headers, extensions=extensions)
            elif kind == "healthz":
                response = client.get(url + "/healthz", headers=headers, extensions=extensions)
            elif kind == "command":
                name = f"loop-{uuid.uuid4().hex[:12]}"
                reply_path = f"/respond/{name}"
                body = command_body("help", self.slack.response_url_for(name))
                signed = signed_headers(
                    self.signing_secret, body, content_type="application/x-www-form-urlencoded"
                )
                response = client.post(
                    url + "/slack/commands",
                    content=body,
                    headers={**headers, **signed},
                    extensions=extensions,
                )
            else:
                body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
                digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
                response = client.post(
                    url + self.webhook_path,
                    content=body,
                    headers={
                        **headers,
                        "X-GitHub-Event": "ping",
                        "X-GitHub-Delivery": str(uuid.uuid4()),
                        "X-Hub-Signature-256": f"sha256={digest}",
                        "Content-Type": "application/json",
                    },
                    extensions=extensions,
                )
        except httpx.HTTPError as exc:
            return Sample(started, kind, 599, f"{type(exc).__name__}: {exc}", reply_path)
        status = response.status_code
        # A 200 from anything but the app (say a container on the app's old address) fails too.
        expected = {"get": "🚀", "healthz": '"ok"', "command": "", "webhook": "pong"}[kind]
        if status == 200 and expected not in response.text:
            status = 590
        detail = "" if status == 200 else response.text[:200]
        ack_text = response.text.strip() if kind == "command" and status == 200 else ""
        return Sample(started, kind, status, detail, reply_path, ack_text)
