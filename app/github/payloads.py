"""The shapes of the GitHub webhook deliveries Rocket 2 handles, checked before a handler.

``check(event, payload)`` checks what the handlers read for ``organization``, ``team`` and
``membership`` (types, ids within 64 bits, names within the store's columns, no control
characters); other events and actions are left to their handler (which ignores them). It
raises ``Malformed`` naming the field, never the value (the endpoint answers 400).
Field lists follow GitHub's webhook payload reference (docs.github.com, "Webhook events and
payloads").
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from app import sizes
from app.payload_shapes import NO_CONTROL, Id, Malformed, Str
from app.payload_shapes import check as _check

__all__ = ["EVENTS", "Malformed", "check"]

Login = Annotated[str, Meta(min_length=1, max_length=sizes.GITHUB_LOGIN, pattern=NO_CONTROL)]
TeamName = Annotated[str, Meta(min_length=1, max_length=sizes.NAME, pattern=NO_CONTROL)]


class _Org(Struct):
    login: Login | None = None


class _Envelope(Struct):
    """What every delivery of a handled event may carry and a handler reads first."""

    action: Str | None = None
    organization: _Org | None = None
    scope: Str | None = None


class _Account(Struct):
    id: Id
    login: Login


class _Named(Struct):
    login: Login | None = None


class _OrgMembership(Struct):
    user: _Account


class _OrgMemberChange(Struct):
    membership: _OrgMembership


class _OrgInvite(Struct):
    user: _Named | None = None
    invitation: _Named | None = None


class _Team(Struct):
    id: Id
    name: TeamName
    slug: TeamName | None = None


class _TeamRef(Struct):
    """A membership's team, which may be a deleted one (then only its id counts)."""

    id: Id
    deleted: bool | None = None


class _TeamChange(Struct):
    team: _Team


class _MembershipChange(Struct):
    member: _Account | None
    team: _TeamRef


_BY_ACTION: dict[tuple[str, str], type[Struct]] = {
    ("organization", "member_added"): _OrgMemberChange,
    ("organization", "member_removed"): _OrgMemberChange,
    ("organization", "member_invited"): _OrgInvite,
    ("team", "created"): _TeamChange,
    ("team", "edited"): _TeamChange,
    ("team", "deleted"): _TeamChange,
    ("membership", "added"): _MembershipChange,
    ("membership", "removed"): _MembershipChange,
}
EVENTS = frozenset(event for event, _action in _BY_ACTION)


def check(event: str, payload: dict[str, Any]) -> None:
    """Raise Malformed if ``payload`` of ``event`` is not shaped as its handler reads it."""
    if event not in EVENTS:
        return
    envelope = _check(payload, _Envelope)
    shape = _BY_ACTION.get((event, envelope.action or ""))
    if shape is None:
        return
    _check(payload, shape)
    if event == "membership":
        team = payload["team"]
        if not team.get("deleted"):
            _check(team, _Team, prefix="$.team")
