"""The App's user-authorization web flow, as GitHub documents it: the authorize page (the
signed-in person picks an account and presses Authorize, or Cancel), ``POST
/login/oauth/access_token`` (client id and secret, one-time codes that expire, the
redirect_uri; errors answered with HTTP 200 and an ``error`` field), ``GET /user`` with the
user token, ``GET /user/emails``, and ``DELETE /applications/{client_id}/token`` and
``/grant`` (basic auth) revoking the token or the whole authorization."""

from __future__ import annotations

import base64
import html
import secrets
from typing import Any
from urllib.parse import urlencode

from werkzeug import Request, Response

from app.dev.github import shapes
from app.dev.github.base import StandInBase, json_answer, not_found, validation

CODE_TTL = 600  # GitHub: an authorization code expires after 10 minutes
USER_TOKEN_TTL = 8 * 3600  # GitHub App user tokens expire after 8 hours
DOCS = "https://docs.github.com/apps/troubleshooting-authorization-request-errors/"
OAUTH_ERRORS = {
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "bad_verification_code": "The code passed is incorrect or expired.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for "
    "this application.",
    "unverified_user_email": "The user must have a verified primary email.",
}


class OAuth(StandInBase):
    """The web flow's endpoints and its codes and user tokens."""

    client_id: str
    client_secret: str
    codes: dict[str, dict[str, Any]]  # code → {"login", "redirect_uri", "expires"}
    user_tokens: dict[str, dict[str, Any]]  # token → {"login", "expires"}
    revoked_user_tokens: set[str]
    issued_secrets: list[str]  # every code and token issued, to check logs for
    unverified_emails: set[str]  # lower logins whose primary email is not verified
    user_emails: dict[str, list[dict[str, Any]]]  # lower login → GET /user/emails' answer
    emails_permission: bool  # False: the App lacks "Email addresses" (403)
    grants: set[str]  # lower logins whose authorization of the App stands

    def oauth_routes(self) -> list[tuple[str, str, Any]]:
        """(method, path pattern, handler) of this group; these check their own credentials."""
        return [
            ("GET", r"/login/oauth/authorize", self._authorize_page),
            ("POST", r"/login/oauth/authorize", self._authorize),
            ("POST", r"/login/oauth/access_token", self._access_token_exchange),
            ("GET", r"/user", self._authenticated_user),
            ("DELETE", r"/applications/([^/]+)/token", self._revoke_user_token),
            ("DELETE", r"/applications/([^/]+)/grant", self._delete_grant),
            ("GET", r"/user/emails", self._user_emails),
        ]

    def set_oauth_app(self, client_id: str, client_secret: str) -> None:
        """The App's client id and secret, which the web flow's endpoints check."""
        with self.lock:
            self.client_id, self.client_secret = client_id, client_secret

    def user_token_revoked(self, token: str) -> bool:
        """Whether a user token was revoked."""
        with self.lock:
            return token in self.revoked_user_tokens

    def _authorize_page(self, request: Request) -> Response:
        """The page GitHub shows: pick the account you are signed in as, Authorize or Cancel."""
        if request.args.get("client_id") != self.client_id or not request.args.get("redirect_uri"):
            return Response("Not Found", status=404)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in request.args.items()
        )
        options = "".join(
            f'<option value="{html.escape(u["login"])}">{html.escape(u["login"])}</option>'
            for u in sorted(self.users.values(), key=lambda u: u["login"].lower())
        )
        page = (
            "<!doctype html><title>Authorize Rocket 2</title><h1>Authorize Rocket 2</h1>"
            f'<form method="post">{hidden}<label>Signed in to GitHub as '
            f'<select name="login" id="login">{options}</select></label> '
            '<button name="choice" value="approve" id="authorize">Authorize</button> '
            '<button name="choice" value="deny" id="cancel">Cancel</button></form>'
        )
        return Response(page, content_type="text/html; charset=utf-8")

    def _authorize(self, request: Request) -> Response:
        """The member's choice on the page: a 302 back to redirect_uri (code, or error)."""
        form = request.form
        redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
        if form.get("client_id") != self.client_id or not redirect_uri:
            return Response("Not Found", status=404)
        login = form.get("login", "")
        if form.get("choice") != "approve" or login.lower() not in self.users:
            query = {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": DOCS + "#access-denied",
                "state": state,
            }
        else:
            code = secrets.token_hex(10)
            expires = self.clock() + CODE_TTL
            self.codes[code] = {"login": login, "redirect_uri": redirect_uri, "expires": expires}
            self.issued_secrets.append(code)
            self.grants.add(login.lower())
            query = {"code": code, "state": state}
        sep = "&" if "?" in redirect_uri else "?"
        return Response(status=302, headers={"Location": redirect_uri + sep + urlencode(query)})

    def _access_token_exchange(self, request: Request) -> Response:
        """Exchange a code: GitHub answers errors with HTTP 200 and an ``error`` field."""
        params = {**request.args.to_dict(), **request.form.to_dict()}
        params.update(request.get_json(silent=True) or {})
        if not self.client_id or params.get("client_id") != self.client_id:
            return self._oauth_error(request, "incorrect_client_credentials")
        if params.get("client_secret") != self.client_secret:
            return self._oauth_error(request, "incorrect_client_credentials")
        entry = self.codes.pop(str(params.get("code", "")), None)  # one-time
        if entry is None or entry["expires"] <= self.clock():
            return self._oauth_error(request, "bad_verification_code")
        if params.get("redirect_uri") not in (None, entry["redirect_uri"]):
            return self._oauth_error(request, "redirect_uri_mismatch")
        if entry["login"].lower() in self.unverified_emails:
            return self._oauth_error(request, "unverified_user_email")
        token = "ghu_" + secrets.token_hex(18)
        self.user_tokens[token] = {
            "login": entry["login"],
            "expires": self.clock() + USER_TOKEN_TTL,
        }
        refresh = "ghr_" + secrets.token_hex(30)
        self.issued_secrets += [token, refresh]
        body = {
            "access_token": token,
            "expires_in": USER_TOKEN_TTL,
            "refresh_token": refresh,
            "refresh_token_expires_in": 15897600,
            "scope": "",
            "token_type": "bearer",
        }
        return self._oauth_answer(request, body)

    def _oauth_error(self, request: Request, error: str) -> Response:
        body = {
            "error": error,
            "error_description": OAUTH_ERRORS[error],
            "error_uri": f"https://docs.github.com/apps/troubleshooting#{error}",
        }
        return self._oauth_answer(request, body)

    @staticmethod
    def _oauth_answer(request: Request, body: dict[str, Any]) -> Response:
        """JSON when asked for it (Accept: application/json), else form-encoded, as GitHub."""
        if "application/json" in request.headers.get("Accept", ""):
            return json_answer(200, body)
        return Response(
            urlencode(body), status=200, content_type="application/x-www-form-urlencoded"
        )

    def _authenticated_user(self, request: Request) -> Response:
        """``GET /user``: the account the user token belongs to."""
        token = self.bearer(request)  # type: ignore[attr-defined]
        entry = self.user_tokens.get(token)
        live = entry is not None and token not in self.revoked_user_tokens
        if entry is None or not live or entry["expires"] <= self.clock():
            return json_answer(401, shapes.error("Bad credentials", 401))
        user = self.user(entry["login"])
        return json_answer(200, shapes.public_user(self.url, user["login"], user["id"]))

    def _live_user_token(self, token: str) -> dict[str, Any] | None:
        """The entry of a user token that is issued, not revoked and not expired."""
        entry = self.user_tokens.get(token)
        if entry is None or token in self.revoked_user_tokens or entry["expires"] <= self.clock():
            return None
        return entry

    def _app_basic_auth(self, request: Request, client_id: str) -> Response | None:
        """Basic auth with the App's client id and secret for ``/applications/{client_id}``:
        None when it holds, else the answer GitHub gives."""
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if scheme.lower() != "basic" or (user, password) != (self.client_id, self.client_secret):
            return json_answer(401, shapes.error("Bad credentials", 401))
        if client_id != self.client_id:
            raise not_found(documented=False)
        return None

    def _revoke_user_token(self, request: Request, client_id: str) -> Response:
        """``DELETE /applications/{client_id}/token``: basic auth with the App's client id and
        secret; body ``{"access_token": …}``."""
        refused = self._app_basic_auth(request, client_id)
        if refused is not None:
            return refused
        token = str((request.get_json(silent=True) or {}).get("access_token") or "")
        if token not in self.user_tokens:
            raise validation("access_token", "invalid")
        self.revoked_user_tokens.add(token)
        return Response(status=204)

    def _delete_grant(self, request: Request, client_id: str) -> Response:
        """``DELETE /applications/{client_id}/grant`` (apps/delete-authorization): basic auth,
        body ``{"access_token": …}``; deletes the user's authorization and every token of it;
        204, or 422 for an unknown token."""
        refused = self._app_basic_auth(request, client_id)
        if refused is not None:
            return refused
        token = str((request.get_json(silent=True) or {}).get("access_token") or "")
        entry = self._live_user_token(token)
        if entry is None:
            raise validation("access_token", "invalid")
        login = str(entry["login"]).lower()
        self.grants.discard(login)
        for other, other_entry in self.user_tokens.items():
            if str(other_entry["login"]).lower() == login:
                self.revoked_user_tokens.add(other)
        return Response(status=204)

    def _user_emails(self, request: Request) -> Response:
        """``GET /user/emails`` (users/list-emails-for-authenticated-user): the token's user's
        addresses, ``[{"email", "primary", "verified", "visibility"}]``; 403 without the App's
        "Email addresses" permission."""
        entry = self._live_user_token(self.bearer(request))  # type: ignore[attr-defined]
        if entry is None:
            return json_answer(401, shapes.error("Bad credentials", 401))
        if not self.emails_permission:
            message = "Resource not accessible by integration"
            return json_answer(403, shapes.error(message, 403))
        login = str(entry["login"]).lower()
        default = [
            {
                "email": f"{login}@github.example",
                "primary": True,
                "verified": True,
                "visibility": "private",
            }
        ]
        return json_answer(200, self.user_emails.get(login, default))

    def set_emails(self, login: str, *addresses: tuple[str, bool]) -> None:
        """``login``'s e-mails as (address, verified); the first is primary."""
        with self.lock:
            self.user_emails[login.lower()] = [
                {
                    "email": address,
                    "primary": index == 0,
                    "verified": verified,
                    "visibility": "private" if index == 0 else None,
                }
                for index, (address, verified) in enumerate(addresses)
            ]
