"""`rocket2 setup env`: the Slack token and signing secret, SLACK_TEAM_ID from auth.test and
the channels, into the env file (asked for when missing and a terminal is there); then the
same check as `rocket2 config check`; with --for, what a deploy needs from the file."""

from __future__ import annotations

import argparse
import getpass
import shlex
import sys
from pathlib import Path

from slack_sdk.errors import SlackApiError

from app.outside import describe_failure
from app.setup.envfile import EnvFileRefused, existing_values, update_env_file
from app.setup.slack_command import env_file_of, fail
from app.slack.manifests import identify
from config import ConfigError, load_settings
from config.cli import render_table
from config.loader import load_config
from config.settings import BY_NAME

ASKED = (  # (flag attribute, variable, question, secret)
    ("slack_token", "SLACK_API_TOKEN", "Bot User OAuth Token (xoxb-…)", True),
    ("signing_secret", "SLACK_SIGNING_SECRET", "Signing secret (Basic Information)", True),
    ("notification_channel", "SLACK_NOTIFICATION_CHANNEL", "Notification channel", False),
    ("announcement_channel", "SLACK_ANNOUNCEMENT_CHANNEL", "Announcement channel", False),
)


def cmd_setup_env(args: argparse.Namespace) -> int:
    """Gather, write, check; then print for the deploy named by --for."""
    env_file = Path(args.env_file)
    values = _gathered(args, existing_values(env_file))
    token = values.get("SLACK_API_TOKEN") or existing_values(env_file).get("SLACK_API_TOKEN")
    if token:
        try:
            values["SLACK_TEAM_ID"] = _team_id(args, token)
        except (SlackApiError, ConfigError, OSError) as exc:
            return fail(
                f"Slack's auth.test refused the bot token or did not answer "
                f"({describe_failure(exc)}); "
                "check SLACK_API_TOKEN"
            )
    try:
        update_env_file(env_file, values, force=args.force)
    except EnvFileRefused as exc:
        return fail(str(exc))
    try:
        config = load_config(env_file=env_file)
    except ConfigError as exc:
        print(f"{env_file} is written; what is still missing or wrong:", file=sys.stderr)
        print(exc, file=sys.stderr)
        return 2
    print(render_table(config))
    if args.target:
        print()
        print(for_deploy(args.target, env_file))
    return 0


def _gathered(args: argparse.Namespace, current: dict[str, str]) -> dict[str, str]:
    ask = sys.stdin.isatty() and not args.no_input
    values: dict[str, str] = {}
    for attribute, name, question, secret in ASKED:
        given = getattr(args, attribute)
        if not given and ask and not current.get(name):
            given = getpass.getpass(f"{question}: ") if secret else input(f"{question}: ")
        if given:
            values[name] = given.strip()
    return values


def _team_id(args: argparse.Namespace, token: str) -> str:
    api_url = load_settings(("SLACK_API_URL",), env_file=env_file_of(args))["SLACK_API_URL"]
    return identify(str(api_url), token).team_id


def for_deploy(target: str, env_file: Path) -> str:
    """What to paste or run to give a deploy the env file's values."""
    if target == "compose":
        return (
            f"docker compose reads {env_file.name} beside docker-compose.yml: copy it there as "
            f"`.env` (mode 600), e.g.\n  scp {env_file} VM:rocket2/.env && ssh VM chmod 600 "
            "rocket2/.env\nthen: docker compose up -d && docker compose run --rm rocket2 "
            "rocket2 doctor"
        )
    if target == "docker":
        return (
            f"docker run --env-file {env_file} … IMAGE   (the file as it is: one line a "
            f"variable)\nthen: docker run --rm --env-file {env_file} IMAGE rocket2 doctor"
        )
    values = existing_values(env_file)
    pairs = [
        shlex.quote(f"{name}={value}")
        for name, value in values.items()
        if name in BY_NAME and not BY_NAME[name].heroku_sets
    ]
    return "heroku config:set " + " ".join(pairs) + "\nthen: heroku run rocket2 doctor"
