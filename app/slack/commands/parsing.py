"""Turning the text after `/rocket` into words, and argparse that never prints or exits.

The rules:

- smart quotes become plain ones (phones and macOS type “…” and ‘…’);
- Slack's escaped mentions ``<@U123ABC|name>`` become the id ``U123ABC``, channel links
  ``<#C123|name>`` the id ``C123``, ``<mailto:a@b.c|a@b.c>`` the address and other links
  their URL; ``&amp; &lt; &gt;`` are unescaped;
- an em dash becomes ``--`` (macOS and iOS turn a typed ``--`` into one);
- then shell-style splitting (``shlex``), so ``--bio "I like rockets"`` is one value.
"""

from __future__ import annotations

import argparse
import re
import shlex
from typing import Any, NoReturn

from app.slack.commands.errors import UsageError
from app.slack.ids import SLACK_USER_ID

SMART_QUOTES = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "«": '"',
        "»": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
    }
)
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|ftp)://[^|>]+)(?:\|[^>]*)?>")


def normalise(text: str) -> str:
    """Apply the text rules (quotes, mentions, links, em dash) to command text."""
    text = text.translate(SMART_QUOTES).replace("—", "--")
    text = _USER_MENTION.sub(r"\1", text)
    text = _CHANNEL_LINK.sub(r"\1", text)
    text = _MAILTO.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def split(text: str) -> list[str]:
    """Normalise, then split like a shell; UsageError for an unbalanced quote or a control
    character (no field can store one)."""
    if _CONTROL.search(text):
        raise UsageError(
            "The command contains a control character (an invisible one, perhaps pasted): "
            "type it again without it."
        )
    try:
        return shlex.split(normalise(text))
    except ValueError:
        raise UsageError('A quote is not closed: put a matching `"` at the end.') from None


def slack_user(value: str) -> str:
    """argparse type: a Slack user, given as a mention (@name) that Slack turned into its id."""
    candidate = value.strip().lstrip("@")
    if SLACK_USER_ID.match(candidate):
        return candidate
    raise argparse.ArgumentTypeError(
        "expected a Slack user mention such as @name "
        "(pick the person from Slack's @ list so it becomes a link)"
    )


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser for one command that raises UsageError instead of printing and exiting.

    ``exit_on_error=False`` alone is not enough: argparse still calls ``error()`` (which prints
    and exits) for missing or unknown arguments, so ``error`` and ``exit`` are overridden too.
    """

    def __init__(self, prog: str, description: str, **kwargs: Any) -> None:
        super().__init__(
            prog=prog,
            description=description,
            add_help=False,
            exit_on_error=False,
            allow_abbrev=False,
            **kwargs,
        )

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing usage and exiting."""
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Raise instead of exiting the process."""
        raise UsageError(message or "invalid arguments")

    def print_help(self, file: Any = None) -> None:
        """Never print."""

    def print_usage(self, file: Any = None) -> None:
        """Never print."""

    def parse(self, words: list[str]) -> argparse.Namespace:
        """Parse ``words``; UsageError (with argparse's reason) when they do not fit."""
        try:
            return self.parse_args(words)
        except argparse.ArgumentError as exc:
            raise UsageError(str(exc)) from None

    def usage_line(self) -> str:
        """The one-line usage, e.g. ``/rocket user add [-f]``."""
        return " ".join(self.format_usage().removeprefix("usage: ").split())
