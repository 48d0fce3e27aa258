"""Plain, typed views of the GitHub objects Rocket 2 uses (only the fields it needs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GitHubUser:
    """A GitHub account."""

    id: int
    login: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitHubUser:
        """Build from an API user object."""
        return cls(id=int(data["id"]), login=str(data["login"]))


@dataclass(frozen=True, slots=True)
class GitHubTeam:
    """A team of the organisation. API calls address teams by ``slug``."""

    id: int
    name: str
    slug: str
    description: str = ""
    privacy: str = "closed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitHubTeam:
        """Build from an API team object."""
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            slug=str(data["slug"]),
            description=str(data.get("description") or ""),
            privacy=str(data.get("privacy") or "closed"),
        )


@dataclass(frozen=True, slots=True)
class Membership:
    """An organisation or team membership: ``state`` is 'active' or 'pending' (invited);
    ``role`` is 'member'/'admin' (organisation) or 'member'/'maintainer' (team)."""

    state: str
    role: str
    user: GitHubUser | None = None

    @property
    def pending(self) -> bool:
        """True while an invitation waits to be accepted."""
        return self.state == "pending"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Membership:
        """Build from an API membership object."""
        user = data.get("user")
        return cls(
            state=str(data.get("state") or "active"),
            role=str(data.get("role") or "member"),
            user=GitHubUser.from_json(user) if isinstance(user, dict) else None,
        )
