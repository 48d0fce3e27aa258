"""What every part of the GitHub stand-in shares: its state, answers, paging and events."""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from app.dev.github import shapes


def slugify(name: str) -> str:
    """GitHub's team slug rule, as its REST description shows ("My TEam Näme" →
    ``my-team-name``): accents dropped, lower case, every other run of characters one '-'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", plain.lower()).strip("-")


@dataclass
class Team:
    """A team; ``members`` maps lower-case login → 'member' or 'maintainer' (direct members
    only: a child team's members reach the parent through ``parent_id``)."""

    id: int
    name: str
    slug: str
    description: str = ""
    privacy: str = "closed"
    members: dict[str, str] = field(default_factory=dict)
    parent_id: int | None = None

    def fields(self) -> dict[str, Any]:
        """What the shapes read: id, name, slug, description, privacy."""
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "privacy": self.privacy,
        }


class Answer(Exception):
    """An answer given at once; ``outside``: a status GitHub's description does not list for
    the call, given on purpose (GitHub's real answer to an unknown name)."""

    def __init__(self, response: Response, outside: bool = False) -> None:
        super().__init__(response.status)
        self.response = response
        self.outside = outside


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """``body`` as GitHub's JSON answer."""
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def not_found(documented: bool = True) -> Answer:
    """GitHub's 404 (``documented``: the call's description lists it)."""
    return Answer(json_answer(404, shapes.error("Not Found", 404)), outside=not documented)


def validation(field_name: str, code: str, message: str = "Validation Failed") -> Answer:
    """A 422 validation-error."""
    error = {"resource": "Team", "field": field_name, "code": code, "message": message}
    return Answer(json_answer(422, shapes.validation_error([error])))


def by_id(item: dict[str, Any]) -> int:
    """Sort key: GitHub lists by id."""
    return int(item["id"])


class StandInBase:
    """The state every route group reads and changes (all under ``lock``)."""

    api_url: str
    app_id: int
    public_key: rsa.RSAPublicKey
    org: str
    installation_id: int
    page_size: int
    token_ttl: float
    clock: Callable[[], float]
    auto_accept_invitations: bool
    lock: threading.RLock
    users: dict[str, dict[str, Any]]  # lower login → {"id", "login"}
    org_members: dict[str, str]  # lower login → "member" | "admin"
    invitations: dict[str, str]  # lower login → role
    invitation_cap: int  # invitations per INVITATION_WINDOW (GitHub: 50, or 500)
    invitation_clock: Callable[[], float]  # the cap's own clock (tokens keep ``clock``)
    invitations_sent: list[float]  # invitation_clock() of each invitation in the window
    blocked: set[str]  # lower logins the organisation blocked: their invitation is refused
    teams: dict[int, Team]
    next_id: int
    events: Callable[[str, dict[str, Any]], None]

    @property
    def url(self) -> str:
        """The stand-in's API base URL (GITHUB_API_URL)."""
        return self.api_url

    def new_id(self) -> int:
        """A fresh id for an account or a team."""
        self.next_id += 1
        return self.next_id

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        """Send the webhook GitHub would send for a change (to whoever listens)."""
        organization = shapes.organization_simple(self.url, self.org)
        self.events(event, {**payload, "organization": organization, "sender": self.sender()})

    def sender(self) -> dict[str, Any]:
        """Who made a change "on GitHub": the organisation's account, as a simple-user."""
        return {**shapes.simple_user(self.url, self.org, shapes.ORG_ID), "type": "Organization"}

    def paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """One page of ``items`` (sorted by id) with GitHub's ``Link`` header."""
        items = sorted(items, key=by_id)
        per_page = max(1, min(int(request.args.get("per_page", 30)), self.page_size))
        page = max(1, int(request.args.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        args = {k: v for k, v in request.args.items() if k != "page"}

        def link(n: int) -> str:
            return f"{request.base_url}?{urlencode({**args, 'page': n})}"

        rels = []
        if page < last:
            rels += [f'<{link(page + 1)}>; rel="next"', f'<{link(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{link(1)}>; rel="first"', f'<{link(page - 1)}>; rel="prev"']
        chunk = items[(page - 1) * per_page : page * per_page]
        return json_answer(200, chunk, {"Link": ", ".join(rels)} if rels else None)

    def user(self, login: str, documented: bool = True) -> dict[str, Any]:
        """The account ``login`` ({"id", "login"}); else 404."""
        user = self.users.get(login.lower())
        if user is None:
            raise not_found(documented)
        return user

    def simple_user(self, login: str) -> dict[str, Any]:
        """The account as a ``simple-user``."""
        user = self.user(login)
        return shapes.simple_user(self.url, user["login"], user["id"])
