"""Errors a command raises to tell the caller something. Their text is shown to the user as is,
so it names fields and records, never a secret, and never carries a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """The command cannot do what was asked; ``str(error)`` is the reply (Slack mrkdwn)."""


class UsageError(CommandError):
    """The arguments are wrong; the reply adds the command's own help."""


class PermissionDenied(CommandError):
    """The caller's role does not allow this."""
