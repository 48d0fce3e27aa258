"""What a GitHub webhook handler is: ``handler(payload, X-GitHub-Delivery) -> DeliveryOutcome``.

The endpoint (app.web.github) answers PROCESSED and DUPLICATE with 200 and IGNORED with 202.
A handler raising KeyError/TypeError/ValueError means the payload can never be handled (400);
a GitHub or store failure means "redeliver later" (503).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any


class DeliveryOutcome(StrEnum):
    """What became of one delivery."""

    PROCESSED = "processed"  # mirrored, or nothing to change
    DUPLICATE = "duplicate"  # this X-GitHub-Delivery was processed before
    IGNORED = "ignored"  # an action not handled, or another organisation's event


WebhookHandler = Callable[[dict[str, Any], str], DeliveryOutcome]
