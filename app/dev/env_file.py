"""A throwaway .env for running Rocket 2 locally with no accounts (`make run`).

Fresh random secrets and a fresh RSA key every time one is written; Slack's and GitHub's URLs
point at the local stand-ins (app.dev) on 127.0.0.1, which `make run` starts beside the server.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import encode_key

STANDINS_PORT = 5001
ROCKET_PORT = 5000
DEV_TEAM_ID = "T0DEV00001"  # the stand-in workspace (app.dev.slack.TEAM_ID)

HEADER = """\
# Throwaway local-development config written by `make run` (scripts/dev_run.sh).
# Random secrets and a fresh RSA key; Slack and GitHub are the local stand-ins on 127.0.0.1
# (`rocket2 dev standins`, state in data/dev/). Delete this file to get a new one.
"""


def dev_env_text(standins_port: int = STANDINS_PORT, rocket_port: int = ROCKET_PORT) -> str:
    """The text of a complete, valid, throwaway .env (the stand-ins on ``standins_port``,
    Rocket 2 itself on ``rocket_port``: PUBLIC_URL, where the link flow comes back)."""
    standins = f"http://127.0.0.1:{standins_port}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    values = {
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "SLACK_API_TOKEN": f"xoxb-dev-{secrets.token_hex(12)}",
        "GITHUB_APP_ID": "1",
        "GITHUB_ORG_NAME": "rocket2-dev",
        "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
        "SLACK_TEAM_ID": DEV_TEAM_ID,
        "SLACK_API_URL": f"{standins}/api/",
        "SLACK_RESPONSE_URL_ORIGINS": standins,
        "GITHUB_API_URL": f"{standins}/github",
        "GITHUB_OAUTH_URL": f"{standins}/github",
        "GITHUB_CLIENT_ID": f"Iv23liDev{secrets.token_hex(6)}",
        "GITHUB_CLIENT_SECRET": secrets.token_hex(20),
        "PUBLIC_URL": f"http://127.0.0.1:{rocket_port}",
        "LOG_FORMAT": "text",
    }
    lines = [f"{name}={value}" for name, value in values.items()]
    lines.append(encode_key(pem, "dotenv"))
    return HEADER + "\n".join(lines) + "\n"


def write_dev_env(
    path: Path, standins_port: int = STANDINS_PORT, rocket_port: int = ROCKET_PORT
) -> bool:
    """Write a throwaway .env at ``path`` (mode 0600) unless one exists; True if written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dev_env_text(standins_port, rocket_port))
    return True


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dev-env` on the top-level rocket2 parser."""
    dev_env = subparsers.add_parser("dev-env", help="write a throwaway local-development .env")
    dev_env.add_argument("--path", default=".env", help="where to write it (default: ./.env)")
    dev_env.add_argument("--standins-port", type=int, default=5001, help="stand-ins' port (5001)")
    dev_env.add_argument("--port", type=int, default=5000, help="Rocket 2's port (5000)")
    dev_env.set_defaults(func=cmd_dev_env)


def cmd_dev_env(args: argparse.Namespace) -> int:
    """Write a throwaway .env unless one exists; say which."""
    path = Path(args.path)
    if write_dev_env(path, args.standins_port, args.port):
        print(f"wrote a throwaway development config to {path} (fresh key, random secrets)")
    else:
        print(f"using the existing {path}")
    return 0
