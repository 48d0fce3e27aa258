"""Local stand-ins for Slack during a run: the Web API (instant) and response_url (slow)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLACK_OK = {
    "ok": True,
    "user_id": "UBENCHBOT",
    "bot_id": "BBENCHBOT",
    "team_id": "TBENCH",
    "channel": "CBENCH",
    "ts": "1.0",
    "channels": [],
    "response_metadata": {"next_cursor": ""},
}


class LocalSlack:
    """Answers every Web API call at /api/ at once; POSTs to /response wait ``reply_delay``.

    Records when each response_url reply was answered (arrival plus the delay).
    """

    def __init__(self, reply_delay: float = 1.0) -> None:
        self.reply_delay = reply_delay
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The head and the body go out in two writes: with Nagle's algorithm the body
            # would wait for the client's delayed ACK (40 ms more per reply than asked for).
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.startswith("/response"):
                    time.sleep(owner.reply_delay)  # the slow downstream being simulated
                    with owner._lock:
                        owner.arrivals.append(time.monotonic())
                    body = b"ok"
                    kind = "text/plain"
                else:
                    body = json.dumps(SLACK_OK).encode()
                    kind = "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 1024
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The SLACK_API_URL to configure."""
        return self.base + "/api/"

    @property
    def response_url(self) -> str:
        """The response_url to put in commands."""
        return self.base + "/response"

    def replies(self) -> list[float]:
        """When each reply so far was answered (monotonic seconds)."""
        with self._lock:
            return list(self.arrivals)

    def reset(self) -> None:
        """Forget earlier replies."""
        with self._lock:
            self.arrivals.clear()

    def __enter__(self) -> LocalSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
