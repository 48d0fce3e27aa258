"""Development mode: recognised from the configuration, never switched on by a flag.

A config is in development mode when both SLACK_API_URL and GITHUB_API_URL point at this
machine (a loopback address or ``localhost``): Slack and GitHub are then local stand-ins, and
a deploy that real Slack and GitHub must reach cannot be one by accident.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from config.parsers import is_loopback_host
from config.settings import Config

__all__ = ["development_mode", "is_loopback_host"]


def _on_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host is not None and is_loopback_host(host)


def development_mode(config: Config) -> bool:
    """Whether Slack's and GitHub's API URLs both point at this machine."""
    return _on_loopback(config.slack_api_url) and _on_loopback(config.github_api_url)


def describe(config: Config) -> str:
    """One plain line for `config check`: which mode this config runs in."""
    if development_mode(config):
        return (
            "development mode: Slack and GitHub are stand-ins on this machine "
            f"({config.slack_api_url}, {config.github_api_url}); not for a deploy"
        )
    return "production mode: Slack and GitHub are the real services"
