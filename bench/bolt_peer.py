"""The peer: the minimal app a user would write instead of Rocket 2.

Bolt's own Flask adapter (signature check, parsing and routing are Bolt's), one `/rocket`
command that answers help in its ack, and SQLAlchemy on SQLite (a members table created at
start; the help reads nothing, as Rocket 2's ack reads nothing). It runs under the same
Gunicorn settings and nginx as Rocket 2 (bench/bolt_peer.gunicorn.conf.py). Being a stand-in
for a user's app, it reads its three settings from the environment itself.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from slack_bolt import Ack, App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HELP = "*Rocket* commands: `/rocket help`, `/rocket user view`, `/rocket team list`."


class Base(DeclarativeBase):
    """The peer's models."""


class Member(Base):
    """A Slack member."""

    __tablename__ = "members"
    slack_id: Mapped[str] = mapped_column(primary_key=True)
    github: Mapped[str | None]


engine = create_engine("sqlite:///peer.db")
Base.metadata.create_all(engine)

token = os.environ["SLACK_API_TOKEN"]
bolt = App(
    token=token,  # Bolt calls auth.test once here (the bench's local Slack answers it)
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=WebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
)


@bolt.command("/rocket")
def rocket(ack: Ack) -> None:
    """Answer help in the ack."""
    ack(HELP)


app = Flask(__name__)
handler = SlackRequestHandler(bolt)


@app.get("/")
def hello() -> str:
    """Liveness, as Rocket 2's `/`."""
    return "ok"


@app.post("/slack/commands")
def commands() -> Response:
    """Slash commands, through Bolt."""
    return handler.handle(request)
