"""The shapes of Slack's inbound requests, checked once, after the signature.

``read_command(form)`` and ``read_event(body)`` check the fields Rocket 2 reads (types, id
formats, lengths; extra fields are fine, as Slack adds them) and return a ``Reading``: what
to do with the request and its typed view. A request that fails raises ``Malformed`` with a
reason naming the field, never its value (the edge answers 400).

Only ``url_verification``, the event types Rocket 2 handles and slash commands are handled.
Any other event or interaction is answered 200 ("ignore"), after checking nothing but its
``type`` (and an event's ``type``), so Slack does not retry it, whatever new fields it
carries. A command is handled as its checked fields only (``SlashCommand``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

from msgspec import UNSET, Meta, Struct, UnsetType

from app import sizes
from app.payload_shapes import Malformed, Str, Text
from app.payload_shapes import check as _check

SlackId = Annotated[str, Meta(min_length=1, max_length=sizes.SLACK_ID, pattern=r"^[A-Z0-9]+$")]
UserId = Annotated[str, Meta(max_length=sizes.SLACK_ID, pattern=r"^[UW][A-Z0-9]{2,}$")]
# Slack's event ids ("Ev0ABCD1234") and trigger ids ("1234.5678.0a1b…") are short ASCII.
EventId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
TriggerId = Annotated[str, Meta(max_length=255, pattern=r"^[A-Za-z0-9._-]*$")]
Url = Annotated[str, Meta(max_length=2000, pattern=r"^\S*$")]
CommandName = Annotated[str, Meta(max_length=32, pattern=r"^/[^\s/]+$")]
COMMAND_TEXT_LIMIT = 4000  # longer command text is answered with a usage reply, not 400


class Ref(Struct):
    """An object with an ``id`` (and a workspace)."""

    id: Str | None = None
    team_id: Str | None = None
    enterprise_id: Str | None = None


class _Ids(Struct):
    """The caller fields the workspace gate reads, wherever they appear."""

    enterprise: Str | Ref | None = None
    enterprise_id: Str | None = None
    team: Str | Ref | None = None
    team_id: Str | None = None
    user: Str | Ref | None = None
    user_id: Str | None = None
    user_team: Str | None = None
    source_team: Str | None = None
    channel: Str | Ref | None = None
    channel_id: Str | None = None
    thread_ts: Str | None = None
    is_enterprise_install: bool | Str | None = None


class _Nested(_Ids):
    """An object inside an event that names a caller too (message, item, thread)."""


class _Authorization(_Ids):
    """One of ``authorizations``: the installation the event is delivered to."""

    is_bot: bool | None = None


class _Event(_Ids):
    """The ``event`` object of an ``event_callback`` (every type)."""

    type: Str = ""
    text: Text | None = None
    message: _Nested | None = None
    previous_message: _Nested | None = None
    item: _Nested | None = None
    assistant_thread: _Nested | None = None
    function_execution_id: Str | None = None
    bot_access_token: Str | None = None
    bot_id: Str | None = None


class Envelope(_Ids):
    """What every event request carries that Rocket 2 reads."""

    type: Str = ""
    event: _Event | UnsetType = UNSET
    event_id: EventId | UnsetType = UNSET
    authorizations: list[_Authorization] | None = None
    challenge: Str | None = None
    is_ext_shared_channel: bool | None = None
    context_team_id: Str | None = None
    context_enterprise_id: Str | None = None
    response_url: Url | None = None
    function_execution_id: Str | None = None
    bot_access_token: Str | None = None


class Profile(Struct):
    """The parts of a Slack user's profile Rocket 2 reads."""

    real_name: Text | None = None
    display_name: Text | None = None
    email: Text | None = None
    image_72: Text | None = None
    image_192: Text | None = None


class Member(Struct):
    """A ``team_join`` user object."""

    id: UserId
    team_id: Str | None = None
    real_name: Text | None = None
    profile: Profile | None = None
    is_bot: bool | None = None
    deleted: bool | None = None


class TeamJoin(Struct):
    """The ``event`` of a ``team_join``: the newcomer."""

    user: Member


class AppMention(Struct):
    """The ``event`` of an ``app_mention``: who wrote what, where."""

    user: UserId
    channel: SlackId
    text: Text = ""


class SlashCommand(Struct, omit_defaults=True):
    """A slash command's form fields (all strings, as Slack posts them)."""

    command: CommandName
    user_id: UserId
    team_id: SlackId
    response_url: Url
    text: str = ""
    trigger_id: TriggerId = ""
    user_team: SlackId | UnsetType = UNSET
    enterprise_id: SlackId | UnsetType = UNSET
    channel_id: SlackId | UnsetType = UNSET
    api_app_id: SlackId | UnsetType = UNSET
    is_enterprise_install: Str | UnsetType = UNSET
    team_domain: Str | UnsetType = UNSET
    channel_name: Str | UnsetType = UNSET
    user_name: Str | UnsetType = UNSET

    @property
    def teams(self) -> set[str]:
        """The workspace ids the command names for its caller."""
        named = (self.team_id, self.user_team)
        return {team for team in named if isinstance(team, str) and team}

    @property
    def shown(self) -> str:
        """The command and its leading words (no argument values), e.g. ``/rocket team
        refresh``: safe to show and to log."""
        words = _LEADING_WORDS.match(self.text.strip())
        return " ".join(part for part in (self.command[:40], words[0] if words else "") if part)

    @property
    def label(self) -> str:
        """How log lines name this command."""
        return f"command `{self.shown}`"


_LEADING_WORDS = re.compile(r"[a-z]+(?: [a-z]+)?")


@dataclass(frozen=True)
class Reading:
    """What to do with a checked request, and its typed view.

    ``"command"``: run ``command``; ``"event"``: handle the event ``kind`` of ``envelope``
    (``body`` is the checked body, ``event`` its typed ``event``); ``"challenge"``: answer
    ``envelope.challenge``; ``"ignore"``: answer 200 and do nothing.
    """

    action: Literal["command", "event", "challenge", "ignore"]
    kind: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    command: SlashCommand | None = None
    envelope: Envelope | None = None
    event: Struct | None = None


def parse(raw: bytes, content_type: str) -> dict[str, Any]:
    """The body as Slack sent it: a JSON object, a form, or a form whose ``payload`` is JSON."""
    text = raw.decode("utf-8")  # UnicodeDecodeError (a ValueError) → malformed
    if content_type.split(";")[0].strip() == "application/json" or text.lstrip().startswith("{"):
        body = json.loads(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        body = json.loads(form["payload"]) if set(form) == {"payload"} else form
    if not isinstance(body, dict):
        raise Malformed("the body is not a JSON object or a form")
    return body


def read_command(form: dict[str, Any]) -> Reading:
    """Check a slash command's fields (Slack's ssl_check is answered and ignored)."""
    if form.get("ssl_check") == "1":
        return Reading("ignore", "ssl_check")
    return Reading("command", "command", command=_check(form, SlashCommand))


def read_event(body: dict[str, Any], shapes: Mapping[str, type[Struct]]) -> Reading:
    """Check an Events API or interactivity request as far as its handling reads it; ``shapes``
    maps each handled event type to the Struct its ``event`` is checked into."""
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("field `type` is missing or not a string")
    if kind == "url_verification":
        envelope = _check(body, Envelope)
        if not envelope.challenge:
            raise Malformed("field `challenge` is missing")
        return Reading("challenge", kind, envelope=envelope)
    if kind != "event_callback":
        return Reading("ignore", _label(kind))
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise Malformed("field `event` is not an object with a string `type`")
    event_type = event["type"]
    if event_type not in shapes:
        return Reading("ignore", _label(event_type))
    envelope = _check(body, Envelope)
    if isinstance(envelope.event_id, UnsetType):
        raise Malformed("field `event_id` is missing")
    typed = _check(event, shapes[event_type], prefix="$.event")
    return Reading("event", event_type, body, envelope=envelope, event=typed)


def _label(kind: object) -> str:
    """A loggable name for an ignored type (letters and underscores only)."""
    return re.sub(r"[^a-z_]", "", kind if isinstance(kind, str) else "")[:40] or "untyped"
