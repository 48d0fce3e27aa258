"""Small HTTP helpers the stand-ins share."""

from __future__ import annotations

import json
from typing import Any

from werkzeug import Request, Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``body`` as a JSON answer."""
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def fields(request: Request) -> dict[str, Any]:
    """A Web API call's arguments: query, form and JSON body together (as Slack reads them)."""
    values: dict[str, Any] = dict(request.values.items())
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        values.update(body)
    return values
