"""GitHub's web flow for the App (user authorization), through one httpx client.

``authorize_url(state)`` is where the member is sent; ``identify(code)`` exchanges the code
GitHub sent back for a user token (``POST /login/oauth/access_token``), asks ``GET /user``
who that token belongs to and ``GET /user/emails`` which addresses GitHub verified (the App's
"Email addresses: read" user permission; none when GitHub refuses), and then, whatever
happened, deletes the member's authorization of the App (``DELETE /applications/{client_id}/
grant``, which ends the token too), so GitHub asks for consent on every link; the token alone
is revoked (``…/token``) when the grant could not be deleted. The token is never stored, logged
or put in an error. No redirects are followed and timeouts are short.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from app.github import GitHubUser
from app.members.linking import CALLBACK_PATH
from config import Config

log = logging.getLogger("rocket2.linking")

TIMEOUT_SECONDS = 5.0
API_VERSION = "2022-11-28"


def authorize_url(oauth_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where the member approves the App; GitHub sends them back to ``redirect_uri`` with
    ``code`` and ``state``."""
    query = urlencode(
        {"client_id": client_id, "redirect_uri": redirect_uri, "state": state}, quote_via=quote
    )
    return f"{oauth_url.rstrip('/')}/login/oauth/authorize?{query}"


def link_url(config: Config, state: str) -> str:
    """The authorize URL for the configured App, calling back to PUBLIC_URL/github/link."""
    return authorize_url(
        config.github_oauth_url, config.github_client_id, callback_url(config), state
    )


def callback_url(config: Config) -> str:
    """PUBLIC_URL + the callback path: the redirect_uri GitHub must send the member to."""
    return config.public_url + CALLBACK_PATH


@dataclass(frozen=True, slots=True)
class Identity:
    """Who approved the App: the account, and its e-mail addresses GitHub verified (lower
    case; empty when GitHub would not list them)."""

    account: GitHubUser
    verified_emails: frozenset[str]


# Token-exchange errors GitHub documents as the member's to fix (troubleshooting OAuth app
# access token request errors), with the fix; every other error is our configuration.
MEMBER_FIXES = {
    "unverified_user_email": "GitHub needs the primary email address of your GitHub account "
    "verified first: verify it at https://github.com/settings/emails, then link again",
    "access_denied": "the link was not authorised on GitHub: open the link again and press "
    "Authorize",
}


class OAuthError(Exception):
    """The web flow did not produce an identity. ``reason`` is short and holds no secret."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class OAuthRefused(OAuthError):
    """GitHub refused for a reason the member can act on (the code wrong, expired or used; an
    unverified email address; access denied); ``reason`` says what to do."""


class OAuthUnavailable(OAuthError):
    """GitHub gave no usable answer (no connection, 5xx, an unexpected body, our credentials)."""


class WebFlow:
    """The App's user-authorization web flow. Thread-safe; one per process."""

    def __init__(
        self,
        *,
        oauth_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._secret = client_secret
        self._oauth = oauth_url.rstrip("/")
        self._api = api_url.rstrip("/")
        self._http = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": "rocket2"}
        )

    @classmethod
    def from_config(cls, config: Config) -> WebFlow:
        """The flow for the configured App, calling back to PUBLIC_URL/github/link."""
        return cls(
            oauth_url=config.github_oauth_url,
            api_url=config.github_api_url,
            client_id=config.github_client_id,
            client_secret=config.github_client_secret.reveal(),
            redirect_uri=callback_url(config),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def authorize_url(self, state: str) -> str:
        """Where the member approves the App (see ``authorize_url``)."""
        return authorize_url(self._oauth, self.client_id, self.redirect_uri, state)

    def identify(self, code: str) -> Identity:
        """The GitHub account that approved the App and produced ``code``, with its verified
        e-mails; the authorization (or at least the token) is revoked before this returns."""
        token = self._exchange(code)
        try:
            return Identity(self._whoami(token), self._verified_emails(token))
        finally:
            if not self._revoke(token, "grant"):
                self._revoke(token, "token")

    # ---- the three calls ---------------------------------------------------------------

    def _exchange(self, code: str) -> str:
        body = self._call(
            "exchange the code",
            "POST",
            f"{self._oauth}/login/oauth/access_token",
            headers={"Accept": "application/json"},
            data={
                "client_id": self.client_id,
                "client_secret": self._secret,
                "code": code,
                "redirect_uri": self.redirect_uri,
            },
        )
        error = body.get("error")
        if error == "bad_verification_code":
            raise OAuthRefused("GitHub refused the code: it is wrong, expired or used")
        if error in MEMBER_FIXES:  # the member can fix these: say how
            raise OAuthRefused(MEMBER_FIXES[error])
        if error:
            # incorrect_client_credentials, redirect_uri_mismatch, …: our settings, not the user.
            raise OAuthUnavailable(f"GitHub refused the exchange: {_word(error)}")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise OAuthUnavailable("GitHub's answer had no access token")
        return token

    def _whoami(self, token: str) -> GitHubUser:
        body = self._call(
            "read the user",
            "GET",
            f"{self._api}/user",
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "Authorization": f"Bearer {token}",
            },
        )
        try:
            user = GitHubUser.from_json(body)
        except (KeyError, TypeError, ValueError):
            raise OAuthUnavailable("GitHub's /user answer had no login and id") from None
        if user.id <= 0 or not user.login:
            raise OAuthUnavailable("GitHub's /user answer had no login and id")
        return user

    def _verified_emails(self, token: str) -> frozenset[str]:
        """``GET /user/emails``: the addresses marked ``verified`` (first 100). Empty when
        GitHub refuses (the App lacks the "Email addresses" permission) or answers oddly."""
        try:
            response = self._http.get(
                f"{self._api}/user/emails",
                params={"per_page": 100},
                headers={**self._api_headers(), "Authorization": f"Bearer {token}"},
            )
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not list the user's e-mails: %s", type(exc).__name__)
            return frozenset()
        if not isinstance(body, list):
            log.warning("could not list the user's e-mails: HTTP %s", response.status_code)
            return frozenset()
        return frozenset(
            str(item["email"]).strip().lower()
            for item in body
            if isinstance(item, dict) and item.get("verified") is True and item.get("email")
        )

    def _revoke(self, token: str, what: str) -> bool:
        """``DELETE /applications/{client_id}/grant`` (``what`` "grant") or ``…/token``; True
        on GitHub's 204."""
        client = quote(self.client_id, safe="")
        try:
            if what == "grant":
                response = self._delete_with_token(
                    f"{self._api}/applications/{client}/grant", token
                )
            else:
                response = self._delete_with_token(
                    f"{self._api}/applications/{client}/token", token
                )
        except httpx.HTTPError as exc:
            log.warning("could not revoke the user's %s: %s", what, type(exc).__name__)
            return False
        if response.status_code != 204:
            log.warning("could not revoke the user's %s: HTTP %s", what, response.status_code)
            return False
        return True

    def _delete_with_token(self, url: str, token: str) -> httpx.Response:
        """DELETE ``url`` with the App's basic auth and ``{"access_token": token}``."""
        return self._http.request(
            "DELETE",
            url,
            headers=self._api_headers(),
            auth=(self.client_id, self._secret),
            json={"access_token": token},
        )

    @staticmethod
    def _api_headers() -> dict[str, str]:
        return {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}

    def _call(self, what: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise OAuthUnavailable(f"could not {what}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise OAuthUnavailable(f"could not {what}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise OAuthUnavailable(f"could not {what}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise OAuthUnavailable(f"could not {what}: the answer is not a JSON object")
        return body


def _word(value: object) -> str:
    """GitHub's error code, kept only if it is a plain word (it goes into logs and pages)."""
    text = str(value)
    return text if text.replace("_", "").isalnum() and len(text) <= 60 else "unknown error"
