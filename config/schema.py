"""The one list of settings. The loader, `rocket2 config example`, app.json and the README's
config reference are all generated from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from config import parsers

SLACK_API_URL_DEFAULT = "https://slack.com/api/"
GITHUB_API_URL_DEFAULT = "https://api.github.com"
GITHUB_OAUTH_URL_DEFAULT = "https://github.com"
DATABASE_URL_DEFAULT = "sqlite:///data/rocket2.db"

# Variables the old bot used that are accepted and ignored, one warning each.
IGNORED_PREFIXES = ("AWS_", "GCP_")


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: how to parse it, whether it is required or secret, its docs."""

    name: str
    attr: str
    description: str
    parse: Callable[[str], Any]
    fix: str
    default: str | None = None
    secret: bool = False
    example: str = ""
    generate: bool = False  # app.json may generate a random value (generator: secret)

    @property
    def required(self) -> bool:
        """A setting without a default must be given."""
        return self.default is None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SLACK_SIGNING_SECRET",
        "slack_signing_secret",
        "Signing secret of the Slack app (Basic Information → App Credentials).",
        parsers.text,
        "copy it from your Slack app's Basic Information page",
        secret=True,
        example="0123456789abcdef0123456789abcdef",
    ),
    Setting(
        "SLACK_API_TOKEN",
        "slack_api_token",
        "Bot token of the Slack app (OAuth & Permissions → Bot User OAuth Token, xoxb-…).",
        parsers.slack_token,
        "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions",
        secret=True,
        example="xoxb-0000-0000-example",
    ),
    Setting(
        "SLACK_TEAM_ID",
        "slack_team_id",
        "Id of the club's Slack workspace (T…). Commands, mentions and events from any other "
        "workspace are refused, so outside Slack Connect users cannot use Rocket 2; guests of "
        "the club's own workspace are members like anyone else. Empty: the workspace of "
        "SLACK_API_TOKEN, as Slack's auth.test names it (until it answers, requests are "
        "refused with a try-again-in-a-minute).",
        parsers.slack_team_id,
        "copy the T… id from auth.test or the workspace's About page, or leave empty",
        default="",
        example="T0123ABCDEF",
    ),
    Setting(
        "GITHUB_APP_ID",
        "github_app_id",
        "Numeric App ID of the GitHub App (the App's General settings page).",
        parsers.positive_int,
        "copy the App ID number from the GitHub App's settings page",
        example="123456",
    ),
    Setting(
        "GITHUB_ORG_NAME",
        "github_org_name",
        "Login of the GitHub organisation the App is installed on.",
        parsers.github_login,
        "use the organisation's login as in https://github.com/LOGIN",
        example="my-club",
    ),
    Setting(
        "GITHUB_WEBHOOK_SECRET",
        "github_webhook_secret",
        "Secret the GitHub App signs webhook deliveries with (X-Hub-Signature-256).",
        parsers.text,
        "set the same random string here and in the App's webhook settings",
        secret=True,
        example="change-me-to-a-long-random-string",
        generate=True,
    ),
    Setting(
        "GITHUB_KEY",
        "github_key",
        "The GitHub App's private key (PEM). Raw multi-line, \\n-escaped, \\- escaped, quoted, "
        "base64, or as a file through GITHUB_KEY_FILE. See `rocket2 config encode-key`.",
        parsers.text,
        "paste the .pem GitHub generated, or use `rocket2 config encode-key`",
        secret=True,
        example="-----BEGIN RSA PRIVATE KEY-----\\n…\\n-----END RSA PRIVATE KEY-----",
    ),
    Setting(
        "GITHUB_CLIENT_ID",
        "github_client_id",
        "Client ID of the GitHub App (its General page), so members can link their GitHub "
        "account with proof (`/rocket user link`). Empty: linking is off; admins link accounts.",
        parsers.oauth_client_id,
        "copy the Client ID (Iv1.… or Iv23…) from the GitHub App's General page, or leave empty",
        default="",
        example="Iv23liExampleClientId",
    ),
    Setting(
        "GITHUB_CLIENT_SECRET",
        "github_client_secret",
        "A client secret of the GitHub App (General → Generate a new client secret).",
        parsers.text,
        "generate a client secret on the GitHub App's General page",
        default="",
        secret=True,
        example="0123456789abcdef0123456789abcdef01234567",
    ),
    Setting(
        "PUBLIC_URL",
        "public_url",
        "The https address where Slack and GitHub reach Rocket 2, e.g. "
        "https://rocket2.example.org. Set the GitHub App's callback URL to "
        "PUBLIC_URL/github/link.",
        parsers.public_url,
        "use the https:// address of this Rocket 2 (no path), or leave empty",
        default="",
        example="https://rocket2.example.org",
    ),
    Setting(
        "SLACK_NOTIFICATION_CHANNEL",
        "slack_notification_channel",
        "Channel that receives operational notices such as 'Rocket 2 has restarted'.",
        parsers.channel,
        "use a channel name such as #rocket2",
        default="#rocket2",
    ),
    Setting(
        "SLACK_ANNOUNCEMENT_CHANNEL",
        "slack_announcement_channel",
        "Channel where the weekly random-channel post goes.",
        parsers.channel,
        "use a channel name such as #rocket2-announcements",
        default="#rocket2-announcements",
    ),
    Setting(
        "GITHUB_DEFAULT_TEAM_NAME",
        "github_default_team_name",
        "GitHub team every member with a GitHub account is put in.",
        parsers.team_name,
        "use a GitHub team name",
        default="all",
    ),
    Setting(
        "GITHUB_ADMIN_TEAM_NAME",
        "github_admin_team_name",
        "GitHub team whose members are Rocket 2 admins (empty: none).",
        parsers.team_name,
        "use a GitHub team name, or leave empty",
        default="",
    ),
    Setting(
        "GITHUB_LEADS_TEAM_NAME",
        "github_leads_team_name",
        "GitHub team whose members are Rocket 2 team leads (empty: none).",
        parsers.team_name,
        "use a GitHub team name, or leave empty",
        default="",
    ),
    Setting(
        "GITHUB_WEBHOOK_ENDPT",
        "github_webhook_endpt",
        "Path that receives GitHub webhook deliveries.",
        parsers.webhook_path,
        "use a path such as /webhook",
        default="/webhook",
    ),
    Setting(
        "PORT",
        "port",
        "Port Gunicorn binds on 0.0.0.0 (Heroku sets it).",
        parsers.port,
        "use a port number such as 5000",
        default="5000",
    ),
    Setting(
        "WEB_CONCURRENCY",
        "web_concurrency",
        "Number of Gunicorn worker processes.",
        parsers.worker_count,
        "use a small number such as 1 or 2",
        default="1",
    ),
    Setting(
        "FORWARDED_ALLOW_IPS",
        "forwarded_allow_ips",
        "Proxy addresses whose X-Forwarded-* headers are trusted (comma list, or * on Heroku).",
        parsers.ip_list,
        "list the proxy's addresses or networks, e.g. 127.0.0.1",
        default="127.0.0.1",
    ),
    Setting(
        "LOG_LEVEL",
        "log_level",
        "Log level.",
        parsers.log_level,
        "use DEBUG, INFO, WARNING or ERROR",
        default="INFO",
    ),
    Setting(
        "LOG_FORMAT",
        "log_format",
        "Log line format: text (readable) or json (one object a line).",
        parsers.log_format,
        "use text or json",
        default="text",
    ),
    Setting(
        "SCHEDULER_TIMEZONE",
        "scheduler_timezone",
        "IANA time zone for scheduled jobs.",
        parsers.timezone,
        "use an IANA zone such as America/Los_Angeles",
        default="America/Los_Angeles",
    ),
    Setting(
        "TEAM_REFRESH_SCHEDULE",
        "team_refresh_schedule",
        "When `team refresh` runs by itself to heal drift from GitHub: a crontab expression "
        "(minute hour day month weekday) in SCHEDULER_TIMEZONE, or off.",
        parsers.cron_schedule,
        "use five crontab fields such as 0 4 * * * (daily at 04:00), or off",
        default="0 4 * * *",
    ),
    Setting(
        "SLACK_API_URL",
        "slack_api_url",
        "Base URL of Slack's Web API (tests and staging change it).",
        parsers.http_url,
        "use an http(s) URL such as https://slack.com/api/",
        default=SLACK_API_URL_DEFAULT,
    ),
    Setting(
        "SLACK_RESPONSE_URL_ORIGINS",
        "slack_response_url_origins",
        "Extra origins (scheme://host[:port], comma list) command replies may be posted to, "
        "besides https://hooks.slack.com and https://hooks.slack-gov.com. For tests and "
        "staging only; leave empty in production.",
        parsers.origin_list,
        "list origins such as http://127.0.0.1:8080, or leave empty",
        default="",
    ),
    Setting(
        "GITHUB_API_URL",
        "github_api_url",
        "Base URL of GitHub's REST API.",
        parsers.http_url,
        "use an http(s) URL such as https://api.github.com",
        default=GITHUB_API_URL_DEFAULT,
    ),
    Setting(
        "GITHUB_OAUTH_URL",
        "github_oauth_url",
        "Base URL of GitHub's web sign-in, where members authorize the App (/login/oauth/…).",
        parsers.http_url,
        "use an http(s) URL such as https://github.com",
        default=GITHUB_OAUTH_URL_DEFAULT,
    ),
    Setting(
        "DATABASE_URL",
        "database_url",
        "Database URL: SQLite file (default) or PostgreSQL (Heroku sets postgres://…).",
        parsers.database_url,
        "use sqlite:///data/rocket2.db or postgresql://user:pass@host/db",
        default=DATABASE_URL_DEFAULT,
        secret=True,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
