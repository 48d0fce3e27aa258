"""The App's own calls: its installation and installation tokens, and the credentials every
call carries (an RS256 JWT issued by the App, living at most 10 minutes; an installation
token the stand-in issued, not expired by ``clock`` and not revoked)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import jwt
from werkzeug import Request, Response

from app.dev.github import shapes
from app.dev.github.base import Answer, StandInBase, json_answer, not_found

MAX_JWT_LIFETIME = 600 + 60  # GitHub: exp at most 10 minutes ahead (with the 60 s backdate)


class AppAuth(StandInBase):
    """``GET /orgs/{org}/installation``, ``POST /app/installations/{id}/access_tokens``."""

    tokens: dict[str, float]  # installation token → expires_at
    revoked: set[str]
    jwts: list[dict[str, Any]]  # claims of every verified JWT
    jwt_rejections: list[str]  # why each refused JWT was refused

    def app_routes(self) -> list[tuple[str, str, Any]]:
        """(method, path pattern, handler) of this group; these check their own JWT."""
        return [
            ("GET", r"/orgs/([^/]+)/installation", self._installation),
            ("POST", r"/app/installations/(\d+)/access_tokens", self._access_token),
        ]

    def revoke_tokens(self) -> None:
        """Revoke every installation token issued so far (their next use gets 401)."""
        with self.lock:
            self.revoked.update(self.tokens)

    def bearer(self, request: Request) -> str:
        """The Authorization header's credential; else 401."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value:
            raise Answer(json_answer(401, shapes.error("Requires authentication", 401)))
        return value

    def require_jwt(self, request: Request) -> dict[str, Any]:
        """The verified claims of the App's JWT; else 401."""
        try:
            claims: dict[str, Any] = jwt.decode(
                self.bearer(request),
                self.public_key,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,  # checked below against self.clock
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError as exc:
            return self._reject_jwt(f"invalid JWT: {type(exc).__name__}")
        now = self.clock()
        if str(claims["iss"]) != str(self.app_id):
            return self._reject_jwt("wrong issuer")
        if claims["exp"] <= now:
            return self._reject_jwt("expired")
        if claims["iat"] > now + 60:
            return self._reject_jwt("issued in the future")
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME or claims["exp"] > now + 600:
            return self._reject_jwt("expires too far in the future")
        self.jwts.append(claims)
        return claims

    def _reject_jwt(self, why: str) -> dict[str, Any]:
        self.jwt_rejections.append(why)
        message = f"A JSON web token could not be decoded ({why})"
        raise Answer(json_answer(401, shapes.error(message, 401)))

    def require_token(self, request: Request) -> None:
        """A live installation token; else 401 Bad credentials."""
        token = self.bearer(request)
        expires = self.tokens.get(token)
        if expires is None or token in self.revoked or expires <= self.clock():
            raise Answer(json_answer(401, shapes.error("Bad credentials", 401)))

    def _installation(self, request: Request, org: str) -> Response:
        self.require_jwt(request)
        if org.lower() != self.org.lower():  # not documented: GitHub lists 200 only
            raise not_found(documented=False)
        body = shapes.installation(self.url, self.org, self.app_id, self.installation_id)
        return json_answer(200, body)

    def _access_token(self, request: Request, installation_id: str) -> Response:
        self.require_jwt(request)
        if int(installation_id) != self.installation_id:
            raise not_found()
        token = "ghs_" + secrets.token_hex(18)
        expires = self.clock() + self.token_ttl
        self.tokens[token] = expires
        stamp = datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json_answer(201, {"token": token, "expires_at": stamp})
