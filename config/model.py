"""The immutable, typed Config that load_config() builds once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

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
        password = _url_password(self.database_url.reveal())
        if password:
            values.append(password)
        return tuple(v for v in values if v)

    @property
    def linking_enabled(self) -> bool:
        """Whether members can link their GitHub account through the App's OAuth flow."""
        return bool(self.github_client_id and self.github_client_secret and self.public_url)


def _url_password(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def redact_url(url: str) -> str:
    """Show a database URL with its password replaced by ***."""
    password = _url_password(url)
    return url.replace(f":{password}@", ":***@", 1) if password else url
