"""The Rocket 2 store: SQLAlchemy 2 models, the engine, units of work and repositories.

    store = Store.from_config(config)           # no connection yet
    with store.unit_of_work() as uow:           # one transaction: commit or roll back
        user, created = uow.users.create_if_absent("U0123ABCD")
        uow.users.add_karma("U0123ABCD")

Migrations: app.store.migrate.upgrade(engine) (``rocket2 db upgrade``).

The names below are loaded when first used, so the Gunicorn master, which only opens an engine
to check the schema (app.store.engine, app.store.migrate), never imports the ORM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.store.engine import engine_from_config, make_engine
    from app.store.errors import AlreadyExists, NotFound, StoreError
    from app.store.models import (
        DEFAULT_KARMA,
        Invitation,
        KarmaGift,
        LinkRequest,
        Permission,
        ProcessedEvent,
        QueuedInvitation,
        SpecialTeam,
        Team,
        User,
    )
    from app.store.repository import EventRepository, TeamRepository, UserRepository
    from app.store.session import Store, UnitOfWork

_HOMES = {
    "engine_from_config": "engine",
    "make_engine": "engine",
    "AlreadyExists": "errors",
    "NotFound": "errors",
    "StoreError": "errors",
    "DEFAULT_KARMA": "models",
    "Invitation": "models",
    "KarmaGift": "models",
    "LinkRequest": "models",
    "Permission": "models",
    "ProcessedEvent": "models",
    "QueuedInvitation": "models",
    "SpecialTeam": "models",
    "Team": "models",
    "User": "models",
    "EventRepository": "repository",
    "TeamRepository": "repository",
    "UserRepository": "repository",
    "Store": "session",
    "UnitOfWork": "session",
}

__all__ = [
    "DEFAULT_KARMA",
    "AlreadyExists",
    "EventRepository",
    "Invitation",
    "KarmaGift",
    "LinkRequest",
    "NotFound",
    "Permission",
    "ProcessedEvent",
    "QueuedInvitation",
    "SpecialTeam",
    "Store",
    "StoreError",
    "Team",
    "TeamRepository",
    "UnitOfWork",
    "User",
    "UserRepository",
    "engine_from_config",
    "make_engine",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"app.store.{home}"), name)
    globals()[name] = value
    return value
