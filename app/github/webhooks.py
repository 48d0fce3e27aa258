"""Routing a decoded GitHub delivery to the one handler registered for its event and action.

    router: Router[Services] = Router()

    @router.register("organization", action="member_added")
    def member_added(services, event: MemberChange, delivery: str) -> DeliveryOutcome: ...

A handler takes ``(context, event, X-GitHub-Delivery)``: the context the edge was given (the
services bundle), the Struct ``app.github.payloads.decode`` made, and the delivery's GUID.
A handler for an event with no action named handles every action the others do not.
``Router(a, b)`` combines routers. ``dispatch`` answers IGNORED when nothing is registered for
the action; the endpoint (app.web.github) answers 202 for events no router knows. A GitHub or
store failure raised by a handler means "redeliver later" (503); anything else is a bug (500).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from app.github.client import GitHubClient
from app.github.payloads import Envelope
from config import Config

WEBHOOK_TIMEOUT_SECONDS = 2.0


class DeliveryOutcome(StrEnum):
    """What became of one delivery."""

    PROCESSED = "processed"  # mirrored, or nothing to change
    DUPLICATE = "duplicate"  # this X-GitHub-Delivery was processed before
    IGNORED = "ignored"  # an action not handled, or another organisation's event


type WebhookHandler[Context] = Callable[[Context, Any, str], DeliveryOutcome]
_Key = tuple[str, str | None]


class Router[Context]:
    """Event (and action) → handler; combine routers with ``Router(*others)``."""

    def __init__(self, *others: Router[Context]) -> None:
        self._handlers: dict[_Key, WebhookHandler[Context]] = {}
        self._events: set[str] = set()
        for other in others:
            for (event, action), handler in other._handlers.items():
                self._add(handler, event, action)

    def register[H: WebhookHandler[Any]](
        self, event: str, action: str | None = None
    ) -> Callable[[H], H]:
        """Decorator: ``handler`` handles ``event`` (only ``action``, if named)."""

        def add(handler: H) -> H:
            self._add(handler, event, action)
            return handler

        return add

    def _add(self, handler: WebhookHandler[Context], event: str, action: str | None) -> None:
        if (event, action) in self._handlers:
            raise ValueError(f"two handlers for GitHub {event} {action or '(any action)'}")
        self._handlers[(event, action)] = handler
        self._events.add(event)

    @property
    def events(self) -> frozenset[str]:
        """The X-GitHub-Event values some handler is registered for."""
        return frozenset(self._events)

    def handles(self, event: str) -> bool:
        """Whether some handler is registered for ``event``."""
        return event in self._events

    def handler_for(self, event: str, action: str | None) -> WebhookHandler[Context] | None:
        """The handler for ``event``'s ``action``, else the event's any-action one, else None."""
        found = self._handlers.get((event, action)) if action is not None else None
        return found if found is not None else self._handlers.get((event, None))

    def dispatch(
        self, context: Context, event: str, payload: Envelope, delivery: str
    ) -> DeliveryOutcome:
        """Run the handler for ``payload``'s action; IGNORED when there is none."""
        handler = self.handler_for(event, payload.action)
        if handler is None:
            return DeliveryOutcome.IGNORED
        return handler(context, payload, delivery)


def webhook_client(config: Config) -> GitHubClient:
    """A GitHub client for the webhook path: 2 s timeout and a single attempt per call."""
    return GitHubClient.from_config(config, timeout=WEBHOOK_TIMEOUT_SECONDS, max_attempts=1)
