"""The signed ``state`` of a link: which Slack member asked, in which workspace, until when.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(payload))``. The key is derived from
GITHUB_CLIENT_SECRET with HKDF and a fixed label, so the secret itself never signs anything
and no other use of it can produce a valid state. ``verify`` checks the MAC in constant time
before reading the payload, then the expiry. One-time use is the store's job: the caller claims
``nonce`` (``uow.events.claim("link", nonce)``) in the unit of work that stores the link.
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

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TTL_SECONDS = 600
MAX_TOKEN_LENGTH = 1000
_LABEL = b"rocket2 github-link state v1"
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


def derive_key(client_secret: str) -> bytes:
    """The state-signing key: HKDF-SHA256 of the client secret, with a fixed label."""
    if not client_secret:
        raise ValueError("a client secret is needed to sign link states")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL)
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
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: str) -> LinkState:
        """The state's content; StateError if forged or malformed, StateExpired if too old."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise StateError("malformed state")
        body_part, mac_part = token.split(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
        except (binascii.Error, ValueError):
            raise StateError("malformed state") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise StateError("bad signature")
        try:
            data = json.loads(body)
            state = LinkState(
                slack_user=str(data["u"]),
                slack_team=str(data["t"]),
                nonce=str(data["n"]),
                expires_at=int(data["e"]),
            )
        except (ValueError, KeyError, TypeError):
            raise StateError("malformed state") from None
        if not state.nonce:
            raise StateError("malformed state")
        if state.expires_at <= self._clock():
            raise StateExpired("expired state")
        return state

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # only the canonical spelling: one state, one token
        raise ValueError("not canonical base64url")
    return data
