"""Where an HTTP/1.x request ends in the bytes received so far (RFC 9112 section 6).

``progress(data, body_limit)`` tells the buffering worker (app.server.worker) whether the
request at the start of ``data`` has fully arrived. It never decides validity: anything it
cannot frame is handed on as "ready", and Gunicorn's own parser answers it (400, 413 ...).
"""

from __future__ import annotations

import re
from enum import Enum

# Request line and header fields together; Gunicorn's own limits are per line and per field.
HEAD_LIMIT = 64 * 1024

_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*$", re.IGNORECASE)
_TRANSFER_ENCODING = re.compile(rb"^transfer-encoding[ \t]*:", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*$", re.IGNORECASE)


class Progress(Enum):
    """How far a request has arrived."""

    WAITING = "waiting"  # more bytes are needed
    CONTINUE = "continue"  # the head is in, the client waits for 100 Continue before its body
    READY = "ready"  # whole, over the limit, or not frameable here: Gunicorn takes it
    TOO_LONG = "too long"  # no end of the head within HEAD_LIMIT, or far more than a body


def progress(data: bytes, body_limit: int) -> Progress:
    """How far the request at the start of ``data`` has arrived (see Progress)."""
    if len(data) > HEAD_LIMIT + 2 * body_limit:  # chunk framing around tiny chunks, say
        return Progress.TOO_LONG
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return Progress.TOO_LONG if len(data) > HEAD_LIMIT else Progress.WAITING
    lines = data[:end].split(b"\r\n")[1:]
    body = data[end + 4 :]
    if any(_TRANSFER_ENCODING.match(line) for line in lines):
        arrived = _chunked_arrived(body, body_limit)
    else:
        lengths = [m.group(1) for line in lines if (m := _CONTENT_LENGTH.match(line))]
        if len(lengths) > 1:
            return Progress.READY  # Gunicorn refuses a repeated Content-Length
        wanted = int(lengths[0]) if lengths else 0
        arrived = wanted > body_limit or len(body) >= wanted
    if arrived:
        return Progress.READY
    if not body and any(_EXPECT_CONTINUE.match(line) for line in lines):
        return Progress.CONTINUE
    return Progress.WAITING


def _chunked_arrived(body: bytes, body_limit: int) -> bool:
    """Whether a chunked body has arrived whole (its last chunk and trailer section), has
    more than ``body_limit`` bytes of content already, or cannot be framed."""
    position = total = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return len(body) - position > HEAD_LIMIT  # a size line without end: hand it on
        size_field = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return True  # not a chunk size: Gunicorn answers 400
        if size == 0:
            return body.find(b"\r\n\r\n", line_end) >= 0
        total += size
        if total > body_limit:
            return True
        position = line_end + 2 + size + 2
        if position > len(body):
            return False
