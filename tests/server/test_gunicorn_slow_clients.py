"""Issue 22, M3, through a real Gunicorn facing its clients directly (as on Heroku): clients that
stop half-way through a request hold no thread, and are dropped after REQUEST_READ_SECONDS.
Whole requests that arrive in pieces, chunked, or after 100 Continue are still served."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid

import httpx
import pytest

from app.server.worker import REQUEST_READ_SECONDS
from tests.support.gunicorn import wait_until

STALLED_BODY = b"POST /webhook HTTP/1.1\r\nHost: rocket\r\nContent-Length: 100\r\n\r\n"
STALLED_HEAD = b"GET / HTTP/1.1\r\nHost: rocket\r\nX-Unfinished: "


@pytest.fixture
def server(gunicorn_server, env):  # type: ignore[no-untyped-def]
    # One worker × 4 threads: the measurement.
    return gunicorn_server({**env, "SLACK_API_URL": "http://127.0.0.1:9/", "WEB_CONCURRENCY": "1"})


def connect(server, first: bytes) -> socket.socket:  # type: ignore[no-untyped-def]
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(first)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (EOF or reset), without blocking."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def signed_ping(secret: str) -> tuple[bytes, bytes]:
    """The head and body of a signed GitHub ping to /webhook."""
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    head = (
        "POST /webhook HTTP/1.1\r\nHost: rocket\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-GitHub-Event: ping\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\nX-Hub-Signature-256: sha256={signature}\r\n"
        f"Content-Length: {len(body)}\r\n"
    ).encode()
    return head, body


def read_response(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_stalled_clients_do_not_stop_get_and_are_dropped(server) -> None:  # type: ignore[no-untyped-def]
    stalled = [connect(server, STALLED_BODY) for _ in range(4)]
    stalled += [connect(server, STALLED_HEAD) for _ in range(4)]
    try:
        for _ in range(3):  # every thread would be held by now without the buffering
            response = httpx.get(server.url + "/", timeout=3)
            assert response.status_code == 200 and response.text == "🚀"
        wait_until(
            lambda: all(closed_by_server(s) for s in stalled),
            timeout=REQUEST_READ_SECONDS + 10,
            interval=0.2,
            what="the server to drop the stalled clients",
        )
    finally:
        for sock in stalled:
            sock.close()


def test_whole_requests_in_pieces_chunked_or_after_100_continue_are_served(server, env) -> None:  # type: ignore[no-untyped-def]
    secret = env["GITHUB_WEBHOOK_SECRET"]
    head, body = signed_ping(secret)
    pieces = connect(server, head)
    for piece in (b"\r\n", body[:10], body[10:]):
        pieces.sendall(piece)
    assert b'"status":"pong"' in read_response(pieces)

    head, body = signed_ping(secret)
    chunked = head.replace(f"Content-Length: {len(body)}".encode(), b"Transfer-Encoding: chunked")
    framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:7], body[7:])) + b"0\r\n\r\n"
    sock = connect(server, chunked + b"\r\n" + framed[:5])
    sock.sendall(framed[5:])
    assert b'"status":"pong"' in read_response(sock)

    head, body = signed_ping(secret)
    sock = connect(server, head + b"Expect: 100-continue\r\n\r\n")
    sock.settimeout(5)
    assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(body)
    assert b'"status":"pong"' in read_response(sock)


def test_keepalive_requests_and_a_head_over_the_limit(server) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=5) as client:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 200]
    huge = connect(server, b"GET / HTTP/1.1\r\nHost: rocket\r\n" + _headers(70 * 1024))
    wait_until(lambda: closed_by_server(huge), timeout=5, what="a 70 KiB head to be dropped")
    huge.close()


def _headers(size: int) -> bytes:
    line = b"X-Filler: " + b"f" * 1000 + b"\r\n"
    return line * (size // len(line) + 1)
