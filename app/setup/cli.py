"""`rocket2 setup slack|github|env`: the parsers only; each command imports its module when
it runs (`rocket2 --help` imports none of them)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

DEFAULT_ENV_FILE = ".env"


def _lazy(module: str, function: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        command = getattr(importlib.import_module(module), function)
        status: int = command(args)
        return status

    return run


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `setup slack|github|env`."""
    setup = subparsers.add_parser("setup", help="create the Slack app and the GitHub App")
    sub = setup.add_subparsers(dest="setup_command", required=True)

    slack = sub.add_parser("slack", help="the Slack app, from a manifest")
    slack.add_argument("--public-url", required=True, help="https://HOST where Rocket 2 runs")
    slack.add_argument("--name", default="Rocket 2", help="the app's name (Rocket 2)")
    slack.add_argument("--manifest-file", default="slack-manifest.json", help="written here")
    slack.add_argument("--config-token", help="an app configuration token (or SLACK_CONFIG_TOKEN)")
    slack.add_argument("--update", metavar="APP_ID", help="update this app instead of creating")
    _env_file_args(slack)
    slack.set_defaults(func=_lazy("app.setup.slack_command", "cmd_setup_slack"))

    github = sub.add_parser("github", help="the GitHub App, through GitHub's manifest flow")
    github.add_argument("--org", required=True, help="the organisation's login")
    github.add_argument("--public-url", required=True, help="https://HOST where Rocket 2 runs")
    github.add_argument("--name", default="Rocket 2", help="the App's name (must be unique)")
    github.add_argument("--no-browser", action="store_true", help="print the page's URL only")
    github.add_argument("--port", type=int, default=0, help="the loopback page's port (any)")
    github.add_argument("--timeout", type=float, default=3600, help="seconds to wait (3600)")
    _env_file_args(github)
    github.set_defaults(func=_lazy("app.setup.github_command", "cmd_setup_github"))

    env = sub.add_parser("env", help="the remaining values; then config check")
    env.add_argument("--slack-token", help="the Bot User OAuth Token (xoxb-…)")
    env.add_argument("--signing-secret", help="the Slack app's signing secret")
    env.add_argument("--notification-channel", help="e.g. #rocket2")
    env.add_argument("--announcement-channel", help="e.g. #rocket2-announcements")
    env.add_argument(
        "--for", dest="target", choices=("compose", "docker", "heroku"), help="print for a deploy"
    )
    env.add_argument("--no-input", action="store_true", help="never ask; use flags only")
    _env_file_args(env)
    env.set_defaults(func=_lazy("app.setup.env_command", "cmd_setup_env"))


def _env_file_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env-file", default=DEFAULT_ENV_FILE, help="the env file (./.env)")
    parser.add_argument("--force", action="store_true", help="replace values already set")
