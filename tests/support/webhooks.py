"""GitHub webhook deliveries for tests: payloads shaped as GitHub sends them (every field its
webhook schema requires: tests/github/test_webhook_payloads_documented.py), signed and posted.

post_signed(url, secret, "membership", json_body(membership_event(...)), delivery)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

from app.dev.github import shapes

ORG = "rocket-club"
API = "https://api.github.com"
SENDER = shapes.simple_user(API, "owner", 1)
ORGANIZATION = shapes.organization_simple(API, ORG)


def json_body(payload: dict[str, Any]) -> bytes:
    """The delivery body for ``payload``."""
    return json.dumps(payload).encode()


def post_signed(
    url: str,
    secret: str,
    event: str,
    body: bytes,
    delivery: str | None = None,
    timeout: float = 10,
    **headers: str,
) -> httpx.Response:
    """POST ``body`` to ``url`` signed with ``secret`` (X-Hub-Signature-256) as ``event``,
    under ``delivery`` (a fresh GUID by default)."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    all_headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery if delivery is not None else str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={signature}",
        "Content-Type": "application/json",
        **headers,
    }
    return httpx.post(url, content=body, headers=all_headers, timeout=timeout)


def org_event(action: str, login: str, user_id: int, org: str = ORG) -> dict[str, Any]:
    """An ``organization`` delivery (member_added, member_removed, …) about one member."""
    user = {"login": login, "id": user_id}
    return {
        "action": action,
        "membership": shapes.org_membership(API, org, user, "member", "active"),
        "organization": {**ORGANIZATION, "login": org},
        "sender": SENDER,
    }


def team_obj(fake: Any, name: str) -> dict[str, Any]:
    """The webhook ``team`` object for the fake GitHub's team ``name``."""
    team = fake.team(name)
    assert team is not None, name
    return {"id": team.id, "name": team.name, "slug": team.slug, "privacy": "closed"}


def membership_event(action: str, team: dict[str, Any], login: str, user_id: int) -> dict[str, Any]:
    """A ``membership`` delivery (added, removed) of one member in ``team``."""
    return {
        "action": action,
        "scope": "team",
        "member": {"login": login, "id": user_id},
        "team": team,
        "organization": ORGANIZATION,
        "sender": SENDER,
    }
