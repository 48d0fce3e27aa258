"""A logging filter that masks configured secrets and any PEM private key block in every record."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from config.secret import MASK

PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# Escaped forms of a key (\n and \- escapes) are masked too.
ESCAPED_PEM_BLOCK = re.compile(
    r"(\\?-){5}BEGIN [A-Z0-9 ]*PRIVATE KEY(\\?-){5}"
    r".*?((\\?-){5}END [A-Z0-9 ]*PRIVATE KEY(\\?-){5}|\Z)",
    re.DOTALL,
)


class SecretFilter(logging.Filter):
    """Replace every configured secret value, whatever its length, and any private key block,
    with a mask.

    It rewrites the record's message in place (after %-formatting), and the formatted
    exception text, so no handler or formatter downstream ever sees the secret. A mask already
    in the text is kept as it is, so a short secret that is part of the mask (``*``) cannot
    make masking run away when two filters see one record.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = {s for s in secrets if s}
        # The mask first, then longest first, so a secret containing another is masked whole.
        ordered = [MASK, *sorted(values - {MASK}, key=len, reverse=True)]
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if values else None

    def mask(self, text: str) -> str:
        """Return ``text`` with every secret and key block masked."""
        text = PEM_BLOCK.sub(MASK, text)
        text = ESCAPED_PEM_BLOCK.sub(MASK, text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record's message, arguments and exception text; always keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw msg, masked
            message = str(record.msg)
        record.msg = self.mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def install_secret_filter(
    secrets: Iterable[str], logger: logging.Logger | None = None
) -> SecretFilter:
    """Attach a SecretFilter to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    secret_filter = SecretFilter(secrets)
    for handler in target.handlers:
        handler.addFilter(secret_filter)
    return secret_filter
