"""A throwaway .env for running Rocket 2 locally with no accounts (`make run`).

Fresh random secrets and a fresh RSA key every time one is written; the Slack and GitHub API
URLs point at a closed local port, so every outside call fails at once and is logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import encode_key

UNREACHABLE_API = "http://127.0.0.1:9/"  # the discard port: nothing listens, connect fails fast

HEADER = """\
# Throwaway local-development config written by `make run` (scripts/dev_run.sh).
# Random secrets and a fresh RSA key; Slack and GitHub are pointed at nothing reachable,
# so outside calls fail softly (one log line each). Delete this file to get a new one.
"""


def dev_env_text() -> str:
    """The text of a complete, valid, throwaway .env."""
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
        "SLACK_API_URL": UNREACHABLE_API,
        "GITHUB_API_URL": UNREACHABLE_API,
        "LOG_FORMAT": "text",
    }
    lines = [f"{name}={value}" for name, value in values.items()]
    lines.append(encode_key(pem, "dotenv"))
    return HEADER + "\n".join(lines) + "\n"


def write_dev_env(path: Path) -> bool:
    """Write a throwaway .env at ``path`` (mode 0600) unless one exists; True if written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dev_env_text())
    return True
