"""Accounts and the organisation's members: ``GET /users/{username}``, ``GET /user/{id}``,
``GET /orgs/{org}/members`` and ``/orgs/{org}/memberships/{username}`` (GET, PUT, DELETE).

An invitation stays pending until accepted (``accept_invitation``), unless
``auto_accept_invitations`` (the playground has nobody to click it). Changes send the
``organization`` webhooks GitHub sends.

GitHub caps the invitations an organisation creates at 50 within 24 hours (500 when older or
paid): ``invitation_cap`` within ``INVITATION_WINDOW`` of ``invitation_clock`` (its own
clock, so a test moves the window without expiring tokens). A PUT that would create
one more is answered with the description's 422 ("Validation failed, or the endpoint has been
spammed"); the invitation is not made. An account in ``blocked`` (the organisation blocked it)
gets the same 422 whatever the count: the description tells the two apart by nothing."""

from __future__ import annotations

from typing import Any

from werkzeug import Request, Response

from app.dev.github import shapes
from app.dev.github.base import Answer, StandInBase, json_answer, not_found, validation

INVITATION_WINDOW = 24 * 3600.0
OVER_CAP = "Over the organisation's invitation limit"


class People(StandInBase):
    """The accounts and the organisation's membership."""

    def people_routes(self, org: str) -> list[tuple[str, str, Any]]:
        """(method, path pattern, handler) of this group."""
        return [
            ("GET", r"/users/([^/]+)", self._get_user),
            ("GET", r"/user/(\d+)", self._get_user_by_id),
            ("GET", rf"/orgs/{org}/members", self._org_members),
            ("GET", rf"/orgs/{org}/memberships/([^/]+)", self._get_org_membership),
            ("PUT", rf"/orgs/{org}/memberships/([^/]+)", self._put_org_membership),
            ("DELETE", rf"/orgs/{org}/memberships/([^/]+)", self._delete_org_membership),
        ]

    # ---- arranging (tests, the playground's page) -------------------------------------------

    def add_user(self, login: str, user_id: int | None = None) -> int:
        """Create a GitHub account (not in the organisation) unless it exists; its id."""
        with self.lock:
            key = login.lower()
            if key not in self.users:
                self.users[key] = {"id": user_id or self.new_id(), "login": login}
            return int(self.users[key]["id"])

    def add_org_member(self, login: str, role: str = "member") -> int:
        """Create the account if needed and make it an active organisation member."""
        user_id = self.add_user(login)
        with self.lock:
            self.invite(login, role)
            self.accept_invitation(login)
        return user_id

    def invite(self, login: str, role: str = "member") -> None:
        """Invite ``login`` (a member keeps membership, with ``role``); webhook member_invited."""
        with self.lock:
            key = login.lower()
            if key in self.org_members:
                self.org_members[key] = role
                return
            self.invitations[key] = role
            user = self.simple_user(login)
            invitation = shapes.organization_invitation(
                self.url, user["id"], user, role, self.sender()
            )
            self.emit(
                "organization", {"action": "member_invited", "invitation": invitation, "user": user}
            )
        if self.auto_accept_invitations:
            self.accept_invitation(login)

    def count_invitation(self, login: str) -> None:
        """Count the invitation a PUT for ``login`` creates (none for a member or someone
        invited already); over ``invitation_cap`` within the window, GitHub's 422."""
        with self.lock:
            key = login.lower()
            if key in self.org_members or key in self.invitations:
                return
            if key in self.blocked:
                error = {"resource": "OrganizationInvitation", "code": "custom"}
                raise Answer(json_answer(422, shapes.validation_error([error])))
            now = self.invitation_clock()
            recent = [at for at in self.invitations_sent if at > now - INVITATION_WINDOW]
            if len(recent) >= self.invitation_cap:
                error = {"resource": "OrganizationInvitation", "code": "custom"}
                error["message"] = OVER_CAP
                raise Answer(json_answer(422, shapes.validation_error([error])))
            self.invitations_sent = [*recent, now]

    def accept_invitation(self, login: str) -> None:
        """``login`` accepts their pending invitation (webhook member_added)."""
        with self.lock:
            role = self.invitations.pop(login.lower(), None)
            if role is None:
                return
            self.org_members[login.lower()] = role
            membership = self.membership_of(login, role)
            self.emit("organization", {"action": "member_added", "membership": membership})

    def remove_org_member(self, login: str) -> None:
        """Remove ``login`` from the organisation and every team (webhook member_removed)."""
        with self.lock:
            key = login.lower()
            if key not in self.org_members and key not in self.invitations:
                raise not_found()
            role = self.org_members.pop(key, None) or self.invitations.pop(key)
            for team in self.teams.values():
                team.members.pop(key, None)
            membership = self.membership_of(login, role)
            self.emit("organization", {"action": "member_removed", "membership": membership})

    def membership_of(self, login: str, role: str) -> dict[str, Any]:
        """``login``'s active ``org-membership`` as a webhook carries it."""
        return shapes.org_membership(self.url, self.org, self.simple_user(login), role, "active")

    # ---- serving ------------------------------------------------------------------------

    def public_user(self, login: str) -> dict[str, Any]:
        """The account as a ``public-user``."""
        user = self.user(login)
        return shapes.public_user(self.url, user["login"], user["id"])

    def _get_user(self, request: Request, login: str) -> Response:
        return json_answer(200, self.public_user(login))

    def _get_user_by_id(self, request: Request, user_id: str) -> Response:
        for user in self.users.values():
            if user["id"] == int(user_id):
                return json_answer(200, self.public_user(user["login"]))
        raise not_found()

    def _org_members(self, request: Request) -> Response:
        return self.paged(request, [self.simple_user(login) for login in self.org_members])

    def org_membership(self, login: str) -> dict[str, Any]:
        """``login``'s ``org-membership``; else 404."""
        key = login.lower()
        if key in self.org_members:
            state, role = "active", self.org_members[key]
        elif key in self.invitations:
            state, role = "pending", self.invitations[key]
        else:
            raise not_found()
        return shapes.org_membership(self.url, self.org, self.simple_user(login), role, state)

    def _get_org_membership(self, request: Request, login: str) -> Response:
        return json_answer(200, self.org_membership(login))

    def _put_org_membership(self, request: Request, login: str) -> Response:
        self.user(login, documented=False)
        role = (request.get_json(silent=True) or {}).get("role", "member")
        if role not in ("member", "admin"):
            raise validation("role", "invalid")
        self.count_invitation(login)
        self.invite(login, role)
        return json_answer(200, self.org_membership(login))

    def _delete_org_membership(self, request: Request, login: str) -> Response:
        self.remove_org_member(login)
        return Response(status=204)
