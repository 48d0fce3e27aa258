"""`rocket2 setup slack`: print and check the Slack app manifest; with an app configuration
token, create (or --update) the app through Slack's Manifest API and keep its signing secret."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.setup.envfile import EnvFileRefused, update_env_file
from app.setup.slack_manifest import build_manifest, creation_link, manifest_problems
from app.slack import manifests
from config import ConfigError, load_settings, operator_variable
from config.parsers import public_url

FAILED = 2


def fail(message: str) -> int:
    """Say what went wrong on stderr; the exit status of a failed setup."""
    print(f"setup: {message}", file=sys.stderr)
    return FAILED


def checked_public_url(text: str) -> str:
    """The --public-url as PUBLIC_URL stores it; ValueError in operator words."""
    try:
        url = public_url(text)
    except ValueError as exc:
        raise ValueError(f"--public-url {exc} (e.g. https://rocket2.example.org)") from None
    if not url:
        raise ValueError("--public-url is required (e.g. https://rocket2.example.org)")
    return url


def env_file_of(args: argparse.Namespace) -> str | None:
    """The --env-file when it exists (settings are read from it too)."""
    return args.env_file if Path(args.env_file).is_file() else None


def cmd_setup_slack(args: argparse.Namespace) -> int:
    """Build, check and write the manifest; create or update the app with a token."""
    try:
        manifest = build_manifest(checked_public_url(args.public_url), args.name)
    except ValueError as exc:
        return fail(str(exc))
    problems = manifest_problems(manifest)
    if problems:
        return fail(
            "the manifest breaks Slack's schema or Rocket 2's rules:\n  " + "\n  ".join(problems)
        )
    Path(args.manifest_file).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    token = args.config_token or operator_variable("SLACK_CONFIG_TOKEN", env_file=env_file_of(args))
    if not token:
        print(json.dumps(manifest, indent=2))
        print_by_hand(args.manifest_file, manifest)
        return 0
    try:
        api_url = load_settings(("SLACK_API_URL",), env_file=env_file_of(args))["SLACK_API_URL"]
    except ConfigError as exc:
        return fail(str(exc))
    try:
        manifests.validate(api_url, token, manifest)
        if args.update:
            manifests.update(api_url, token, args.update, manifest)
            print(f"Slack app {args.update} updated: its URLs now point at {args.public_url}.")
            return 0
        return _created(args, manifests.create(api_url, token, manifest))
    except manifests.ManifestApiError as exc:
        return fail(str(exc))


def _created(args: argparse.Namespace, app: manifests.CreatedApp) -> int:
    try:
        update_env_file(
            Path(args.env_file), {"SLACK_SIGNING_SECRET": app.signing_secret}, args.force
        )
    except EnvFileRefused as exc:
        print(f"Slack app {app.app_id} created.", file=sys.stderr)
        return fail(f"{exc}. Copy the signing secret from the app's Basic Information page")
    print(f"Slack app {app.app_id} created; its signing secret is in {args.env_file}.")
    print("Next:")
    print(f"  1. install it to the workspace: {app.oauth_authorize_url}")
    print("  2. copy the Bot User OAuth Token (xoxb-…) from its OAuth & Permissions page")
    print(f"  3. rocket2 setup env --env-file {args.env_file} --slack-token xoxb-…")
    return 0


def print_by_hand(path: str, manifest: dict[str, Any]) -> None:
    """The creation link and the three steps after it (on stderr: stdout is the manifest)."""
    lines = [
        "",
        f"The manifest is also in {path} (paste it if Slack's screen comes up empty).",
        "Create the app from it (choose 'From a manifest' and your workspace):",
        f"  {creation_link(manifest)}",
        "Then:",
        "  1. Install to Workspace (Slack shows it after creating the app)",
        "  2. copy the Bot User OAuth Token (OAuth & Permissions) and the Signing Secret "
        "(Basic Information)",
        "  3. rocket2 setup env --slack-token xoxb-… --signing-secret …",
    ]
    print("\n".join(lines), file=sys.stderr)
