"""The GitHub webhook deliveries Rocket 2 handles, decoded into checked, typed values.

``decode(event, payload)`` returns the Struct for the event's action (``MemberChange``,
``MemberInvited``, ``TeamChange``, ``MembershipChange``) with every field a handler reads
checked (types, ids within 64 bits, names within the store's columns, no control characters);
any other event or action decodes to its ``Envelope``. A payload not so shaped raises
``Malformed`` naming the field, never the value. Field lists follow GitHub's webhook payload
reference (docs.github.com, "Webhook events and payloads").
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from app import sizes
from app.payload_shapes import NO_CONTROL, Id, Malformed, Str, check

__all__ = [
    "Account",
    "DeletedTeam",
    "Envelope",
    "Malformed",
    "MemberChange",
    "MemberInvited",
    "MembershipChange",
    "Team",
    "TeamChange",
    "decode",
]

Login = Annotated[str, Meta(min_length=1, max_length=sizes.GITHUB_LOGIN, pattern=NO_CONTROL)]
TeamName = Annotated[str, Meta(min_length=1, max_length=sizes.NAME, pattern=NO_CONTROL)]


class Organization(Struct, frozen=True):
    """The organisation a delivery is about."""

    login: Login | None = None


class Envelope(Struct, frozen=True):
    """What every delivery may carry and a router reads first: its action and organisation."""

    action: Str | None = None
    organization: Organization | None = None

    def org_login(self) -> str | None:
        """The organisation's login, if the delivery names one."""
        return self.organization.login if self.organization is not None else None


class Account(Struct, frozen=True):
    """A GitHub user a handler acts on."""

    id: Id
    login: Login


class Named(Struct, frozen=True):
    """A user or invitation of which only the login is read (and may be absent)."""

    login: Login | None = None


class _OrgMembership(Struct, frozen=True):
    user: Account


class MemberChange(Envelope, frozen=True, kw_only=True):
    """organization member_added / member_removed: whose organisation membership changed."""

    membership: _OrgMembership

    @property
    def user(self) -> Account:
        """Whose membership changed."""
        return self.membership.user


class MemberInvited(Envelope, frozen=True, kw_only=True):
    """organization member_invited: who was invited (GitHub names a user or an invitation)."""

    user: Named | None = None
    invitation: Named | None = None

    def invitee(self) -> str | None:
        """The invited login, if the delivery names one."""
        for named in (self.user, self.invitation):
            if named is not None and named.login:
                return named.login
        return None


class Team(Struct, frozen=True):
    """A team as GitHub names it (the slug may be absent: then derived from the name)."""

    id: Id
    name: TeamName
    slug: TeamName | None = None


class DeletedTeam(Struct, frozen=True):
    """A membership's team that GitHub has deleted since: only its id counts."""

    id: Id


class _TeamRef(Struct, frozen=True):
    id: Id
    deleted: bool | None = None


class TeamChange(Envelope, frozen=True, kw_only=True):
    """team created / edited / deleted."""

    team: Team


class _MembershipWire(Envelope, frozen=True, kw_only=True):
    scope: Str | None = "team"  # GitHub's only scope; absent reads as it
    member: Account | None
    team: _TeamRef


class MembershipChange(Envelope, frozen=True, kw_only=True):
    """membership added / removed: ``member`` (None when GitHub names none) and ``team``,
    a DeletedTeam when GitHub deleted it since; ``scope`` is "team" in GitHub's reference."""

    scope: str | None
    member: Account | None
    team: Team | DeletedTeam


_BY_ACTION: dict[tuple[str, str], type[Envelope]] = {
    ("organization", "member_added"): MemberChange,
    ("organization", "member_removed"): MemberChange,
    ("organization", "member_invited"): MemberInvited,
    ("team", "created"): TeamChange,
    ("team", "edited"): TeamChange,
    ("team", "deleted"): TeamChange,
}
_MEMBERSHIP_ACTIONS = frozenset({"added", "removed"})


def decode(event: str, payload: Any) -> Envelope:
    """``payload`` (parsed JSON) of ``event`` as its checked Struct; Malformed if not shaped."""
    envelope = check(payload, Envelope)
    action = envelope.action or ""
    if event == "membership" and action in _MEMBERSHIP_ACTIONS:
        return _membership(payload)
    shape = _BY_ACTION.get((event, action))
    return envelope if shape is None else check(payload, shape)


def _membership(payload: dict[str, Any]) -> MembershipChange:
    wire = check(payload, _MembershipWire)
    team: Team | DeletedTeam = DeletedTeam(wire.team.id)
    if not wire.team.deleted:
        team = check(payload["team"], Team, prefix="$.team")
    return MembershipChange(
        action=wire.action,
        organization=wire.organization,
        scope=wire.scope,
        member=wire.member,
        team=team,
    )
