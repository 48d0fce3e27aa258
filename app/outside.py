"""The one way failures of outside services (Slack, GitHub, the store) are reported.

Every call to Slack, GitHub or the store made outside a request either succeeds or logs exactly
one warning line saying what failed and why — never a traceback, never a value from the
request — and carries on. With the local dev config (APIs at http://127.0.0.1:9/) that is
what every outside call does.
"""

from __future__ import annotations

import logging
import re
from urllib.error import URLError

import httpx
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.github.errors import GitHubError
from app.store.errors import store_cause

log = logging.getLogger("rocket2.outside")


class DescribedFailure(Exception):
    """An outside call's failure whose ``str()`` is already short and value-free."""


_CODE = re.compile(r"[^a-z0-9_.]")


def describe_failure(exc: BaseException) -> str:
    """A short, value-free reason for a failed outside call: the kind of failure and, where
    it helps, Slack's error code or the OS's reason — never a URL, a path or a request value.
    A database failure is named in operator words (app.store.errors.store_cause).
    """
    if isinstance(exc, SQLAlchemyError):
        return f"database: {store_cause(exc)}"
    if isinstance(exc, SlackApiError):
        response = exc.response
        error = response.get("error") if response is not None else None
        code = _CODE.sub("", str(error))[:60] if error else "no error code"
        return f"Slack answered {response.status_code if response is not None else '?'}: {code}"
    if isinstance(exc, DescribedFailure):
        return str(exc)
    if isinstance(exc, URLError):
        reason = exc.reason
        return f"unreachable ({_os_reason(reason) if isinstance(reason, OSError) else 'URLError'})"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {_os_reason(exc)}"
    return type(exc).__name__


def _os_reason(exc: OSError) -> str:
    """The OS's own words (strerror), not ``str(exc)``, which may name a file or an address."""
    return exc.strerror or type(exc).__name__


def report_failure(what: str, exc: BaseException) -> None:
    """Log one warning line: ``what`` failed, and why. Never raises."""
    log.warning("%s failed, carrying on: %s", what, describe_failure(exc))


def is_outside_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is an outside service failing (Slack, GitHub, the network, the database
    being unreachable): worth one warning line. Anything else is a bug, worth a traceback."""
    outside = (SlackApiError, DescribedFailure, URLError, httpx.HTTPError, OSError, GitHubError)
    return isinstance(exc, (*outside, OperationalError, InterfaceError, PoolTimeout))
