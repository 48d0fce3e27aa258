"""The signed ``state`` of a link: which Slack member asked, in which workspace, until when;
and the signed confirmation that carries GitHub's answer from the callback page to its form.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(payload))``. The key is derived from
GITHUB_CLIENT_SECRET with HKDF and a fixed label, so the secret itself never signs anything
and no other use of it can produce a valid state. ``verify`` checks the MAC in constant time
before reading the payload, then the expiry. One-time use is the store's job: the caller claims
``nonce`` (``uow.events.claim("link", nonce)``) in the unit of work that stores the link.
States and confirmations are signed with different keys (another HKDF label), so neither can
stand for the other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TTL_SECONDS = 600
CONFIRM_TTL_SECONDS = 300
MAX_TOKEN_LENGTH = 1000
_LABEL = b"rocket2 github-link state v1"
_CONFIRM_LABEL = b"rocket2 github-link confirmation v1"
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class StateError(Exception):
    """The state is not one this instance signed (or it is malformed)."""


class StateExpired(StateError):
    """The state was signed by us but its time is up."""


@dataclass(frozen=True, slots=True)
class LinkState:
    """What a valid state says: the Slack member and workspace, a nonce and the expiry."""

    slack_user: str
    slack_team: str
    nonce: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class Confirmation:
    """GitHub's answer for one state, waiting for the account holder to confirm the link:
    the account, the Slack handle the holder must type, and whether one of the account's
    verified e-mails is the Slack member's."""

    state: LinkState
    github_id: int
    login: str
    handle: str = ""
    email_match: bool = False


def derive_key(client_secret: str, label: bytes = _LABEL) -> bytes:
    """A signing key: HKDF-SHA256 of the client secret, with a fixed label per purpose."""
    if not client_secret:
        raise ValueError("a client secret is needed to sign link states")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return hkdf.derive(client_secret.encode())


class StateSigner:
    """Signs and verifies link states with a key derived from the client secret."""

    def __init__(
        self,
        client_secret: str,
        *,
        ttl: int = TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = derive_key(client_secret)
        self._ttl = ttl
        self._clock = clock

    def sign(self, slack_user: str, slack_team: str, *, expires_at: int | None = None) -> str:
        """A new one-time state for this member, valid for ``ttl`` seconds (or until
        ``expires_at``)."""
        expiry = int(self._clock()) + self._ttl if expires_at is None else int(expires_at)
        payload = {"u": slack_user, "t": slack_team, "n": secrets.token_urlsafe(16), "e": expiry}
        return _seal(self._key, payload)

    def verify(self, token: str) -> LinkState:
        """The state's content; StateError if forged or malformed, StateExpired if too old."""
        data = _open(self._key, token)
        try:
            state = _state(data)
        except (ValueError, KeyError, TypeError):
            raise StateError("malformed state") from None
        if state.expires_at <= self._clock():
            raise StateExpired("expired state")
        return state


class ConfirmationSigner:
    """Signs what GitHub said for a state (the account's id and login), for the confirmation
    form; valid ``ttl`` seconds, never beyond the state's own expiry."""

    def __init__(
        self,
        client_secret: str,
        *,
        ttl: int = CONFIRM_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = derive_key(client_secret, _CONFIRM_LABEL)
        self._ttl = ttl
        self._clock = clock

    def sign(
        self,
        state: LinkState,
        github_id: int,
        login: str,
        *,
        handle: str = "",
        email_match: bool = False,
    ) -> str:
        """The confirmation token for ``state`` and GitHub's account."""
        expiry = min(int(self._clock()) + self._ttl, state.expires_at + self._ttl)
        payload = {
            "u": state.slack_user,
            "t": state.slack_team,
            "n": state.nonce,
            "e": expiry,
            "g": github_id,
            "l": login,
            "h": handle,
            "m": email_match,
        }
        return _seal(self._key, payload)

    def verify(self, token: str) -> Confirmation:
        """The confirmation's content; StateError if forged, StateExpired if too old."""
        data = _open(self._key, token)
        try:
            confirmation = Confirmation(
                _state(data),
                int(data["g"]),
                str(data["l"]),
                str(data.get("h", "")),
                data.get("m") is True,
            )
        except (ValueError, KeyError, TypeError):
            raise StateError("malformed confirmation") from None
        if confirmation.state.expires_at <= self._clock():
            raise StateExpired("expired confirmation")
        return confirmation


def _state(data: dict[str, Any]) -> LinkState:
    state = LinkState(
        slack_user=str(data["u"]),
        slack_team=str(data["t"]),
        nonce=str(data["n"]),
        expires_at=int(data["e"]),
    )
    if not state.nonce:
        raise ValueError("no nonce")
    return state


def _seal(key: bytes, payload: dict[str, object]) -> str:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(key, body))}"


def _open(key: bytes, token: str) -> dict[str, Any]:
    """The payload of a token sealed with ``key``; StateError unless the MAC holds."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise StateError("malformed token")
    body_part, mac_part = token.split(".")
    try:
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (binascii.Error, ValueError):
        raise StateError("malformed token") from None
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise StateError("bad signature")
    try:
        data = json.loads(body)
    except ValueError:
        raise StateError("malformed token") from None
    if not isinstance(data, dict):
        raise StateError("malformed token")
    return data


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # only the canonical spelling: one state, one token
        raise ValueError("not canonical base64url")
    return data
