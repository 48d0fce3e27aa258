"""HTTP plumbing: request ids, trusted-proxy handling, the body limit, security headers and
JSON error pages."""

from __future__ import annotations

import io
import ipaddress
import itertools
import os
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from app.logs import REQUEST_ID

REQUEST_ID_HEADER = "X-Request-ID"
# Set by TrustedProxyFix on every request: whether the peer is a trusted proxy.
TRUSTED_PEER = "rocket2.trusted_peer"
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,128}$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_KNOWN_PEERS = 1024  # peer addresses whose trust is remembered (direct clients beyond: checked)


class TrustedProxyFix:
    """Werkzeug's ProxyFix for X-Forwarded-For and -Proto (one hop), for trusted peers only.

    ProxyFix on its own believes X-Forwarded-* from anyone. Here it applies only when the
    peer is in FORWARDED_ALLOW_IPS (or that is ``*``, as on Heroku, whose router is the only
    way in), so a client talking to Gunicorn directly cannot fake its address or scheme.
    X-Forwarded-Host, -Port and -Prefix are never trusted: the app needs none of them, and
    Heroku's router passes a client's own X-Forwarded-Host on.
    """

    def __init__(self, wsgi_app: Any, allowed: str) -> None:
        self._plain = wsgi_app
        self._fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=0)
        self._any = allowed.strip() == "*"
        self._networks: list[Network] = [] if self._any else list(_networks(allowed.split(",")))
        self._known: dict[str | None, bool] = {}

    def trusted(self, remote_addr: str | None) -> bool:
        """Whether a request from ``remote_addr`` may set X-Forwarded-* (each address's answer
        is kept: behind a proxy, every request comes from the same few)."""
        if self._any:
            return True
        known = self._known.get(remote_addr)
        if known is None:
            known = self._in_networks(remote_addr)
            if len(self._known) < _KNOWN_PEERS:
                self._known[remote_addr] = known
        return known

    def _in_networks(self, remote_addr: str | None) -> bool:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Apply ProxyFix when the peer is trusted; otherwise pass the request through.
        Either way environ[TRUSTED_PEER] says which."""
        environ[TRUSTED_PEER] = self.trusted(environ.get("REMOTE_ADDR"))
        if environ[TRUSTED_PEER]:
            return self._fixed(environ, start_response)
        return self._plain(environ, start_response)


def _networks(items: Iterable[str]) -> Iterable[Network]:
    for item in items:
        if item.strip():
            yield ipaddress.ip_network(item.strip(), strict=False)


class RequestIds:
    """New request ids: 32 hex characters, this process's random half then a count.

    Unique within a process and, with 64 random bits per process, across processes; no
    system call per request (os.urandom would hand the GIL to the reply threads on every ack).
    A forked child takes a random half of its own.
    """

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count(1)

    def new(self) -> str:
        """The next id."""
        return f"{self._prefix}{next(self._count):016x}"


_REQUEST_IDS = RequestIds()


def install_request_ids(app: Flask) -> None:
    """Give every request an id: a trusted proxy's X-Request-ID if sane (the same trust as
    X-Forwarded-*), else a new one.

    It is on every log line the request causes (through a context variable the log filter
    reads, carried into Slack listener threads) and returned as X-Request-ID, which the
    access log prints.
    """

    @app.before_request
    def _assign() -> None:
        trusted = request.environ.get(TRUSTED_PEER, False)
        incoming = request.headers.get(REQUEST_ID_HEADER, "") if trusted else ""
        rid = incoming if _GOOD_REQUEST_ID.match(incoming) else _REQUEST_IDS.new()
        g.request_id = rid
        g.request_id_token = REQUEST_ID.set(rid)

    @app.after_request
    def _echo(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.teardown_request
    def _reset(_: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            REQUEST_ID.reset(token)


def install_body_limit(app: Flask, limit: int) -> None:
    """Refuse a chunked body over ``limit`` bytes with 413, as Werkzeug does a Content-Length
    over it (Werkzeug alone would cut a chunked body at the limit without a word).

    A chunked body within the limit is read here, once, and handed on as a body of known
    length. Register it after install_request_ids, so the 413 carries the request's id.
    """

    @app.before_request
    def _bound_chunked_body() -> None:
        environ = request.environ
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            raise RequestEntityTooLarge()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        del environ["HTTP_TRANSFER_ENCODING"]


# On every response the app makes (Heroku has no nginx; nginx.conf adds the same to its own).
# The app serves JSON and plain text, so the policy allows nothing at all.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def install_security_headers(app: Flask) -> None:
    """Set SECURITY_HEADERS on every response, error pages included (a route may set its own)."""

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def install_error_pages(app: Flask) -> None:
    """Errors as small JSON bodies; an unexpected exception is logged and answered 500."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error")
        return jsonify(error="Internal Server Error"), 500
