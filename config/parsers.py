"""Parsers for single values. Each raises ValueError with a message that never quotes the value."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable
from urllib.parse import urlsplit

from config.secret import Secret

_SLACK_TOKEN = re.compile(r"^xox[a-z]*(\.xox[a-z]+)?-[A-Za-z0-9-]+$")
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_CHANNEL = re.compile(r"^[#]?[a-z0-9][a-z0-9_\-]{0,79}$|^[CGD][A-Z0-9]{8,}$")
_SLACK_TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")
_OAUTH_CLIENT_ID = re.compile(r"^[A-Za-z0-9._\-]{8,100}$")
_TEAM_SLUG = re.compile(r"^[A-Za-z0-9._\- ]{1,100}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


def text(value: str) -> str:
    """Any non-empty text."""
    return value


def secret(parse: Callable[[str], str]) -> Callable[[str], Secret]:
    """``parse``, with the value it returns wrapped in a Secret."""

    def parse_secret(value: str) -> Secret:
        return Secret(parse(value))

    parse_secret.__name__ = f"secret_{getattr(parse, '__name__', 'value')}"
    return parse_secret


def slack_token(value: str) -> str:
    """A Slack token: xox…- followed by letters, digits and dashes."""
    if not _SLACK_TOKEN.match(value):
        raise ValueError("does not look like a Slack token (it should start with xoxb- or xoxp-)")
    return value


def positive_int(value: str) -> int:
    """A whole number greater than zero."""
    if not value.strip().isdigit() or int(value) <= 0:
        raise ValueError("must be a positive whole number")
    return int(value)


def port(value: str) -> int:
    """A TCP port number, 1–65535."""
    number = positive_int(value)
    if number > 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return number


def worker_count(value: str) -> int:
    """A Gunicorn worker count, 1–64."""
    number = positive_int(value)
    if number > 64:
        raise ValueError("must be between 1 and 64")
    return number


def github_login(value: str) -> str:
    """A valid GitHub user or organisation login."""
    if not _GITHUB_LOGIN.match(value):
        raise ValueError(
            "is not a valid GitHub login (letters, digits and single inner dashes, at most 39)"
        )
    return value


def team_name(value: str) -> str:
    """A GitHub team name or slug, or empty for none."""
    if value and not _TEAM_SLUG.match(value):
        raise ValueError("is not a valid GitHub team name")
    return value


def channel(value: str) -> str:
    """A Slack channel: #name, name, or a channel id."""
    if not _CHANNEL.match(value):
        raise ValueError("is not a Slack channel name (#name) or channel id")
    return value


def webhook_path(value: str) -> str:
    """The GitHub webhook path: starts with /, is not /, not under /slack/, not /github/link."""
    if not value.startswith("/"):
        raise ValueError("must start with /")
    if value == "/" or value.rstrip("/") == "":
        raise ValueError("must not be the root path /")
    if value == "/slack" or value.startswith("/slack/"):
        raise ValueError("must not be under /slack/, which Slack's endpoints use")
    if value.rstrip("/") == "/github/link" or value.startswith("/github/link/"):
        raise ValueError("must not be /github/link, where GitHub sends members back when linking")
    if value in ("/healthz",) or any(c.isspace() for c in value) or "?" in value:
        raise ValueError("must be a plain path that no other endpoint uses")
    return value


def log_level(value: str) -> str:
    """A logging level name."""
    upper = value.upper()
    if upper not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return upper


def log_format(value: str) -> str:
    """text or json."""
    lower = value.lower()
    if lower not in LOG_FORMATS:
        raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
    return lower


def timezone(value: str) -> str:
    """An IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "is not a known IANA time zone (for example America/Los_Angeles)"
        ) from None
    return value


def cron_schedule(value: str) -> str:
    """A five-field crontab expression (minute hour day month weekday), or ``off``."""
    text = " ".join(value.split())
    if text.lower() == "off":
        return "off"
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(text)
    except (ValueError, TypeError):
        raise ValueError(
            "must be a crontab expression with five fields (minute hour day month weekday), or off"
        ) from None
    return text


def http_url(value: str) -> str:
    """An absolute http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


UNENCODED = (
    "has a user name or password that reads two ways (an unencoded @, : or / in it): "
    "percent-encode those characters (@ as %40, : as %3A, / as %2F)"
)


def database_url(value: str) -> str:
    """A SQLAlchemy URL for SQLite or PostgreSQL; Heroku's postgres:// is accepted.

    The URL is read as SQLAlchemy's ``make_url`` reads it (that is what connects) and must
    read the same as a standard URL split (what redaction and the secret filter use): an
    unencoded ``@`` in a password splits at the first ``@`` for one and the last for the other,
    which would send part of the password as the host name. A raw ``:`` in a password is
    refused too: it reads one way here, but is the first thing to break in another tool.
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ValueError("must be a URL such as sqlite:///data/rocket2.db or postgresql://…")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return value
    if base in ("postgres", "postgresql"):
        url = f"postgresql+psycopg://{rest}"
        _same_both_ways(url)
        return url
    raise ValueError("must use sqlite or postgresql")


def _same_both_ways(url: str) -> None:
    """Refuse a URL whose SQLAlchemy reading differs from urllib's (see database_url)."""
    from urllib.parse import unquote

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        ours = make_url(url)
        parts = urlsplit(url)
        theirs = (
            unquote(parts.username) if parts.username is not None else None,
            unquote(parts.password) if parts.password is not None else None,
            (parts.hostname or "").lower(),
            parts.port,
        )
    except (ArgumentError, ValueError):
        raise ValueError(UNENCODED) from None
    read = (ours.username, ours.password, (ours.host or "").lower(), ours.port)
    raw_password = parts.netloc.rpartition("@")[0].partition(":")[2]
    if read != theirs or "@" in (ours.host or "") or set(raw_password) & set("@:/"):
        raise ValueError(UNENCODED)


def ip_list(value: str) -> str:
    """A comma-separated list of IP addresses or networks, or * (trust every proxy)."""
    import ipaddress

    if value.strip() == "*":
        return "*"
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError("must list at least one IP address or network, or be *")
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError("must be a comma-separated list of IP addresses or networks") from None
    return ",".join(items)


def slack_team_id(value: str) -> str:
    """A Slack workspace id (T followed by capitals and digits), or empty."""
    if value and not _SLACK_TEAM_ID.match(value):
        raise ValueError("is not a Slack workspace id (T followed by capitals and digits)")
    return value


def oauth_client_id(value: str) -> str:
    """A GitHub App client id (letters, digits, dots and dashes), or empty."""
    if value and not _OAUTH_CLIENT_ID.match(value):
        raise ValueError("is not a GitHub App client id (such as Iv23li…)")
    return value


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_url(value: str) -> str:
    """An https:// origin with no path, query or fragment (a trailing / is dropped), or empty;
    http:// only on a loopback address (local development: `make run`'s playground)."""
    if not value:
        return value
    parts = urlsplit(value)
    local = parts.scheme == "http" and is_loopback_host(parts.hostname or "")
    if (parts.scheme != "https" and not local) or not parts.hostname:
        raise ValueError("must be an https:// address")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("must be an address with no path, query or user, e.g. https://host")
    return f"{parts.scheme}://{parts.netloc}"


def origin_list(value: str) -> str:
    """A comma list of http(s) origins (scheme://host[:port]), normalised; empty for none."""
    origins = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be a comma list of origins such as https://host:port")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError("must list origins only (scheme://host[:port], no path)")
        origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return ",".join(origins)


REPLICA_SCHEMES = ("file", "s3")


def replica_url(value: str) -> str:
    """Where Litestream replicates the SQLite file: file:///absolute/dir or s3://bucket[/path],
    or empty for none."""
    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in REPLICA_SCHEMES:
        raise ValueError("must be file:///absolute/directory or s3://bucket/path")
    if parts.scheme == "file" and (parts.netloc or not parts.path.startswith("/")):
        raise ValueError("a file replica must be an absolute path: file:///replica")
    if parts.scheme == "s3" and (not parts.netloc or parts.username or parts.password):
        raise ValueError("an S3 replica names a bucket, without credentials: s3://bucket/path")
    if parts.query or parts.fragment:
        raise ValueError("takes no ?query or #fragment (use REPLICA_ENDPOINT for the endpoint)")
    return value


def directory(value: str) -> str:
    """A directory path (it need not exist yet), or empty for none."""
    if "\x00" in value or value != value.strip():
        raise ValueError("must be a directory path without surrounding spaces")
    return value


def backup_count(value: str) -> int:
    """How many backups to keep, 1–1000."""
    number = positive_int(value)
    if number > 1000:
        raise ValueError("must be between 1 and 1000")
    return number


def optional_http_url(value: str) -> str:
    """An absolute http(s) URL, or empty for none."""
    return value if value == "" else http_url(value)
