"""The Gunicorn worker class and the master's TERM step that make a stop refuse new connections.

On TERM the master closes only its own copy of the listening socket; each worker keeps its copy
until its drain ends (app.slack_drain), so the kernel would still complete new connections into
the backlog and reset them when the last worker exits. nginx would have sent a POST on such a
connection already, so it cannot replay it: the client gets a 502. ``stop_listening`` (the
master, on a full stop) shuts the shared socket down instead: new connections are refused at
once, which nginx retries on another replica, and accepted ones finish as before. A worker
that then finds its listener shut stops accepting instead of failing (``ThreadWorker``).
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from gunicorn.workers import gthread

log = logging.getLogger("rocket2.gunicorn")


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread, tolerating a listener the master shut down (accept fails with EINVAL)."""

    _listener_shut = False

    def accept(self, listener: Any) -> None:
        """Accept as gthread does; a shut listener ends accepting in this worker."""
        try:
            super().accept(listener)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self._listener_shut = True
            self.set_accept_enabled(False)

    def set_accept_enabled(self, enabled: bool) -> None:
        """As gthread, but never again once the listener was shut."""
        super().set_accept_enabled(enabled and not self._listener_shut)


def stop_listening(server: Any) -> None:
    """Shut the listening sockets down for every process, when this master is really stopping.

    Not for a master that handed its sockets to a re-executed one (USR2), nor for inherited
    (systemd) or SO_REUSEPORT sockets, which others still serve on.
    """
    if server.reexec_pid or server.master_pid or server.systemd or server.cfg.reuse_port:
        return
    for listener in server.LISTENERS:
        try:
            listener.sock.shutdown(socket.SHUT_RD)
        except OSError as exc:
            log.warning("stopping: could not shut the listener down: %s", exc.strerror)
            continue
    log.info("stopping: new connections are refused; accepted ones finish")


def refuse_new_connections_on_term(server: Any) -> None:
    """Make the master's TERM shut its listeners down first (see stop_listening)."""
    original = server.handle_term

    def handle_term() -> None:
        stop_listening(server)
        original()

    server.handle_term = handle_term
