"""Health endpoints: `/` (the old check, kept) and `/healthz` (JSON for probes)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app import instance

bp = Blueprint("health", __name__)


@bp.get("/")
def root() -> tuple[str, int, dict[str, str]]:
    """The old health check: 200 and a rocket."""
    return "🚀", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/healthz")
def healthz() -> Response:
    """Status, version, and whether this instance runs the scheduler. Never a secret."""
    from app import __version__

    return jsonify(
        status="ok",
        version=__version__,
        scheduler={"running": instance.lock_is_held(instance.SCHEDULER_LOCK)},
    )
