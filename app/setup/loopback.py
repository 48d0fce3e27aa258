"""A one-shot page on a loopback port for GitHub's manifest flow: ``/`` posts the manifest
to GitHub's form (the browser carries it there); ``/callback`` takes GitHub's redirect back,
checks its ``state`` and hands the ``code`` over. The server stops after one callback."""

from __future__ import annotations

import hmac
import html
import json
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug import Request, Response
from werkzeug.serving import BaseWSGIServer, make_server

HOST = "127.0.0.1"


@dataclass
class Callback:
    """What came back: the code, or why it was refused."""

    code: str = ""
    refused: str = ""


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return Response(
        text,
        status=status,
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


class ManifestPage:
    """The loopback page; ``wait()`` returns the Callback (or None on timeout)."""

    def __init__(self, form_url: str, state: str, org: str, port: int = 0) -> None:
        self._form_url = form_url
        self._state = state
        self._org = org
        self._manifest: dict[str, Any] = {}
        self._done = threading.Event()
        self._callback = Callback()
        self._taken = False
        self._server: BaseWSGIServer = make_server(HOST, port, self._wsgi, threaded=True)

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{HOST}:{self._server.server_port}/"

    @property
    def redirect_url(self) -> str:
        """Where GitHub sends the browser back."""
        return self.url + "callback"

    def serve(self, manifest: dict[str, Any]) -> None:
        """Start serving (in a thread) the page that posts ``manifest``."""
        self._manifest = manifest
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def wait(self, timeout: float) -> Callback | None:
        """The callback, or None when none came within ``timeout`` seconds; then stop."""
        arrived = self._done.wait(timeout)
        self._server.shutdown()
        self._server.server_close()
        return self._callback if arrived else None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/" and request.method == "GET" and not self._taken:
            response = self._form()
        elif request.path == "/callback" and request.method == "GET" and not self._taken:
            response = self._take(request)
        else:
            response = _page("Nothing here", "<p>This page has done its one job.</p>", 404)
        return response(environ, start_response)

    def _form(self) -> Response:
        manifest = html.escape(json.dumps(self._manifest))
        action = html.escape(self._form_url)
        body = (
            f"<p>Rocket 2 asks GitHub to create its App for <b>{html.escape(self._org)}</b>. "
            "GitHub will ask you to confirm its name. If GitHub answers 404, the organisation "
            "does not exist or you are not one of its owners.</p>"
            f"<form id='manifest-form' method='post' action='{action}'>"
            f"<input type='hidden' name='manifest' value='{manifest}'>"
            "<button id='send' type='submit'>Create the GitHub App on GitHub</button></form>"
            "<script>document.getElementById('manifest-form').submit()</script>"
        )
        return _page("Rocket 2: create the GitHub App", body)

    def _take(self, request: Request) -> Response:
        state = request.args.get("state", "")
        code = request.args.get("code", "")
        if not hmac.compare_digest(state.encode(), self._state.encode()):
            self._callback = Callback(refused="state")
            response = _page("Refused", "<p>This answer is not for this setup run.</p>", 400)
        elif not code:
            self._callback = Callback(refused="code")
            response = _page("Refused", "<p>GitHub sent no code.</p>", 400)
        else:
            self._callback = Callback(code=code)
            response = _page(
                "GitHub App created", "<p>Back to the terminal: Rocket 2 finishes there.</p>"
            )
        self._taken = True
        response.call_on_close(self._done.set)  # stop only once the answer has been sent
        return response
