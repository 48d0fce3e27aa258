"""Health endpoints: `/` (liveness: the process serves) and `/healthz` (JSON for probes).

`/healthz` reports the store from a time-bounded check in its own thread (StoreCheck): each
request starts one (unless one is running) and waits for it at most HEALTHZ_WAIT_SECONDS, then
answers from the last finished check. It answers 503 while the store is down (the last check
failed, or one has been running for over STORE_CHECK_TIMEOUT_SECONDS).
The details (version, store, scheduler, pins) go only to loopback and private addresses (the
client's address after the trusted-proxy handling) or to a request bearing HEALTHZ_TOKEN;
anyone else gets the status alone. docs/operators/operations.md says which probe uses which
endpoint.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, jsonify, request

from app.logs import failure_cause
from app.server import instance
from app.services import services_of
from app.teams.mirror import SPECIAL_ROLES, pin_status
from app.version import VERSION
from config import Config

bp = Blueprint("health", __name__)
log = logging.getLogger("rocket2.health")

# A check unanswered for 2 s means "down": a healthy database answers in milliseconds, and a
# load balancer's probe (often a 5 s timeout) must get its answer well before it gives up.
STORE_CHECK_TIMEOUT_SECONDS = 2.0
# How long /healthz waits for a check it just started (then it answers with what it knows).
HEALTHZ_WAIT_SECONDS = 0.3

Probe = Callable[[], dict[str, str]]

# Who sees the details without a token: the host itself, and private networks (a compose or
# Docker network, a VPN). Written out rather than ipaddress's is_private, which also counts
# the documentation ranges (203.0.113.0/24 ...) and other special blocks as private.
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
)


@dataclass(frozen=True)
class StoreState:
    """What /healthz says about the store: "up", "down" (with a value-free problem) or
    "checking" (no check has finished yet), and the special teams' pins read by the check."""

    state: str
    problem: str = ""
    special_teams: dict[str, str] = field(default_factory=dict)


UNKNOWN_PINS = {role: "unknown" for role, _ in SPECIAL_ROLES}


class StoreCheck:
    """Runs ``probe`` (one short unit of work) in its own thread, at most one at a time, and
    keeps its outcome; ``state()`` never blocks for more than HEALTHZ_WAIT_SECONDS."""

    def __init__(self, probe: Probe, clock: Callable[[], float] = time.monotonic) -> None:
        self._probe = probe
        self._clock = clock
        self._lock = threading.Lock()
        self._result: StoreState | None = None
        self._running_since: float | None = None
        self._done = threading.Event()

    def state(self) -> StoreState:
        """The store's state now (see the class)."""
        with self._lock:
            if self._running_since is None:
                self._start()
            done = self._done
        done.wait(HEALTHZ_WAIT_SECONDS)
        with self._lock:
            running = self._running_since
            if running is not None and self._clock() - running > STORE_CHECK_TIMEOUT_SECONDS:
                return StoreState(
                    "down",
                    f"timed out (no answer in {STORE_CHECK_TIMEOUT_SECONDS:.0f} s)",
                    UNKNOWN_PINS,
                )
            return self._result or StoreState("checking", "", UNKNOWN_PINS)

    def _start(self) -> None:
        self._running_since = self._clock()
        self._done = threading.Event()
        threading.Thread(
            target=self._run, args=(self._done,), name="store-check", daemon=True
        ).start()

    def _run(self, done: threading.Event) -> None:
        try:
            result = StoreState("up", "", self._probe())
        except Exception as exc:
            cause = failure_cause(exc)
            log.warning("healthz: the store check failed: %s", cause)
            result = StoreState("down", cause, UNKNOWN_PINS)
        with self._lock:
            self._result = result
            self._running_since = None
        done.set()


def _store_check() -> StoreCheck:
    extensions = current_app.extensions
    check = extensions.get("rocket2.store_check")
    if check is None:
        ctx = services_of(current_app)
        assert ctx is not None, "create_app attaches the services"

        def probe() -> dict[str, str]:
            with ctx.store.unit_of_work() as uow:
                return dict(pin_status(uow, ctx.config))

        check = extensions.setdefault("rocket2.store_check", StoreCheck(probe))
    return check  # type: ignore[no-any-return]


@bp.get("/")
def root() -> tuple[str, int, dict[str, str]]:
    """Liveness: 200 and a rocket, whatever the store's state."""
    return "🚀", 200, {"Content-Type": "text/plain; charset=utf-8"}


def is_internal(address: str | None) -> bool:
    """Whether ``address`` is loopback or in a private network (INTERNAL_NETWORKS)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in INTERNAL_NETWORKS)


def _bears_token() -> bool:
    config: Config = current_app.extensions["rocket2.config"]
    token = config.healthz_token.reveal()
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Status: "ok" (200), or "unavailable" (503) while the store is down; nothing more unless
    the caller is internal (is_internal) or bears HEALTHZ_TOKEN. Then also: the version, the
    store ("up" | "down" | "checking", and ``store_problem`` when down), whether this instance
    runs the scheduler, and the special teams' pins (role → "pinned" | "not found" |
    "not configured" | "unresolved", from the store, never from GitHub; "unknown" when the
    store cannot answer). Never a secret."""
    store = _store_check().state()
    status = "unavailable" if store.state == "down" else "ok"
    code = 503 if store.state == "down" else 200
    if not (is_internal(request.remote_addr) or _bears_token()):
        return jsonify(status=status), code
    body: dict[str, object] = {
        "status": status,
        "version": VERSION,
        "store": store.state,
    }
    if store.problem:
        body["store_problem"] = store.problem
    body["scheduler"] = {"running": instance.lock_is_held(instance.SCHEDULER_RUNNING)}
    body["special_teams"] = store.special_teams
    return jsonify(body), code
