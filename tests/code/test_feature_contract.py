"""The feature contract: every table belongs to one feature, and adding a feature is one package
plus one entry in app/features.py. A throwaway ``notes`` feature (a command group, a Slack
event, a GitHub webhook, a job and a table with its own migration) is written into a copy of
app/, and all five work through a real Gunicorn started from that copy."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from app.features import FEATURES, feature_tables
from app.store.models import Base
from app.store.revision import shipped_head
from tests.support.gunicorn import wait_until
from tests.support.rocket import Rocket, sqlite_url, start_rocket, stop_rocket
from tests.support.webhooks import json_body, post_signed

REPO = Path(__file__).resolve().parents[2]
STORE_TABLES = {"processed_events"}  # the store's own: every feature's deliveries and job runs

NOTES = '''
"""A throwaway feature: notes written by a command, a Slack event, a webhook and a job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from msgspec import Struct
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.feature import Feature, ScheduledJob, SlackEvent
from app.github.payloads import Envelope
from app.github.webhooks import DeliveryOutcome, Router
from app.services import Services
from app.slack.commands.registry import Call, CommandGroup
from app.store.models import Base


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


def note(services: Services, text: str) -> None:
    with services.store.unit_of_work() as uow:
        uow.session.add(Note(text=text))


group = CommandGroup("note", "throwaway notes")


@group.command("add", "add a note", lambda parser: parser.add_argument("word"))
def add(services: Services, call: Call) -> dict[str, Any]:
    note(services, f"command {call.args.word}")
    return {"text": "noted"}


@group.command("list", "every note")
def list_(services: Services, call: Call) -> dict[str, Any]:
    with services.store.unit_of_work() as uow:
        texts = uow.session.scalars(select(Note.text).order_by(Note.id)).all()
    return {"text": " | ".join(texts)}


class ReactionAdded(Struct):
    user: str
    reaction: str


def on_reaction(services: Services, event: ReactionAdded, event_id: str) -> None:
    note(services, f"event {event.reaction}")


router: Router[Services] = Router()


@router.register("star", action="created")
def on_star(services: Services, event: Envelope, delivery: str) -> DeliveryOutcome:
    note(services, f"webhook {event.action}")
    return DeliveryOutcome.PROCESSED


def tick(services: Services, now: datetime) -> None:
    note(services, "job tick")


FEATURE = Feature(
    name="notes",
    command_groups=(group,),
    slack_events=(SlackEvent("reaction_added", ReactionAdded, on_reaction),),
    webhooks=router,
    jobs=(ScheduledJob("notes-tick", "notes tick", lambda c: IntervalTrigger(seconds=1), tick),),
    tables=("notes",),
)
'''

MIGRATION = '''
"""notes

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision: str = "9001"
down_revision: str | None = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notes")
'''


def test_every_table_belongs_to_one_feature_or_the_store():
    owned = feature_tables()
    assert len(owned) == len(set(owned)), "a table listed by two features"
    assert set(owned) | STORE_TABLES == set(Base.metadata.tables)
    assert {feature.name for feature in FEATURES} >= {"members", "teams"}


def copy_with_notes(directory: Path) -> Path:
    """app/ and config/ copied, plus the notes package and its one entry in the feature list."""
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("app", "config"):
        shutil.copytree(REPO / part, directory / part, ignore=ignore)
    package = directory / "app" / "notes"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(NOTES).lstrip())
    (package / "migrations" / "__init__.py").write_text("")
    migration = MIGRATION.format(head=shipped_head()).lstrip()
    (package / "migrations" / "9001_notes.py").write_text(migration)
    features = directory / "app" / "features.py"
    source = features.read_text()
    listed = source.replace(
        "    backups.FEATURE,\n)", "    backups.FEATURE,\n    notes.FEATURE,\n)"
    )
    listed = listed.replace(
        "from app import announcements\n", "from app import announcements, notes\n"
    )
    assert listed.count("notes") == 2
    features.write_text(listed)
    return directory


def test_a_throwaway_feature_plugs_in_with_one_package_and_one_entry(tmp_path, key_pem):
    copy = copy_with_notes(tmp_path)
    rocket = start_rocket(copy, key_pem, sqlite_url(copy), "sqlite", PYTHONPATH=str(copy))
    try:
        _use_all_five(rocket)
    finally:
        stop_rocket(rocket)


def _use_all_five(rocket: Rocket) -> None:
    assert rocket.command("note add hello")["text"] == "noted"
    event = {"type": "reaction_added", "user": "U0CALLER01", "reaction": "rocket"}
    assert rocket.event("Ev0NOTES001", event).status_code == 200
    star = {"action": "created", "starred_at": None, "repository": {}, "sender": {"login": "ada"}}
    url = rocket.server.url + "/webhook"
    delivered = post_signed(url, rocket.env["GITHUB_WEBHOOK_SECRET"], "star", json_body(star))
    assert delivered.status_code == 200, delivered.text
    rocket.server.wait_for_output("scheduler started")
    wanted = ("command hello", "event rocket", "webhook created", "job tick")

    def all_noted() -> bool:
        listed = rocket.command("note list")["text"]
        return all(part in listed for part in wanted)

    wait_until(all_noted, timeout=20, interval=0.2, what="a note from each of the five")
    assert "`/rocket note add word` — add a note" in rocket.command("help")["text"]
