"""The one declaration of every setting: the typed, frozen Config that load_config() builds.

Each field is one environment variable (the attribute in capitals), declared with `setting()`;
the loader, `rocket2 config check|example`, app.json and the docs' config reference read `SETTINGS`.
"""

from __future__ import annotations

from dataclasses import field
from types import MappingProxyType
from typing import Literal

from config import parsers
from config.declaration import Setting, declared, setting, settings_class
from config.github_key import GitHubKey, decode_github_key
from config.secret import Secret, redact_url, url_passwords

Source = Literal["env", ".env", "_FILE", "default"]

# The old bot's own AWS and GCP variables: accepted and ignored, with one warning each per
# process. Other AWS_* variables (AWS_CA_BUNDLE, AWS_REGION, …) belong to AWS's tools: no warning.
OLD_BOT_VARIABLES = frozenset(
    {
        "AWS_ACCESS_KEYID",
        "AWS_SECRET_KEY",
        "AWS_USERS_TABLE",
        "AWS_TEAMS_TABLE",
        "AWS_PROJECTS_TABLE",
        "AWS_PAIRINGS_TABLE",
        "AWS_LOCAL",
        "GCP_SERVICE_ACCOUNT_CREDENTIALS",
        "GCP_SERVICE_ACCOUNT_SUBJECT",
    }
)

LINKING = "GitHub account linking"
REPLICA_KEYS = "S3 replica credentials"


@settings_class
class Config:
    """Every Rocket 2 setting, parsed and validated. Secrets are Secret; repr hides them."""

    slack_signing_secret: Secret = setting(
        parsers.secret(parsers.text),
        description="Signing secret of the Slack app (Basic Information → App Credentials).",
        fix="copy it from your Slack app's Basic Information page",
        secret=True,
        example="0123456789abcdef0123456789abcdef",
        min_length=32,  # Slack issues 32 hex digits
    )
    slack_api_token: Secret = setting(
        parsers.secret(parsers.slack_token),
        description="Bot token of the Slack app (OAuth & Permissions → Bot User OAuth Token, "
        "xoxb-…).",
        fix="copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
        secret=True,
        example="xoxb-0000-0000-example",
    )
    slack_team_id: str = setting(
        parsers.slack_team_id,
        description="Id of the club's Slack workspace (T…). Commands, mentions and events from "
        "any other workspace are refused, so outside Slack Connect users cannot use Rocket 2; "
        "guests of the club's own workspace are members like anyone else. Empty: the workspace "
        "of SLACK_API_TOKEN, as Slack's auth.test names it (until it answers, requests are "
        "refused with a try-again-in-a-minute).",
        fix="copy the T… id from auth.test or the workspace's About page, or leave empty",
        default="",
        example="T0123ABCDEF",
    )
    github_app_id: int = setting(
        parsers.positive_int,
        description="Numeric App ID of the GitHub App (the App's General settings page).",
        fix="copy the App ID number from the GitHub App's settings page",
        example="123456",
    )
    github_org_name: str = setting(
        parsers.github_login,
        description="Login of the GitHub organisation the App is installed on.",
        fix="use the organisation's login as in https://github.com/LOGIN",
        example="my-club",
    )
    github_webhook_secret: Secret = setting(
        parsers.secret(parsers.text),
        description="Secret the GitHub App signs webhook deliveries with (X-Hub-Signature-256).",
        fix="set the same random string here and in the App's webhook settings",
        secret=True,
        example="change-me-to-a-long-random-string",
        generate=True,
        min_length=32,
    )
    github_key: GitHubKey = setting(
        decode_github_key,
        description="The GitHub App's private key (PEM). Raw multi-line, \\n-escaped, \\- "
        "escaped, quoted, base64, or as a file through GITHUB_KEY_FILE. See "
        "`rocket2 config encode-key`.",
        fix="paste the .pem GitHub generated, or use `rocket2 config encode-key`",
        secret=True,
        example="-----BEGIN RSA PRIVATE KEY-----\\n…\\n-----END RSA PRIVATE KEY-----",
    )
    github_client_id: str = setting(
        parsers.oauth_client_id,
        description="Client ID of the GitHub App (its General page), so members can link their "
        "GitHub account with proof (`/rocket user link`). Empty: linking is off; admins link "
        "accounts.",
        fix="copy the Client ID (Iv1.… or Iv23…) from the GitHub App's General page, or leave "
        "empty",
        default="",
        example="Iv23liExampleClientId",
        together=LINKING,
    )
    github_client_secret: Secret = setting(
        parsers.secret(parsers.text),
        description="A client secret of the GitHub App (General → Generate a new client secret).",
        fix="generate a client secret on the GitHub App's General page",
        default="",
        secret=True,
        example="0123456789abcdef0123456789abcdef01234567",
        min_length=40,  # GitHub issues 40 characters
        together=LINKING,
    )
    public_url: str = setting(
        parsers.public_url,
        description="The https address where Slack and GitHub reach Rocket 2, e.g. "
        "https://rocket2.example.org. Set the GitHub App's callback URL to "
        "PUBLIC_URL/github/link.",
        fix="use the https:// address of this Rocket 2 (no path), or leave empty",
        default="",
        example="https://rocket2.example.org",
        together=LINKING,
    )
    slack_notification_channel: str = setting(
        parsers.channel,
        description="Channel that receives operational notices such as 'Rocket 2 has restarted'.",
        fix="use a channel name such as #rocket2",
        default="#rocket2",
    )
    slack_announcement_channel: str = setting(
        parsers.channel,
        description="Channel where the weekly random-channel post goes.",
        fix="use a channel name such as #rocket2-announcements",
        default="#rocket2-announcements",
    )
    github_default_team_name: str = setting(
        parsers.team_name,
        description="GitHub team every member with a GitHub account is put in.",
        fix="use a GitHub team name",
        default="all",
    )
    github_admin_team_name: str = setting(
        parsers.team_name,
        description="GitHub team whose members are Rocket 2 admins (empty: none).",
        fix="use a GitHub team name, or leave empty",
        default="",
    )
    github_leads_team_name: str = setting(
        parsers.team_name,
        description="GitHub team whose members are Rocket 2 team leads (empty: none).",
        fix="use a GitHub team name, or leave empty",
        default="",
    )
    github_webhook_endpt: str = setting(
        parsers.webhook_path,
        description="Path that receives GitHub webhook deliveries.",
        fix="use a path such as /webhook",
        default="/webhook",
    )
    port: int = setting(
        parsers.port,
        description="Port Gunicorn binds on 0.0.0.0 (Heroku sets it).",
        fix="use a port number such as 5000",
        default="5000",
        heroku_sets=True,
    )
    web_concurrency: int = setting(
        parsers.worker_count,
        description="Number of Gunicorn worker processes.",
        fix="use a small number such as 1 or 2",
        default="1",
        heroku_sets=True,
    )
    forwarded_allow_ips: str = setting(
        parsers.ip_list,
        description="Proxy addresses whose X-Forwarded-* headers are trusted (comma list, or * "
        "on Heroku).",
        fix="list the proxy's addresses or networks, e.g. 127.0.0.1",
        default="127.0.0.1",
        heroku_sets=True,  # the Python buildpack exports FORWARDED_ALLOW_IPS='*'
    )
    healthz_token: Secret = setting(
        parsers.secret(parsers.text),
        description="Token that shows /healthz's details (version, store, scheduler, pins) to a "
        "request with `Authorization: Bearer TOKEN` from anywhere. Loopback and private "
        "addresses see them without it; everyone else sees only ok or not ok. Empty: no token.",
        fix="set a long random string, or leave empty",
        default="",
        secret=True,
        example="change-me-to-a-long-random-string",
        min_length=32,
    )
    log_level: str = setting(
        parsers.log_level,
        description="Log level.",
        fix="use DEBUG, INFO, WARNING or ERROR",
        default="INFO",
    )
    log_format: str = setting(
        parsers.log_format,
        description="Log line format: text (readable) or json (one object a line).",
        fix="use text or json",
        default="text",
    )
    scheduler_timezone: str = setting(
        parsers.timezone,
        description="IANA time zone for scheduled jobs.",
        fix="use an IANA zone such as America/Los_Angeles",
        default="America/Los_Angeles",
    )
    team_refresh_schedule: str = setting(
        parsers.cron_schedule,
        description="When `team refresh` runs by itself to heal drift from GitHub: a crontab "
        "expression (minute hour day month weekday) in SCHEDULER_TIMEZONE, or off.",
        fix="use five crontab fields such as 0 4 * * * (daily at 04:00), or off",
        default="0 4 * * *",
    )
    slack_api_url: str = setting(
        parsers.http_url,
        description="Base URL of Slack's Web API (tests and staging change it).",
        fix="use an http(s) URL such as https://slack.com/api/",
        default="https://slack.com/api/",
    )
    slack_response_url_origins: str = setting(
        parsers.origin_list,
        description="Extra origins (scheme://host[:port], comma list) command replies may be "
        "posted to, besides https://hooks.slack.com and https://hooks.slack-gov.com. For tests "
        "and staging only; leave empty in production.",
        fix="list origins such as http://127.0.0.1:8080, or leave empty",
        default="",
    )
    github_api_url: str = setting(
        parsers.http_url,
        description="Base URL of GitHub's REST API.",
        fix="use an http(s) URL such as https://api.github.com",
        default="https://api.github.com",
    )
    github_oauth_url: str = setting(
        parsers.http_url,
        description="Base URL of GitHub's web sign-in, where members authorize the App "
        "(/login/oauth/…).",
        fix="use an http(s) URL such as https://github.com",
        default="https://github.com",
    )
    database_url: Secret = setting(
        parsers.secret(parsers.database_url),
        description="Database URL: SQLite file (default) or PostgreSQL (Heroku sets postgres://…).",
        fix="use sqlite:///data/rocket2.db or postgresql://user:pass@host/db",
        default="sqlite:///data/rocket2.db",
        secret=True,
        heroku_sets=True,
        shown=redact_url,  # the URL with its passwords as ***
        secret_parts=url_passwords,
    )
    replica_url: str = setting(
        parsers.replica_url,
        description="Continuous replication of the SQLite database with Litestream (the compose "
        "file's litestream service): file:///app/replica (the compose file's replica volume) or "
        "s3://bucket/path. An empty database file is restored from it at start, before the "
        "migrations. Empty: no replication. See docs/operators/backups.md.",
        fix="use file:///app/replica or s3://bucket/path, or leave empty",
        default="",
        example="s3://my-club-backups/rocket2",
    )
    replica_endpoint: str = setting(
        parsers.optional_http_url,
        description="Endpoint of an S3-compatible store (MinIO, Cloudflare R2, Backblaze B2) for "
        "REPLICA_URL; empty for Amazon S3.",
        fix="use the store's https:// endpoint, or leave empty for Amazon S3",
        default="",
        example="https://s3.eu-central-003.backblazeb2.com",
    )
    replica_access_key_id: Secret = setting(
        parsers.secret(parsers.text),
        description="Access key id for an s3:// REPLICA_URL (empty: Litestream's own lookup).",
        fix="copy the bucket's access key id, or leave empty",
        default="",
        secret=True,
        together=REPLICA_KEYS,
    )
    replica_secret_access_key: Secret = setting(
        parsers.secret(parsers.text),
        description="Secret access key for an s3:// REPLICA_URL.",
        fix="copy the bucket's secret access key, or leave empty",
        default="",
        secret=True,
        together=REPLICA_KEYS,
    )
    backup_dir: str = setting(
        parsers.directory,
        description="Directory the scheduled `rocket2 db backup` writes into (the compose file "
        "mounts /app/backups). Empty: no scheduled backup.",
        fix="use a directory such as /app/backups, or leave empty",
        default="",
        example="/app/backups",
    )
    backup_schedule: str = setting(
        parsers.cron_schedule,
        description="When the scheduled backup runs when BACKUP_DIR is set: a crontab expression "
        "in SCHEDULER_TIMEZONE, or off.",
        fix="use five crontab fields such as 30 3 * * * (daily at 03:30), or off",
        default="30 3 * * *",
    )
    backup_keep: int = setting(
        parsers.backup_count,
        description="How many scheduled backups to keep in BACKUP_DIR (the oldest go first).",
        fix="use a number such as 7",
        default="7",
    )
    # Where each variable came from, and warnings raised while loading (for `config check`).
    sources: MappingProxyType[str, Source] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def secret_values(self) -> tuple[str, ...]:
        """Every configured secret value, for the log filter to mask."""
        values: list[str] = []
        for declaration in SETTINGS:
            if declaration.secret:
                text = getattr(self, declaration.attr).reveal()
                parts = declaration.secret_parts
                values.extend(parts(text) if parts is not None else (text,))
        return tuple(v for v in values if v)

    @property
    def linking_enabled(self) -> bool:
        """Whether members can link their GitHub account through the App's OAuth flow."""
        return bool(self.github_client_id and self.github_client_secret and self.public_url)


SETTINGS: tuple[Setting[object], ...] = declared(Config)
BY_NAME: dict[str, Setting[object]] = {s.name: s for s in SETTINGS}
