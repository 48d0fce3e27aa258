"""app.server.framing: where a request ends, for the buffering worker (no server needed)."""

from __future__ import annotations

import pytest

from app.server.framing import HEAD_LIMIT, Progress, progress

HEAD = b"POST /webhook HTTP/1.1\r\nHost: r\r\n"
LIMIT = 1000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: r\r\n", Progress.WAITING),
        (b"GET / HTTP/1.1\r\nHost: r\r\n\r\n", Progress.READY),
        (HEAD + b"Content-Length: 5\r\n\r\nabcd", Progress.WAITING),
        (HEAD + b"content-length:5\r\n\r\nabcde", Progress.READY),
        (HEAD + b"Content-Length: 1001\r\n\r\n", Progress.READY),  # the app answers 413
        (HEAD + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\n", Progress.READY),
        (HEAD + b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", Progress.CONTINUE),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", Progress.WAITING),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n", Progress.WAITING),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n", Progress.READY),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\nTrailer: t\r\n\r\n", Progress.READY),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", Progress.READY),  # Gunicorn: 400
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n3e9\r\n", Progress.READY),  # over the limit
        (b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * HEAD_LIMIT, Progress.TOO_LONG),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 12000, Progress.TOO_LONG),
    ],
)
def test_progress(data: bytes, expected: Progress) -> None:
    assert progress(data, LIMIT) is expected
