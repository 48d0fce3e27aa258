"""A wrapper that keeps secret values out of reprs, logs and tracebacks, and the passwords
found in (and hidden from) a database URL."""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote_plus, urlsplit

MASK: Final = "**********"


class Secret:
    """A secret string. Its repr and str never show the value; call reveal() to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value itself. Use it only where it is sent, never where it is shown."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac

        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


# libpq connection parameters in a URL's query string that carry a secret.
SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


def url_passwords(url: str) -> tuple[str, ...]:
    """Every password in a database URL (user info and query string), as written and decoded."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return ()
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        if unquote_plus(key).lower() in SECRET_QUERY_KEYS:
            found.append(value)
    return tuple(dict.fromkeys(v for raw in found for v in (raw, unquote_plus(raw)) if v))


def redact_url(url: str) -> str:
    """Show a database URL with every password (user info and query string) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        scheme, sep, _ = url.partition("://")
        return f"{scheme}://***" if sep else "***"
    userinfo, at, host = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    items = []
    for item in parts.query.split("&") if parts.query else []:
        key, eq, _value = item.partition("=")
        secret = eq and unquote_plus(key).lower() in SECRET_QUERY_KEYS
        items.append(f"{key}=***" if secret else item)
    netloc, query = f"{userinfo}{at}{host}", "&".join(items)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme}://{netloc}{parts.path}{'?' if query else ''}{query}{fragment}"
