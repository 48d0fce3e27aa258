"""Gunicorn's gthread worker, with each request buffered whole before a thread takes it.

gthread waits for a connection's first bytes in its event loop, but once they arrive a thread
reads the rest of the head and the body with no time limit, so a few clients that stop
half-way hold every thread (issue 22, M3). BufferingThreadWorker keeps a connection in the
event loop until its whole request has arrived (app.server.framing), as nginx does in front:

- a request whose head and body have not arrived within REQUEST_READ_SECONDS of the first
  wait is dropped (the connection closed), and so is a head over framing.HEAD_LIMIT;
- a body is buffered up to the body limit (app.sizes.REQUEST_BODY); a larger one is handed on
  as soon as that is clear, and the app answers 413;
- ``Expect: 100-continue`` is answered here, so such a client sends its body.

It is a worker class (``worker_class`` in gunicorn.conf.py), Gunicorn's documented way to
change how connections are served; it overrides ``enqueue_req``, where gthread hands a
connection to its thread pool. Decision 0020 says why.
"""

from __future__ import annotations

import contextlib
import selectors
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from app import sizes
from app.server.framing import Progress, progress

# A legitimate sender (Slack, GitHub, a browser on the link page) sends a request of at most
# 1 MiB in well under a second; ten seconds leaves room for a slow network.
REQUEST_READ_SECONDS = 10.0
_RECV_BYTES = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Arrival:
    """The bytes of one connection's next request received so far."""

    def __init__(self, held: bytes) -> None:
        self.data = bytearray(held)
        self.continued = False


class BufferingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, with every request read whole in the event loop before a thread serves it."""

    def enqueue_req(self, conn: Any) -> None:
        """Hand ``conn`` to a thread once its next request has arrived whole (see module)."""
        if getattr(conn, "rocket2_arrived", False) or self.cfg.is_ssl:
            conn.rocket2_arrived = False
            super().enqueue_req(conn)
            return
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        arrival = _Arrival(held)
        if not self._settle(conn, arrival, watched=False):
            self._watch(conn, arrival)

    def _watch(self, conn: Any, arrival: _Arrival) -> None:
        conn.sock.setblocking(False)
        # gthread closes what stays in pending_conns past its timeout (murder_pending).
        conn.timeout = time.monotonic() + REQUEST_READ_SECONDS
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn, arrival)
        )

    def _on_readable(self, conn: Any, arrival: _Arrival, _sock: Any) -> None:
        try:
            received = conn.sock.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            received = b""
        if not received:  # the client went away
            self._forget(conn)
            self._drop(conn)
            return
        arrival.data += received
        self._settle(conn, arrival, watched=True)

    def _settle(self, conn: Any, arrival: _Arrival, watched: bool) -> bool:
        """Act on what has arrived; True when ``conn`` no longer waits in the event loop."""
        state = progress(bytes(arrival.data), sizes.REQUEST_BODY)
        if state in (Progress.READY, Progress.TOO_LONG):
            if watched:
                self._forget(conn)
            if state is Progress.READY:
                self._hand_on(conn, bytes(arrival.data))
            else:
                self._drop(conn)
            return True
        if state is Progress.CONTINUE and not arrival.continued:
            arrival.continued = True
            with contextlib.suppress(OSError):  # the next read sees the connection gone
                conn.sock.send(_CONTINUE)
        return False

    def _forget(self, conn: Any) -> None:
        self.poller.unregister(conn.sock)
        self.pending_conns.remove(conn)

    def _drop(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def _hand_on(self, conn: Any, request: bytes) -> None:
        conn.init()  # no I/O for plain HTTP/1.x: it makes the parser
        conn.data_ready = True
        conn.sock.setblocking(True)
        conn.parser.unreader.unread(request)
        conn.rocket2_arrived = True
        self.enqueue_req(conn)
