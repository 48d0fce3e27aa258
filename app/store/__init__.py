"""The Rocket 2 store: SQLAlchemy 2 models, the engine, units of work and repositories.

    store = Store.from_config(config)           # no connection yet
    with store.unit_of_work() as uow:           # one transaction: commit or roll back
        user, created = uow.users.create_if_absent("U0123ABCD")
        uow.users.add_karma("U0123ABCD")

Migrations: app.store.migrate.upgrade(engine) (``rocket2 db upgrade``).
"""

from app.store.engine import engine_from_config, make_engine
from app.store.errors import AlreadyExists, NotFound, StoreError
from app.store.models import (
    DEFAULT_KARMA,
    KarmaGift,
    Permission,
    ProcessedEvent,
    SpecialTeam,
    Team,
    User,
)
from app.store.repository import EventRepository, TeamRepository, UserRepository
from app.store.session import Store, UnitOfWork

__all__ = [
    "DEFAULT_KARMA",
    "AlreadyExists",
    "EventRepository",
    "KarmaGift",
    "NotFound",
    "Permission",
    "ProcessedEvent",
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
