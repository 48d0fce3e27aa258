"""GitHub App authentication: the App JWT and the installation-token cache.

The JWT is RS256, signed with GITHUB_KEY, issuer GITHUB_APP_ID, issued 60 s in the past (clock
drift) and expiring 9 minutes from now (GitHub allows at most 10). A fresh one is made for every
App-level call; signing costs about a millisecond.

The installation token is cached until 5 minutes before its ``expires_at``, then replaced; it is
dropped at once when GitHub answers 401 to it (see GitHubClient).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_BACKDATE = 60
JWT_LIFETIME = 540
REFRESH_MARGIN = 300


def app_jwt(app_id: int, private_key: rsa.RSAPrivateKey, now: float) -> str:
    """The App JWT for ``app_id`` at time ``now`` (epoch seconds)."""
    issued = int(now) - JWT_BACKDATE
    claims = {"iat": issued, "exp": int(now) + JWT_LIFETIME, "iss": str(app_id)}
    return jwt.encode(claims, private_key, algorithm="RS256")


def parse_expires_at(text: str) -> float:
    """Epoch seconds of GitHub's ``expires_at`` (ISO 8601, e.g. 2016-07-11T22:14:10Z)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True, slots=True)
class InstallationToken:
    """An installation access token and when GitHub will stop accepting it."""

    token: str
    expires_at: float

    def fresh(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        """True while more than ``margin`` seconds are left."""
        return now < self.expires_at - margin

    def __repr__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at})"


class TokenCache:
    """A thread-safe cache of one installation token.

    ``get(fetch)`` returns the cached token while fresh and otherwise calls ``fetch()`` (under a
    lock, so concurrent callers make one request). ``invalidate(token)`` drops it if it is still
    the one cached, so two threads that both saw a 401 cause one refresh.
    """

    def __init__(self, clock: Callable[[], float], margin: float = REFRESH_MARGIN) -> None:
        self._clock = clock
        self._margin = margin
        self._lock = threading.RLock()  # fetch() may read current() while scrubbing errors
        self._token: InstallationToken | None = None

    def get(self, fetch: Callable[[], InstallationToken]) -> str:
        """The current token, fetching a new one when absent or about to expire."""
        with self._lock:
            if self._token is None or not self._token.fresh(self._clock(), self._margin):
                self._token = fetch()
            return self._token.token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is the cached one."""
        with self._lock:
            if self._token is not None and self._token.token == token:
                self._token = None

    def current(self) -> str | None:
        """The cached token (for scrubbing error text), without refreshing."""
        with self._lock:
            return self._token.token if self._token is not None else None
