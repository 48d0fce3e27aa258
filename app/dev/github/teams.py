"""Teams: ``/orgs/{org}/teams`` (GET, POST), ``/orgs/{org}/teams/{team_slug}`` (GET, PATCH,
DELETE), its ``members``, child ``teams`` and ``memberships/{username}`` (GET, PUT, DELETE).

As GitHub documents them: a team's members include its child teams' members, marked
``inherited``; an organisation owner's team role reads ``maintainer``; deleting a parent
deletes its children; PATCH answers 200 (201 is documented too). Changes send the ``team``
and ``membership`` webhooks GitHub sends."""

from __future__ import annotations

from typing import Any

from werkzeug import Request, Response

from app.dev.github import shapes
from app.dev.github.base import StandInBase, Team, json_answer, not_found, slugify, validation


class Teams(StandInBase):
    """The organisation's teams."""

    def team_routes(self, org: str) -> list[tuple[str, str, Any]]:
        """(method, path pattern, handler) of this group."""
        one = rf"/orgs/{org}/teams/([^/]+)"
        return [
            ("GET", rf"/orgs/{org}/teams", self._list_teams),
            ("POST", rf"/orgs/{org}/teams", self._create_team),
            ("GET", one, self._get_team),
            ("PATCH", one, self._edit_team),
            ("DELETE", one, self._delete_team),
            ("GET", one + "/members", self._team_members),
            ("GET", one + "/teams", self._child_teams),
            ("GET", one + "/memberships/([^/]+)", self._get_team_membership),
            ("PUT", one + "/memberships/([^/]+)", self._put_team_membership),
            ("DELETE", one + "/memberships/([^/]+)", self._delete_team_membership),
        ]

    # ---- arranging ------------------------------------------------------------------------

    def add_team(
        self,
        name: str,
        members: tuple[str, ...] | list[str] = (),
        maintainers: tuple[str, ...] | list[str] = (),
        description: str = "",
        team_id: int | None = None,
        parent: str | None = None,
    ) -> int:
        """Create a team (its members and maintainers made organisation members); its id."""
        with self.lock:
            team = Team(team_id or self.new_id(), name, slugify(name), description)
            if parent is not None:
                team.parent_id = self.team_by_slug(slugify(parent)).id
            self.teams[team.id] = team
            self.emit("team", {"action": "created", "team": self.team_json(team)})
            for login in members:
                self.add_org_member(login)  # type: ignore[attr-defined]
                self.put_team_membership(team.slug, login, "member")
            for login in maintainers:
                self.add_org_member(login)  # type: ignore[attr-defined]
                self.put_team_membership(team.slug, login, "maintainer")
            return team.id

    def team(self, name_or_slug: str) -> Team | None:
        """The team with this name or slug, or None."""
        key = name_or_slug.lower()
        with self.lock:
            for team in self.teams.values():
                if team.slug == key or team.name.lower() == key:
                    return team
        return None

    def team_logins(self, name_or_slug: str, role: str = "all") -> set[str]:
        """Lower-case logins of the team's direct members (optionally of one role)."""
        team = self.team(name_or_slug)
        assert team is not None, f"no team {name_or_slug}"
        return {login for login, r in team.members.items() if role in ("all", r)}

    def put_team_membership(self, slug: str, login: str, role: str = "member") -> None:
        """Add ``login`` to the team as member or maintainer, inviting them to the organisation
        first if needed (webhook membership added, when they were not in the team)."""
        with self.lock:
            if role not in ("member", "maintainer"):
                raise validation("role", "invalid")
            team = self.team_by_slug(slug, documented=False)
            self.user(login, documented=False)
            key = login.lower()
            if key not in self.org_members:  # GitHub invites non-members to the organisation
                self.count_invitation(login)  # type: ignore[attr-defined]
                self.invite(login)  # type: ignore[attr-defined]
            new = key not in team.members
            team.members[key] = role
            if new:
                member = self.simple_user(login)
                payload = {"action": "added", "scope": "team", "member": member}
                self.emit("membership", {**payload, "team": self.team_json(team)})

    def remove_team_member(self, slug: str, login: str) -> None:
        """Take ``login`` out of the team (webhook membership removed)."""
        with self.lock:
            team = self.team_by_slug(slug, documented=False)
            if team.members.pop(login.lower(), None) is None:
                raise not_found(documented=False)
            member = self.simple_user(login)
            payload = {"action": "removed", "scope": "team", "member": member}
            self.emit("membership", {**payload, "team": self.team_json(team)})

    # ---- reading --------------------------------------------------------------------------

    def team_by_slug(self, slug: str, documented: bool = True) -> Team:
        """The team with this slug; else 404 (``documented``: as the call's description)."""
        for team in self.teams.values():
            if team.slug == slug.lower():
                return team
        raise not_found(documented)

    def children(self, team: Team) -> list[Team]:
        """The team's child teams, and theirs, all the way down."""
        direct = [t for t in self.teams.values() if t.parent_id == team.id]
        return direct + [d for child in direct for d in self.children(child)]

    def all_members(self, team: Team) -> dict[str, tuple[str, bool]]:
        """login → (role, inherited): direct members, then child teams' (as GitHub lists)."""
        found = {login: (role, False) for login, role in team.members.items()}
        for child in self.children(team):
            for login, role in child.members.items():
                found.setdefault(login, (role, True))
        return found

    def team_json(self, team: Team, full: bool = False) -> dict[str, Any]:
        """The team as a ``team`` (or ``team-full``)."""
        parent = self.teams.get(team.parent_id) if team.parent_id is not None else None
        fields = None if parent is None else parent.fields()
        if full:
            count = len(self.all_members(team))
            return shapes.team_full(self.url, self.org, team.fields(), fields, count)
        return shapes.team(self.url, self.org, team.fields(), fields)

    def _name_taken(self, name: str, other_than: int | None = None) -> bool:
        return any(
            t.id != other_than and (t.name.lower() == name.lower() or t.slug == slugify(name))
            for t in self.teams.values()
        )

    # ---- serving ------------------------------------------------------------------------

    def _list_teams(self, request: Request) -> Response:
        return self.paged(request, [self.team_json(t) for t in self.teams.values()])

    def _create_team(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        name = str(body.get("name") or "").strip()
        if not name:
            raise validation("name", "missing_field")
        if self._name_taken(name):
            raise validation("name", "already_exists", "Name must be unique for this org")
        privacy = body.get("privacy", "secret")
        if privacy not in ("secret", "closed"):
            raise validation("privacy", "invalid")
        parent = body.get("parent_team_slug")
        # GitHub: maintainers are organisation members who become maintainers.
        maintainers = [m for m in body.get("maintainers") or () if m.lower() in self.org_members]
        with self.lock:
            team_id = self.add_team(
                name, description=str(body.get("description") or ""), parent=parent
            )
            team = self.teams[team_id]
            team.privacy = privacy
            for login in maintainers:
                self.put_team_membership(team.slug, login, "maintainer")
            return json_answer(201, self.team_json(team, full=True))

    def _get_team(self, request: Request, slug: str) -> Response:
        return json_answer(200, self.team_json(self.team_by_slug(slug), full=True))

    def _edit_team(self, request: Request, slug: str) -> Response:
        team = self.team_by_slug(slug)
        body = request.get_json(silent=True) or {}
        changes: dict[str, Any] = {}
        if "name" in body:
            name = str(body["name"]).strip()
            if not name:
                raise validation("name", "missing_field")
            if self._name_taken(name, other_than=team.id):
                raise validation("name", "already_exists", "Name must be unique for this org")
            changes["name"] = {"from": team.name}
            team.name, team.slug = name, slugify(name)
        if "description" in body:
            changes["description"] = {"from": team.description}
            team.description = str(body["description"] or "")
        if "privacy" in body:
            if body["privacy"] not in ("secret", "closed"):
                raise validation("privacy", "invalid")
            team.privacy = str(body["privacy"])
        payload = {"action": "edited", "team": self.team_json(team), "changes": changes}
        self.emit("team", payload)
        return json_answer(200, self.team_json(team, full=True))

    def _delete_team(self, request: Request, slug: str) -> Response:
        team = self.team_by_slug(slug, documented=False)
        for gone in [team, *self.children(team)]:  # a parent takes its children with it
            del self.teams[gone.id]
            self.emit("team", {"action": "deleted", "team": self.team_json(gone)})
        return Response(status=204)

    def _team_members(self, request: Request, slug: str) -> Response:
        team = self.team_by_slug(slug, documented=False)
        role = request.args.get("role", "all")
        users = []
        for login, (r, inherited) in self.all_members(team).items():
            if role in ("all", r):
                user = self.user(login)
                users.append(
                    {
                        **shapes.team_member(self.url, user["login"], user["id"], inherited),
                        "role": r,
                    }
                )
        return self.paged(request, users)

    def _child_teams(self, request: Request, slug: str) -> Response:
        team = self.team_by_slug(slug, documented=False)
        direct = [t for t in self.teams.values() if t.parent_id == team.id]
        return self.paged(request, [self.team_json(t) for t in direct])

    def team_membership(self, team: Team, login: str) -> dict[str, Any]:
        """``login``'s ``team-membership`` (child teams' members included); else 404."""
        key = login.lower()
        found = self.all_members(team).get(key)
        if found is None:
            raise not_found()
        role = "maintainer" if self.org_members.get(key) == "admin" else found[0]
        state = "active" if key in self.org_members else "pending"
        return shapes.team_membership(self.url, team.id, login, role, state)

    def _get_team_membership(self, request: Request, slug: str, login: str) -> Response:
        team = self.team_by_slug(slug)
        return json_answer(200, self.team_membership(team, login))

    def _put_team_membership(self, request: Request, slug: str, login: str) -> Response:
        role = (request.get_json(silent=True) or {}).get("role", "member")
        self.put_team_membership(slug, login, str(role))
        return json_answer(200, self.team_membership(self.team_by_slug(slug), login))

    def _delete_team_membership(self, request: Request, slug: str, login: str) -> Response:
        self.remove_team_member(slug, login)
        return Response(status=204)
