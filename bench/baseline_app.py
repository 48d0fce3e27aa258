"""The ceiling of this stack: a bare Flask app with the routes the scenarios hit."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """A bare hello."""
    return "hello"


@app.post("/slack/commands")
def command() -> tuple[str, int]:
    """An empty 200, as an ack would be, with no signature check and no work."""
    return "", 200
