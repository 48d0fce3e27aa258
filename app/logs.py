"""Logging: one line per record, text or JSON, a request id, and the secret filter everywhere.
A failure logged with its exception carries its cause on that line; its traceback is kept at
most once a minute per cause (TracebackThrottle), so a database outage cannot flood the log.

Gunicorn's own loggers get the same treatment through app.server.gunicorn_logger (named as
``logger_class`` in gunicorn.conf.py), so its error and access lines are filtered too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

from config import Config, SecretFilter

_LOGGABLE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,80}")

REQUEST_ID: ContextVar[str | None] = ContextVar("rocket2_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Libraries that log request or response bodies at DEBUG: never below INFO, whatever LOG_LEVEL.
QUIET_LOGGERS = ("urllib3", "httpx", "httpcore")
# slack-sdk logs every failed call at ERROR (and its retries); each of our calls reports its
# own failure in one line (app.outside.report_failure), so only its critical lines are kept.
SILENT_LOGGERS = ("slack_sdk",)
# APScheduler's own "Scheduler started" would double ours; its warnings still show. Alembic's
# INFO lines (plugins, DDL mode, each revision) are chatter: rocket2.store.migrate says the outcome.
WARNING_LOGGERS = ("apscheduler", "alembic")


def log_id(value: object) -> str:
    """``value`` when it looks like an id Slack or GitHub sends (letters, digits, ``._:-``, at
    most 80), else a placeholder: a log line never carries arbitrary request text."""
    text = value if isinstance(value, str) else ""
    return text if _LOGGABLE_ID.fullmatch(text) else "(malformed id)"


class RequestIdFilter(logging.Filter):
    """Copy the current request id (if any) onto every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach request_id; always keep the record."""
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get()
        return True


TRACEBACK_EVERY_SECONDS = 60.0
THROTTLED_NOTE = " (traceback logged at most once a minute per cause; LOG_LEVEL=DEBUG logs each)"


def failure_cause(exc: BaseException) -> str:
    """A value-free cause: a database failure in operator words (app.store.errors), else the
    exception's class name (its text may carry request values)."""
    from app.store.errors import store_cause  # the Gunicorn master loads this module: not the ORM

    return store_cause(exc) or type(exc).__name__


class TracebackThrottle(logging.Filter):
    """One line per failure: a record carrying an exception gets its cause appended
    (``…: disk full``) and keeps its traceback at most once every TRACEBACK_EVERY_SECONDS per
    cause (always, when the root logger is at DEBUG)."""

    def __init__(
        self,
        every: float = TRACEBACK_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """Append the cause; drop the traceback when this cause showed one recently."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or getattr(record, "rocket2_cause", None):
            return True
        cause = failure_cause(exc)
        record.rocket2_cause = cause
        record.msg, record.args = f"{record.getMessage()}: {cause}", None
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        key = f"{type(exc).__module__}.{type(exc).__qualname__}:{cause}"
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is None or now - last >= self._every:
                self._last[key] = now
                return True
        record.exc_info, record.exc_text = None, None
        record.msg += THROTTLED_NOTE
        return True


def _control_escapes() -> dict[int, str]:
    """Every C0 and C1 control, DEL, U+2028 and U+2029, mapped to a visible escape."""
    table = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
    table.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
    table.update({0x2028: "\\u2028", 0x2029: "\\u2029"})
    return table


# For the text format: a record can never break its line or send a terminal escape.
TEXT_ESCAPES = _control_escapes()
# For JSON: json.dumps escapes C0 already; with ensure_ascii=False it leaves C1, DEL and the
# two Unicode line separators raw, which some readers (and terminals) treat as line breaks.
JSON_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}


class OneLineFormatter(logging.Formatter):
    """Readable text, one line per record: every control character (C0, C1, DEL) and U+2028/9
    is shown as a visible escape (``\\n``, ``\\x1b``, ``\\u2028``), tracebacks included."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Format the record on a single line, with ``request_id=…`` when it has one."""
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            text += f" request_id={request_id}"
        return text.translate(TEXT_ESCAPES)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, request_id, exc. Control
    characters and U+2028/9 are ``\\uXXXX`` escapes, so the line is plain printable text."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as a single-line JSON object."""
        entry: dict[str, Any] = {
            "time": time.strftime(DATE_FORMAT, time.localtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False).translate(JSON_ESCAPES)


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT (text or json)."""
    return JsonFormatter() if log_format == "json" else OneLineFormatter()


def secret_filter(config: Config | None) -> SecretFilter:
    """A SecretFilter for ``config``'s secrets (key blocks are masked even without a config)."""
    return SecretFilter(config.secret_values() if config is not None else ())


def dress_handler(handler: logging.Handler, config: Config | None) -> None:
    """Give ``handler`` our formatter, the secret filter and the request-id filter (idempotent)."""
    handler.setFormatter(make_formatter(config.log_format if config else "text"))
    ours = SecretFilter | RequestIdFilter | TracebackThrottle
    for old in [f for f in handler.filters if isinstance(f, ours)]:
        handler.removeFilter(old)
    handler.addFilter(TracebackThrottle())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(secret_filter(config))


def configure_logging(config: Config | None, stream: TextIO | None = None) -> None:
    """Send the root logger to stderr (one handler, dressed) at LOG_LEVEL."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rocket2", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._rocket2 = True  # type: ignore[attr-defined]
    dress_handler(handler, config)
    root.addHandler(handler)
    level = logging.getLevelName(config.log_level if config else "INFO")
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    for name in SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for name in WARNING_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
