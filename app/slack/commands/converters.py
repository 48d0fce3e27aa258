"""argparse ``type=`` converters for member fields: each says what is wrong, never echoing much."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from app.store import Permission
from config.parsers import github_login as _github_login

# A sane local@domain.tld: letters, digits and ``.!#$%'+/=?^{}~-_`` before the @ (no Slack
# markup ``< > & | * ` ``, no space or control character), DNS labels after it, a real TLD.
_LOCAL = r"[\w.!#$%'+/=?^{}~-]{1,64}"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_TLD = r"(?:[^\W\d_]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+{_TLD}")
EMAIL_LIMIT = 254  # the longest address SMTP can carry (RFC 5321 path limit)


def text(limit: int) -> Callable[[str], str]:
    """A free-text field of at most ``limit`` characters (surrounding spaces dropped)."""

    def convert(value: str) -> str:
        value = value.strip()
        if len(value) > limit:
            raise argparse.ArgumentTypeError(f"is too long (at most {limit} characters)")
        return value

    return convert


def email(value: str) -> str:
    """An e-mail address of a sane shape (Slack turns it into a mailto link, undone before)."""
    value = value.strip()
    local = value.partition("@")[0]
    if (
        len(value) > EMAIL_LIMIT
        or not _EMAIL.fullmatch(value)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or "_" in value.partition("@")[2]
    ):
        raise argparse.ArgumentTypeError("is not an e-mail address such as name@example.org")
    return value


def github_login(value: str) -> str:
    """A GitHub username (letters, digits, single inner dashes, at most 39)."""
    value = value.strip().lstrip("@")
    try:
        return _github_login(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "is not a GitHub username (letters, digits and single inner dashes, at most 39)"
        ) from None


def permission(value: str) -> Permission:
    """member, team_lead (or lead) or admin."""
    try:
        return Permission.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def integer(value: str) -> int:
    """A whole number within ±1,000,000,000."""
    try:
        number = int(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number, e.g. 5") from None
    if abs(number) > 1_000_000_000:
        raise argparse.ArgumentTypeError("is out of range (at most 1,000,000,000)")
    return number
