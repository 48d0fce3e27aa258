"""The Slack Web API client Rocket 2's own calls use."""

from __future__ import annotations

from slack_sdk import WebClient

from config import Config

SLACK_TIMEOUT_SECONDS = 10


def slack_client(config: Config) -> WebClient:
    """A slack-sdk WebClient for SLACK_API_URL with the bot token. Makes no call."""
    return WebClient(
        token=config.slack_api_token.reveal(),
        base_url=config.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
    )
