"""The immutable, typed Config that load_config() builds once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from urllib.parse import unquote_plus, urlsplit

from config.github_key import GitHubKey
from config.secret import Secret

Source = Literal["env", ".env", "_FILE", "default"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Every Rocket 2 setting, parsed and validated. Secrets are Secret; repr hides them."""

    slack_signing_secret: Secret
    slack_api_token: Secret
    github_app_id: int
    github_org_name: str
    github_webhook_secret: Secret
    github_key: GitHubKey
    slack_team_id: str = ""
    github_client_id: str = ""
    github_client_secret: Secret = field(default_factory=lambda: Secret(""))
    public_url: str = ""
    slack_notification_channel: str = "#rocket2"
    slack_announcement_channel: str = "#rocket2-announcements"
    github_default_team_name: str = "all"
    github_admin_team_name: str = ""
    github_leads_team_name: str = ""
    github_webhook_endpt: str = "/webhook"
    port: int = 5000
    web_concurrency: int = 1
    forwarded_allow_ips: str = "127.0.0.1"
    log_level: str = "INFO"
    log_format: str = "text"
    scheduler_timezone: str = "America/Los_Angeles"
    team_refresh_schedule: str = "0 4 * * *"
    slack_api_url: str = "https://slack.com/api/"
    slack_response_url_origins: str = ""
    github_api_url: str = "https://api.github.com"
    github_oauth_url: str = "https://github.com"
    database_url: Secret = field(default_factory=lambda: Secret("sqlite:///data/rocket2.db"))
    # Where each variable came from, and warnings raised while loading (for `config check`).
    sources: MappingProxyType[str, Source] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret value, for the log filter to mask."""
        values = [
            self.slack_signing_secret.reveal(),
            self.slack_api_token.reveal(),
            self.github_webhook_secret.reveal(),
            self.github_key.pem,
            self.github_client_secret.reveal(),
        ]
        values.extend(url_passwords(self.database_url.reveal()))
        return tuple(v for v in values if v)

    @property
    def linking_enabled(self) -> bool:
        """Whether members can link their GitHub account through the App's OAuth flow."""
        return bool(self.github_client_id and self.github_client_secret and self.public_url)


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
