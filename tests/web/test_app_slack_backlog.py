"""Acks never wait behind earlier commands' work, even when response_url hangs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.gunicorn import wait_until
from tests.support.slack import FakeSlack, command_body, signed_headers

COMMANDS = 30  # more than the 8 listener threads of the one worker


class HangingResponseUrl:
    """A response_url that holds every reply until released, and counts them."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.received = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    owner.received += 1
                owner.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging() -> Iterator[HangingResponseUrl]:
    sink = HangingResponseUrl()
    yield sink
    sink.close()


def test_every_ack_returns_while_replies_hang(gunicorn_server, env, hanging):
    slack = FakeSlack().start()
    try:
        env["SLACK_API_URL"] = slack.api_url
        env["SLACK_RESPONSE_URL_ORIGINS"] = hanging.url.removesuffix("/hook")
        server = gunicorn_server(env)
        body = command_body("help", hanging.url)

        def send(_: int) -> httpx.Response:
            headers = signed_headers(env["SLACK_SIGNING_SECRET"], body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Slack gives up after 3 s; so does this client.
            return httpx.post(
                server.url + "/slack/commands", content=body, headers=headers, timeout=3
            )

        with ThreadPoolExecutor(COMMANDS) as pool:
            responses = list(pool.map(send, range(COMMANDS)))
        # Every ack came back while no reply had been answered yet.
        assert not hanging.release.is_set()
        assert [r.status_code for r in responses] == [200] * COMMANDS
        assert all(r.text == "" for r in responses)
        # The work is bounded: only the 8 listener threads are inside response_url at once.
        wait_until(lambda: hanging.received == 8, what="8 replies in flight")
        hanging.release.set()
        wait_until(lambda: hanging.received == COMMANDS, timeout=30, what="every reply")
    finally:
        slack.stop()
