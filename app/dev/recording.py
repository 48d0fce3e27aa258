"""A record of the stand-ins' exchanges, when asked (`rocket2 dev standins --record FILE`):
each Slack Web API call and GitHub call, with its answer, appended to FILE as one JSON line,
so a test can hold them to the services' published descriptions (tests/support/contract.py).

A line: ``service`` (slack or github), ``method``, ``path`` (as sent, under the service's
base URL: ``/chat.postMessage``, ``/orgs/club/teams``), ``query``, ``headers``, ``body``,
``status``, ``answer_headers``, ``answer``, and ``outside`` (an answer the stand-in gives
outside the description on purpose, as GitHub does to an unknown name). Credentials in the
Authorization header are replaced by ``[redacted]``."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from werkzeug import Request, Response

OUTSIDE = "rocket2.dev.outside"  # the request environ's key: the answer is outside on purpose
PREFIXES = (("/api/", "slack"), ("/github/", "github"))


def service_of(path: str) -> tuple[str, str] | None:
    """(service, path under its base) of a stand-in path, or None (the page, /dev/api, …)."""
    for prefix, service in PREFIXES:
        if path.startswith(prefix):
            return service, path[len(prefix) - 1 :]
    return None


class ExchangeLog:
    """Appends exchanges to a JSON-lines file (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, request: Request, response: Response) -> None:
        """Append one exchange, if it is a Slack or GitHub call."""
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "")
        found = service_of(raw.split("?", 1)[0] or request.path)
        if found is None:
            return
        headers = dict(request.headers.items())
        if "Authorization" in headers:
            scheme = headers["Authorization"].partition(" ")[0]
            headers["Authorization"] = f"{scheme} [redacted]"
        line = {
            "service": found[0],
            "method": request.method,
            "path": found[1],
            "query": request.query_string.decode("latin-1"),
            "headers": headers,
            "body": request.get_data().decode("utf-8", "replace"),
            "status": response.status_code,
            "answer_headers": dict(response.headers.items()),
            "answer": response.get_data().decode("utf-8", "replace"),
            "outside": bool(request.environ.get(OUTSIDE)),
        }
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
