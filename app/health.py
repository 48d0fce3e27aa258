"""Health endpoints: `/` (the old check, kept) and `/healthz` (JSON for probes)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app import instance
from app.teams.mirror import SPECIAL_ROLES, pin_status

bp = Blueprint("health", __name__)
log = logging.getLogger("rocket2.health")


@bp.get("/")
def root() -> tuple[str, int, dict[str, str]]:
    """The old health check: 200 and a rocket."""
    return "🚀", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/healthz")
def healthz() -> Response:
    """Status, version, whether this instance runs the scheduler, and the special teams' pins
    (role → "pinned" | "not found" | "not configured" | "unresolved", read from the store, never
    from GitHub; "unknown" if the store cannot answer). Never a secret."""
    from app import __version__

    return jsonify(
        status="ok",
        version=__version__,
        scheduler={"running": instance.lock_is_held(instance.SCHEDULER_LOCK)},
        special_teams=_special_teams(),
    )


def _special_teams() -> dict[str, str]:
    ctx = current_app.extensions["rocket2.commands"]
    try:
        with ctx.store.unit_of_work() as uow:
            return dict(pin_status(uow, ctx.config))
    except SQLAlchemyError as exc:
        log.warning("healthz: could not read the special team pins (%s)", type(exc).__name__)
        return {role: "unknown" for role, _ in SPECIAL_ROLES}
